"""Planner reasons and rule refusals in the reader's language.

The scheduler (plain Python) writes each reason and violation as an English
template with raw params (:mod:`scheduler.phrases`); the templates are listed
here once more, marked with ``gettext_noop`` so ``makemessages`` extracts them
(``tests/dispatch/test_texts.py`` checks that none is missing). The catalogue
translates the ``{name}`` templates themselves (``python-brace-format``, which
``msgfmt --check-format`` checks); :func:`render` fills the translation with
params made readable in the active language: skill codes become skill labels,
days ``Mon 11/30`` / ``11/30 (月)``, lists are joined with ``", "`` / ``"、"``.

Stored reasons (a plan's ``unassigned``) keep ``rule``, the English
``message``, ``template`` and JSON ``params`` (:func:`as_json`); rows written
before templates existed have only a message, which is shown as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from django.conf import settings
from django.utils import dateformat, translation
from django.utils.translation import get_language, gettext, gettext_noop

import scheduler
from scheduler.phrases import to_json

from .skills import skill_labels

SCHEDULER_TEMPLATES = (
    gettext_noop("job {job} is not in the problem"),
    gettext_noop("job {job} appears twice in the route"),
    gettext_noop("crew {crew} is not in the problem"),
    gettext_noop("crew {crew} does not work on {day}"),
    gettext_noop("crew {crew} lacks skill(s) {skills}"),
    gettext_noop("job needs {members} members, crew {crew} has {crew_members}"),
    gettext_noop("{day} is not an allowed day: {why}"),
    gettext_noop("the job can start {day} at the earliest"),
    gettext_noop("it is due {day} (promised to the customer)"),
    gettext_noop("it was promised for {days}"),
    gettext_noop("the customer is unavailable"),
    gettext_noop("its dates forbid it"),
    gettext_noop("the crew leaves home at {time}, before its shift starts at {shift_start}"),
    gettext_noop("starts {start}, outside its access windows ({windows})"),
    gettext_noop("starts {seconds} s after {when}, off the {grid}-second time grid"),
    gettext_noop("only {free} min free before the visit, {required} min required"),
    gettext_noop(
        "the {minutes}-min lunch before this visit leaves too little time to drive there (and "
        "keep the minimum gap)"
    ),
    gettext_noop("the crew is home at {time}, after its shift ends at {shift_end}"),
    gettext_noop("reported return time is inconsistent"),
    gettext_noop("a lunch is planned on a crew-day without one"),
    gettext_noop("no room for the lunch break ({earliest}–{latest}, {minutes} min) on {day}"),
    gettext_noop(
        "the lunch starts at {time}, outside its window ({earliest}–{latest}, {minutes} min)"
    ),
    gettext_noop("the reported lunch end is not its start plus its duration"),
    gettext_noop("the crew leaves home during its lunch"),
    gettext_noop("the lunch overlaps the visit of job {job}"),
    gettext_noop("the crew is back home during its lunch"),
    gettext_noop("leg differs from the travel matrix"),
    gettext_noop("arrives before the travel time allows"),
    gettext_noop("starts before arriving"),
    gettext_noop("end is not start + duration"),
    gettext_noop("work + travel {busy} exceed the cap of {cap} ({share:.0%} of the shift)"),
    gettext_noop(
        "work + travel {busy} exceed the cap of {cap} ({share:.0%} of the shift minus lunch)"
    ),
    gettext_noop("{jobs} jobs, at most {max_jobs} a day"),
    gettext_noop("demand {demand} exceeds capacity {capacity}"),
    gettext_noop("route totals {reported} differ from recomputed {recomputed}"),
    gettext_noop("job {job} is planned {times} times"),
    gettext_noop("locked visit is not planned"),
    gettext_noop("locked on crew {crew} {day}, planned on crew {planned_crew} {planned_day}"),
    gettext_noop("locked at position {position}, planned at {planned}"),
    gettext_noop("job neither planned nor unassigned"),
    gettext_noop("job both planned and unassigned"),
    gettext_noop("unassigned job without a reason"),
    gettext_noop("objective term {term}: reported {reported}, recomputed {recomputed}"),
    gettext_noop("plan KPIs differ from the routes"),
    gettext_noop("no crew has all the skills {skills}"),
    gettext_noop("no crew has all the skills {skills} ({missing} is missing everywhere)"),
    gettext_noop("needs {members} members; the largest crew with the skills has {largest}"),
    gettext_noop("locked on crew {crew} {day}, but it does not fit there at the end of the route"),
    gettext_noop("no crew with the skills and members works on an allowed day"),
    gettext_noop(
        "fits alone on {crew_days} crew-day(s), but they were already full when its turn came"
    ),
    gettext_noop("no access window can be reached from a home base"),
    gettext_noop("the visit and the drive from and back home exceed every shift"),
    gettext_noop("work and drive alone exceed every crew-day's cap"),
    gettext_noop("every qualifying crew-day allows no jobs"),
    gettext_noop("needs {units} units, more than any crew carries"),
    gettext_noop("the visit leaves no room for the crews' lunch breaks on its days"),
    gettext_noop("no single crew-day satisfies all rules at once"),
    gettext_noop("locked on crew {crew} {day}, where it cannot be kept"),
    gettext_noop("locked on crew {crew} {day}, which that crew does not work"),
    gettext_noop("no crew has the skill(s) {skills}"),
    gettext_noop("no crew with the skills has {members} members"),
    gettext_noop("demand of {units} units exceeds the capacity of every qualified crew"),
    gettext_noop("every qualified crew may do 0 jobs a day"),
    gettext_noop(
        "the visit ({minutes} min) with the drive from and back home does not fit in any "
        "qualified crew's shift"
    ),
    gettext_noop(
        "the visit with the drive from and back home exceeds every qualified crew-day's "
        "utilization cap"
    ),
    gettext_noop(
        "promised {promise}: the customer's access windows ({windows}) do not overlap the promise"
    ),
    gettext_noop(
        "promised {promise}: no start can be reached from a qualified crew's home and left in "
        "time to be back by the end of the shift"
    ),
    gettext_noop(
        "no access window ({windows}) can be reached from a qualified crew's home and left in "
        "time to be back by the end of the shift"
    ),
    gettext_noop(
        "the visit ({minutes} min) with the drive from and back home leaves no room for the "
        "lunch break ({earliest}–{latest} start, {lunch_minutes} min) of any qualified "
        "crew-day"
    ),
    gettext_noop("{shown} and {more} more"),
    gettext_noop("can start {day} at the earliest"),
    gettext_noop("due {day} (promised to the customer)"),
    gettext_noop("promised for {days}"),
    gettext_noop("the customer is unavailable {days}"),
    gettext_noop("the plan has no crew-days"),
    gettext_noop("the plan covers {days}"),
    gettext_noop("no qualified crew works {days}"),
    gettext_noop("{conditions}; {verdict}"),
    gettext_noop(
        "locked visit conflicts with the other locked visits or the rules of its crew-day"
    ),
    gettext_noop(
        "the search stopped before this job could be placed (time limit reached before it was "
        "checked)"
    ),
    gettext_noop(
        "the search was stopped before this job could be placed; it fits on crew {crew} {day}"
    ),
    gettext_noop("the search ended before this job could be placed; it fits on crew {crew} {day}"),
    gettext_noop(
        "fits on crew {crew} {day}, but adding it costs more than leaving it unassigned "
        "({penalty:,} yen)"
    ),
    gettext_noop(
        "fits alone on {crew_days} crew-day(s), but their time is used up by work of equal or "
        "higher priority"
    ),
    gettext_noop(
        "fits alone on {crew_days} crew-day(s), but their time is used up by other work "
        "(lower-priority jobs there are cheaper to serve)"
    ),
    gettext_noop("the search stopped before it found any plan"),
    gettext_noop(
        "fits alone on {crew_days} crew-day(s), but the published visits leave no gap for it"
    ),
)
"""Every template of :data:`scheduler.phrases.TEMPLATES`, for ``makemessages``."""

# Reasons and refusals the Django side adds (screening, manual edits).
NO_COORDINATES = gettext_noop("the site has no coordinates yet")
#: A readiness blocker (survey, permissions): its sentence is written in every language.
BLOCKED = gettext_noop("{blocker}")
NOT_FINISHED_ON = gettext_noop("not finished on {day}: {reason}")
ACCESS_TOO_SHORT = gettext_noop(
    "the job takes {minutes} min but the building is open {hours}: no opening on {days} is "
    "long enough"
)
PROMISE_OUTSIDE_PLAN = gettext_noop(
    "promised to the customer on {days}, outside this plan ({plan_days})"
)
LIVE_ELSEWHERE = gettext_noop("already on the live schedule: {crew} on {day} (plan {plan})")
CREW_CLOSED = gettext_noop("{crew} does not work on {day}: {closure}")
OUTSIDE_PLAN_DATES = gettext_noop("{day} is outside the plan's dates")
DAY_GONE = gettext_noop("{day} has passed: new work goes on today or later")
CREW_DAY_TAKEN = gettext_noop(
    "{crew} is already on the road on {day} for plan {plan}; revise that plan to change this "
    "crew's day"
)
CREW_DAY_OTHER_REGION = gettext_noop(
    "{crew} on {day} was given to another region's plan of this week"
)
WORK_STARTED = gettext_noop("the work has started; the visit cannot move")
SCHEDULED_ELSEWHERE = gettext_noop(
    "the job is already scheduled for {crew} on {day} in plan {plan}; place it with take_over "
    "to move it into this plan when this plan is published"
)
NOT_READY = gettext_noop(
    "the job is {status}; only jobs ready to plan (survey done, permissions granted) can be placed"
)
FIXED_VISIT_OUTSIDE = gettext_noop("its fixed visit is outside this plan's crews or days")
LOCKED_ON_DAY_GONE = gettext_noop(
    "it was pinned by hand to {day}, which has passed; drag it to today or later"
)
FIELD_RECORD_STAYS = gettext_noop(
    "the crew was sent here on {day}, which has passed; the visit stays until its report comes "
    "(a 'not finished' report frees it)"
)
CANNOT_UNASSIGN_LOCKED = gettext_noop("a locked or started visit cannot be unassigned")
SLOT_GAVE_WAY = gettext_noop(
    "gave way to a visit slot promised to a customer: {crew} at {when}; place it again"
)
TAKEN_OUT_BY_HAND = gettext_noop("taken out of the plan by hand")
TAKEN_OUT_BY_HAND_BY = gettext_noop("taken out of the plan by hand by {user}")

#: Params that hold skill codes (shown as the skills' labels).
SKILL_PARAMS = frozenset({"skills", "missing"})
#: Params that hold a crew id; ``<name>_name``, when present, is what people read.
CREW_PARAMS = frozenset({"crew", "planned_crew"})


class HasText(Protocol):
    """A :class:`scheduler.Reason` or :class:`scheduler.Violation`."""

    @property
    def rule(self) -> str: ...

    @property
    def message(self) -> str: ...

    @property
    def template(self) -> str: ...

    @property
    def params(self) -> Mapping[str, object]: ...


def _japanese() -> bool:
    return (get_language() or "").lower().startswith("ja")


def _join(items: list[str]) -> str:
    return ("、" if _japanese() else ", ").join(items)


def _join_clauses(items: list[str]) -> str:
    return ("、" if _japanese() else "; ").join(items)


def day_label(date: dt.date) -> str:
    """A day as people read it: ``Mon 11/30`` in English, ``11/30 (月)`` in Japanese."""
    weekday = dateformat.format(date, "D")  # translated by Django's own catalogue
    if _japanese():
        return f"{date.month}/{date.day} ({weekday})"
    return f"{weekday} {date.month}/{date.day}"


def _day(value: Mapping[str, Any]) -> str:
    if value.get("date"):
        return day_label(dt.date.fromisoformat(value["date"]))
    return gettext("day %(number)s") % {"number": value.get("day")}


def _localized(name: str, value: Any) -> Any:
    """One param in the active language (see :mod:`scheduler.phrases` for the shapes)."""
    if isinstance(value, list):
        items = skill_labels(value) if name in SKILL_PARAMS else value
        return _join([str(_localized("", item)) for item in items])
    if isinstance(value, str) and name in SKILL_PARAMS:
        return _join(skill_labels([value]))
    if not isinstance(value, Mapping):
        return value
    if "template" in value:
        return render(value["template"], value.get("params") or {})
    if "clauses" in value:
        return _join_clauses([str(_localized("", item)) for item in value["clauses"]])
    if "start" in value and "end" in value:
        start, end = value["start"], value["end"]
        dash = "〜" if _japanese() else "–"
        if start.get("date") == end.get("date") and start.get("day") == end.get("day"):
            return f"{_localized('', start)}{dash}{end.get('time', '')}"
        return f"{_localized('', start)}{dash}{_localized('', end)}"
    if "first" in value and "last" in value:
        first, last = _day(value["first"]), _day(value["last"])
        return first if first == last else f"{first}〜{last}" if _japanese() else f"{first}–{last}"
    if "time" in value:
        return f"{_day(value)} {value['time']}"
    if "seconds" in value:
        seconds = int(value["seconds"])
        return gettext("%(hours)d h %(minutes)02d min") % {
            "hours": seconds // 3600,
            "minutes": seconds % 3600 // 60,
        }
    if "date" in value and "day" in value:
        return _day(value)
    if "en" in value:  # a text the caller already wrote in each language
        return value.get("ja" if _japanese() else "en") or value["en"]
    return value


def render(template: str, params: Mapping[str, Any]) -> str:
    """``template`` translated into the active language and filled with localized ``params``."""
    localized = {name: _localized(name, value) for name, value in params.items()}
    for name in CREW_PARAMS:
        if params.get(f"{name}_name"):
            localized[name] = params[f"{name}_name"]
    return gettext(template).format(**localized)


def render_row(row: Mapping[str, Any]) -> str:
    """A stored reason (``{rule, message, template?, params?}``) in the active language.

    A row without a template (written before reasons had one, or by code that
    only has a sentence) shows its stored message; so does a row whose template
    and params no longer fit together.
    """
    template = row.get("template")
    message = str(row.get("message", ""))
    if not template:
        return message
    try:
        return render(str(template), row.get("params") or {})
    except (KeyError, IndexError, ValueError, TypeError):
        return message


def as_json(item: HasText, **extra: Any) -> dict[str, Any]:
    """A reason or violation as stored or sent: rule, English message, template, JSON params."""
    params = to_json(item.params)
    row: dict[str, Any] = {"rule": item.rule, "message": item.message}
    if item.template:
        row["template"] = item.template
    row["params"] = {**params, **extra}
    return row


def localized_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A stored reason for a reader: its ``message`` in the active language, ``params`` kept."""
    return {**row, "message": render_row(row), "params": row.get("params") or {}}


