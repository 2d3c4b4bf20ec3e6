"""HTML of one week-board cell, built in Python.

A 100-crew week has 500 cells and 1,500 visits; through the template engine
each cell cost about 3 ms (a variable lookup and a translation per field), the
whole board over a second. Plain string building with the labels translated
once per request does the same in a few percent of that, and stays the one
place that draws a cell: the board page and its fragments both call
:func:`cell_html` (through the ``board_cell`` template tag).
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from django.utils.translation import gettext

from dispatch.board import Cell

from .formats import css_pct, hm, pct


@dataclass(frozen=True)
class Labels:
    """The cell's words in the active language, looked up once per request."""

    bar: str
    figures_title: str
    drive: str
    free: str
    lock: str
    lock_action: str
    unlock_action: str
    locked: str
    map: str
    map_of: str

    @classmethod
    def current(cls) -> Labels:
        return cls(
            bar=gettext("Work, drive and free time over the shift"),
            figures_title=gettext("Work · drive · free time (slack) · utilization · km"),
            drive=gettext("drive"),
            free=gettext("free"),
            lock=gettext("lock"),
            lock_action=gettext("Lock"),
            unlock_action=gettext("Unlock"),
            locked=gettext("locked"),
            map=gettext("map"),
            map_of=gettext("Map of"),
        )


#: Colours of the day bar (see board.css): work, driving, free time.
_COLOURS = {"work": "#0b63c5", "travel": "#f0a202", "home": "#f0a202"}
_FREE = "#d9f2e0"


def _bar_gradient(cell: Cell) -> str:
    """The whole day bar as one CSS gradient: hard colour stops, no child elements.

    Thousands of absolutely positioned spans (one per drive and per visit)
    were half of the browser's work on a 1,500-visit board; one background
    per cell draws the same picture.
    """
    stops = []
    at = 0.0
    for segment in sorted(cell.segments, key=lambda s: s.left):
        if segment.left > at:
            stops.append(f"{_FREE} {css_pct(at)} {css_pct(segment.left)}")
        end = segment.left + segment.width
        stops.append(f"{_COLOURS[segment.kind]} {css_pct(segment.left)} {css_pct(end)}")
        at = max(at, end)
    if at < 100:
        stops.append(f"{_FREE} {css_pct(at)} 100%")
    return f"linear-gradient(to right,{','.join(stops)})"


def _bar_title(cell: Cell) -> str:
    return "; ".join(segment.label for segment in cell.segments if segment.kind != "work")


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def cell_html(cell: Cell, editable: bool, labels: Labels) -> str:
    crew = cell.crew
    day = cell.date.isoformat()
    crew_name = _attr(crew.name)
    classes = "cell" + (" off" if not cell.works else "") + (" warn" if cell.warnings else "")
    out = [
        f'<div role="cell" id="cell-{crew.pk}-{cell.date:%Y%m%d}" class="{classes}" '
        f'data-swap data-cell="{crew.pk}:{day}">'
    ]
    figures = cell.figures
    if cell.visits and figures is not None:
        out.append(
            f'<div class="bar" style="background:{_bar_gradient(cell)}" '
            f'title="{_attr(labels.bar)}: {_attr(_bar_title(cell))}" '
            f'data-work="{sum(1 for s in cell.segments if s.kind == "work")}">'
        )
        # One text node per line of figures: a 500-cell board is mostly DOM weight.
        out.append(
            f'</div><p class="figs" title="{_attr(labels.figures_title)}">'
            f"{hm(figures.work_minutes)} · {escape(labels.drive)} {hm(figures.drive_minutes)}"
            f" · {escape(labels.free)} {hm(figures.slack_minutes)} · "
            f"{pct(figures.utilization)} · {figures.km} km</p>"
        )
    elif not cell.works:
        out.append(f'<p class="off-reason">{escape(cell.off_reason)}</p>')
    droppable = "true" if editable and cell.works else "false"
    out.append(
        f'<ol class="route" data-crew="{crew.pk}" data-crew-name="{crew_name}" '
        f'data-date="{day}" data-droppable="{droppable}" aria-label="{crew_name} {day}">'
    )
    for item in cell.visits:
        visit = item.visit
        job = visit.job
        ref = escape(job.reference)
        classes = (
            "visit"
            + (" locked" if visit.locked else "")
            + (" fixed" if item.fixed else "")
            + (" late" if item.late else "")
        )
        out.append(
            f'<li class="{classes}" data-visit="{visit.pk}" data-ref="{ref}" '
            f'title="{_attr(item.skills)}">'
            f'<span class="time">{item.start}–{item.end}</span> '
            f'<a href="#" class="job-link" data-drawer="{visit.job_id}">{ref}</a>'
        )
        if editable and not item.fixed:
            action = labels.unlock_action if visit.locked else labels.lock_action
            text = labels.locked if visit.locked else labels.lock
            pressed = "true" if visit.locked else "false"
            out.append(
                f'<button type="button" class="lock" data-lock="{visit.pk}" '
                f'aria-pressed="{pressed}" aria-label="{_attr(action)} {ref}">'
                f"{escape(text)}</button>"
            )
        elif visit.locked:
            out.append(f'<span class="lock-mark">{escape(labels.locked)}</span>')
        out.append(f' <span class="site">{escape(job.site.name)}</span></li>')
    out.append("</ol>")
    if cell.warnings:
        out.append('<ul class="warnings">')
        out.extend(f"<li>{escape(w)}</li>" for w in cell.warnings)
        out.append("</ul>")
    if cell.visits:
        out.append(
            f'<button type="button" class="map-link" data-map-crew="{crew.pk}" '
            f'data-map-date="{day}" aria-label="{_attr(labels.map_of)} {crew_name} {day}">'
            f"{escape(labels.map)}</button>"
        )
    out.append("</div>")
    return "".join(out)
