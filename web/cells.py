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

from django.urls import reverse
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
    pinned_title: str
    lock_title: str
    map: str
    map_of: str
    held: str
    held_title: str
    out_of_scope: str
    out_of_scope_title: str

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
            locked=gettext("pinned"),
            pinned_title=gettext(
                "Pinned by hand: Optimize keeps it here; unlock to let the optimizer move it"
            ),
            lock_title=gettext("Pin it here: Optimize will keep it where it is"),
            map=gettext("map"),
            map_of=gettext("Map of"),
            held=gettext("On the road for plan %(plan)s"),
            held_title=gettext(
                "Another published plan has this crew out this day: a crew-day is one route. "
                "Revise that plan to change it."
            ),
            out_of_scope=gettext("Another region's plan"),
            out_of_scope_title=gettext(
                "This crew-day was given to another region's plan of this week."
            ),
        )


#: A push pin, drawn inline (no icon font, no emoji font needed).
PIN_ICON = (
    '<svg class="pin-icon" viewBox="0 0 16 16" width="11" height="11" aria-hidden="true" '
    'focusable="false"><path fill="currentColor" d="M10.3 1 15 5.7l-1.2 1.2-.9-.6-2.7 '
    "2.7.4 3.3-1.3 1.3-2.6-2.6L3 15.7 1.6 15.4 1.3 14l4.7-4.7-2.6-2.6 1.3-1.3 3.3.4 "
    '2.7-2.7-.6-.9z"/></svg>'
)


#: Colours of the day bar (see board.css): work, driving, lunch, free time.
_COLOURS = {"work": "#0b63c5", "travel": "#f0a202", "home": "#f0a202", "lunch": "#8a94a6"}
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
    classes = (
        "cell"
        + (" off" if not cell.works else "")
        + (" held" if cell.held_by is not None or cell.out_of_scope else "")
        + (" warn" if cell.warnings else "")
        + (" gone" if cell.gone else "")
    )
    held = f' data-held-by="{cell.held_by}"' if cell.held_by is not None else ""
    # A closed day (holiday, closure, absence, day off) is hatched; the reason is its tooltip.
    closed = (
        f' data-closed="{_attr(cell.closed_code)}" title="{_attr(cell.off_reason)}"'
        if not cell.works
        else ""
    )
    out = [
        f'<div role="cell" id="cell-{crew.pk}-{cell.date:%Y%m%d}" class="{classes}" '
        f'data-swap data-cell="{crew.pk}:{day}"{held}{closed}>'
    ]
    if cell.held_by is not None:
        link = f'<a href="{reverse("web:board", args=[cell.held_by])}">{cell.held_by}</a>'
        out.append(
            f'<p class="held-by" title="{_attr(labels.held_title)}">'
            f"{escape(labels.held) % {'plan': link}}</p>"
        )
    elif cell.out_of_scope:
        out.append(
            f'<p class="held-by" title="{_attr(labels.out_of_scope_title)}">'
            f"{escape(labels.out_of_scope)}</p>"
        )
    figures = cell.figures
    if cell.segments and figures is not None:
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
    droppable = "true" if editable and cell.usable else "false"
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
            + (" released" if item.released else "")
        )
        out.append(
            f'<li class="{classes}" data-visit="{visit.pk}" data-ref="{ref}" '
            f'title="{_attr(item.skills)}">'
            f'<span class="time">{item.start}–{item.end}</span> '
            f'<a href="#" class="job-link" data-drawer="{visit.job_id}">{ref}</a>'
        )
        if editable and not item.fixed:
            if visit.locked:
                out.append(
                    f'<button type="button" class="lock" data-lock="{visit.pk}" '
                    f'aria-pressed="true" aria-label="{_attr(labels.unlock_action)} {ref}" '
                    f'title="{_attr(labels.pinned_title)}">'
                    f"{PIN_ICON} {escape(labels.locked)}</button>"
                )
            else:
                out.append(
                    f'<button type="button" class="lock" data-lock="{visit.pk}" '
                    f'aria-pressed="false" aria-label="{_attr(labels.lock_action)} {ref}" '
                    f'title="{_attr(labels.lock_title)}">{escape(labels.lock)}</button>'
                )
        elif visit.locked and not item.released:
            out.append(
                f'<span class="lock-mark" title="{_attr(labels.pinned_title)}">'
                f"{PIN_ICON} {escape(labels.locked)}</span>"
            )
        out.append(f' <span class="site">{escape(job.site.name)}</span>')
        if item.released:
            out.append(f'<span class="release">{escape(item.released)}</span>')
        out.append("</li>")
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