def text_of(item: HasText) -> str:
    """A live reason or violation in the active language."""
    return render_row(as_json(item))


def day_param(date: dt.date, index: int | None = None) -> dict[str, Any]:
    """A calendar day as a param (the JSON shape of :class:`scheduler.phrases.Day`)."""
    return {"day": index, "date": date.isoformat()}


def days_param(first: dt.date, last: dt.date) -> dict[str, Any]:
    """A day range as a param (the JSON shape of :class:`scheduler.phrases.DayRange`)."""
    return {"first": day_param(first), "last": day_param(last)}


def in_every_language(write: Callable[[], str]) -> dict[str, str]:
    """A sentence written by ``write`` in each of the site's languages, as a param.

    For sentences composed by Django-side code with gettext (readiness
    blockers): stored once, shown later in the reader's language.
    """
    written: dict[str, str] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            written[code] = write()
    return written


def english(template: str, params: Mapping[str, Any]) -> str:
    """The English sentence of a template and JSON params (the ``message`` kept for logs)."""
    with translation.override("en"):
        return render(template, params)


def stored(rule: str, template: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A reason the Django side writes into a plan's ``unassigned``."""
    params = dict(params or {})
    return {
        "rule": rule,
        "message": english(template, params),
        "template": template,
        "params": params,
    }


def violation(
    rule: str, template: str, params: Mapping[str, Any] | None = None, job_id: str | None = None
) -> scheduler.Violation:
    """A refusal the Django side adds to the validator's, with JSON params."""
    params = dict(params or {})
    return scheduler.Violation(
        rule, english(template, params), job_id, params=params, template=template
    )


def localized_unassigned(rows: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """A plan's ``unassigned`` for a reader: each reason's ``message`` in the active language."""
    return [
        {**row, "reasons": [localized_row(reason) for reason in row.get("reasons") or []]}
        for row in rows
    ]
