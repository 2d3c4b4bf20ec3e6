"""Messages for people as English templates with raw parameters, so they can be translated.

Every reason (:class:`~scheduler.result.Reason`) and violation
(:class:`~scheduler.validate.Violation`) keeps its English ``message`` and
also the ``template`` it came from and the ``params`` it was filled with:
``message == template.format(**params)``. Templates are module-level
constants declared with :func:`template`, which also lists them in
:data:`TEMPLATES` so the web layer can check that each one is in its
translation catalogue.

Parameters carry raw values, never English words: codes, ints, ``"HH:MM"``
times, and these small value types, each of which formats itself in English
(``format(Day(6, "2026-12-07"))`` is ``"12/07"``) and turns into plain JSON
with :func:`to_json` (the shape says what it is, so a translator can render
it in another language without this module):

=================  ==================================================  ====================
type               JSON                                                English
=================  ==================================================  ====================
:class:`Day`       ``{"day": 6, "date": "2026-12-07"}``                ``12/07``
:class:`DayRange`  ``{"first": {day}, "last": {day}}``                 ``12/03–12/07``
:class:`When`      ``{"day": 6, "date": "2026-12-07", "time": "09:00"}`` ``12/07 09:00``
:class:`Window`    ``{"start": {when}, "end": {when}}``                ``12/07 09:00–12:00``
:class:`Duration`  ``{"seconds": 25500}``                              ``7 h 05 min``
:class:`Listing`   ``[...]``                                           ``a, b``
:class:`Clauses`   ``{"clauses": [...]}``                              ``a; b``
:class:`Text`      ``{"template": "...", "params": {...}}``            the filled template
=================  ==================================================  ====================
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

TEMPLATES: dict[str, str] = {}
"""Every message template of the scheduler, by its text (in declaration order)."""


def template(text: str) -> str:
    """Declare a message template (a ``str.format`` string with named fields); returns it."""
    TEMPLATES[text] = text
    return text


def fill(text: str, params: Mapping[str, object]) -> str:
    """The English sentence: ``text.format(**params)``."""
    return text.format(**params)


@dataclass(frozen=True)
class Day:
    """A day of the problem: its index and, when the problem has a first date, its ISO date."""

    index: int
    date: str | None = None

    def __format__(self, spec: str) -> str:
        if self.date is None:
            return f"day {self.index}"
        date = datetime.date.fromisoformat(self.date)
        return f"{date.month:02d}/{date.day:02d}"

    def __str__(self) -> str:
        return format(self)


@dataclass(frozen=True)
class DayRange:
    """Consecutive days, first to last (one day when they are equal)."""

    first: Day
    last: Day

    def __format__(self, spec: str) -> str:
        if self.first == self.last:
            return format(self.first)
        return f"{self.first}–{self.last}"

    def __str__(self) -> str:
        return format(self)


@dataclass(frozen=True)
class When:
    """A moment: a day and its ``"HH:MM"`` time of day."""

    day: Day
    time: str

    def __format__(self, spec: str) -> str:
        return f"{self.day} {self.time}"

    def __str__(self) -> str:
        return format(self)


@dataclass(frozen=True)
class Window:
    """A time window; the end shows its time only when it is on the start's day."""

    start: When
    end: When

    def __format__(self, spec: str) -> str:
        if self.start.day == self.end.day:
            return f"{self.start}–{self.end.time}"
        return f"{self.start}–{self.end}"

    def __str__(self) -> str:
        return format(self)


@dataclass(frozen=True)
class Duration:
    """A length of time, shown in hours and minutes (``"7 h 05 min"``)."""

    seconds: int

    def __format__(self, spec: str) -> str:
        return f"{self.seconds // 3600} h {self.seconds % 3600 // 60:02d} min"

    def __str__(self) -> str:
        return format(self)


class Listing(tuple):
    """Several values of one kind, shown joined by ``", "``."""

    separator = ", "

    def __new__(cls, items: Iterable[object] = ()) -> Listing:
        return super().__new__(cls, items)

    def __format__(self, spec: str) -> str:
        return self.separator.join(format(item) for item in self)

    def __str__(self) -> str:
        return format(self)


class Clauses(Listing):
    """Several statements (:class:`Text`), shown joined by ``"; "``."""

    separator = "; "


@dataclass(frozen=True)
class Text:
    """A phrase inside a message: a template and its params."""

    template: str
    params: Mapping[str, object] = field(default_factory=dict, hash=False)

    def __format__(self, spec: str) -> str:
        return fill(self.template, self.params)

    def __str__(self) -> str:
        return format(self)


def text(template: str, **params: object) -> Text:
    """A :class:`Text`."""
    return Text(template, params)


def to_json(value: Any) -> Any:
    """``value`` (a param or a params mapping) as plain JSON, in the shapes of the module doc."""
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, Day):
        return {"day": value.index, "date": value.date}
    if isinstance(value, When):
        return {"day": value.day.index, "date": value.day.date, "time": value.time}
    if isinstance(value, DayRange):
        return {"first": to_json(value.first), "last": to_json(value.last)}
    if isinstance(value, Window):
        return {"start": to_json(value.start), "end": to_json(value.end)}
    if isinstance(value, Duration):
        return {"seconds": value.seconds}
    if isinstance(value, Text):
        return {"template": value.template, "params": to_json(value.params)}
    if isinstance(value, Clauses):
        return {"clauses": [to_json(v) for v in value]}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_json(v) for v in value]
    return value
