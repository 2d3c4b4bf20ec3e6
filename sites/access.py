"""A building's access hours as data instead of free text.

Surveys used to record "平日 9:00–17:00" as prose, so the planner could not
tell whether a 16:00–18:00 visit would find the door locked. This module holds
the value type the planner, the job drawer, the partner API and the iCal feed
share; :mod:`sites.access_text` turns the usual Japanese spellings into it.

Plain Python on purpose (no Django import): the value type is used by the
planner's pure functions and by the text parser, and must be testable without
a database.

Day keys follow :meth:`datetime.date.weekday` (0 = Monday ... 6 = Sunday) plus
:data:`HOLIDAY` (7). On a national holiday (or any other calendar holiday the
caller knows about) only the holiday ranges apply, whatever weekday it is: a
building manager's "平日" never includes a Monday that is a holiday.

Times are whole minutes. The end of the day ("24:00") cannot be a
:class:`datetime.time`, so it is represented by :data:`END_OF_DAY`
(``datetime.time.max``) and written as ``"24:00"`` in JSON and in text. A
visit can therefore run until midnight but never across it; ranges that cross
midnight ("22:00–翌6:00") are not representable and must be split by day.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ALL_DAY_KEYS",
    "END_OF_DAY",
    "HOLIDAY",
    "START_OF_DAY",
    "WEEKDAY_KEYS",
    "AccessHours",
    "AccessHoursError",
    "AccessRange",
    "visit_fits",
]

HOLIDAY = 7
WEEKDAY_KEYS: frozenset[int] = frozenset(range(7))
ALL_DAY_KEYS: frozenset[int] = frozenset(range(8))
START_OF_DAY = dt.time(0, 0)
END_OF_DAY = dt.time.max
"""Stands for 24:00, the end of the day (written "24:00" in JSON and text)."""

_DAY_NAMES_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "holidays")
_DAY_NAMES_JA = "月火水木金土日祝"
_JSON_KEYS = frozenset({"days", "opens", "closes"})
_TIME_RE = re.compile(r"(\d{1,2}):(\d{2})")

Interval = tuple[dt.time, dt.time]


class AccessHoursError(ValueError):
    """Malformed access hours; the message starts with the offending item and field.

    ``path`` is where (``[0].closes``), ``template`` the English sentence with
    ``%(name)s`` fields and ``params`` their values, so a Django layer can say
    it in the reader's language (``sites.access_errors``); ``str()`` is English.
    """

    def __init__(self, path: str, template: str, **params: object) -> None:
        self.path = path
        self.template = template
        self.params = params
        text = template % params
        super().__init__(f"{path}: {text}" if path else text)


#: The sentences of :class:`AccessHoursError` (listed for translation in ``sites.access_errors``).
NOT_A_DAY_LIST = "must be a list of day keys 0-7"
NOT_A_DAY_KEY = "%(value)s is not a day key (0=Mon ... 6=Sun, 7=holiday)"
NO_DAY = "must name at least one day"
OPENS_NOT_MINUTE = "must be a whole-minute time without timezone"
CLOSES_NOT_MINUTE = "must be a whole-minute time or END_OF_DAY (24:00)"
CLOSES_NOT_AFTER = "must be after opens"
NOT_A_TIME = "must be a time HH:MM, got %(value)s"
TIME_OUT_OF_RANGE = "must be a time HH:MM between 00:00 and 23:59"
NOT_A_RANGE = "must be an AccessRange, got %(value)s"
NOT_A_LIST = "must be a list of ranges, got %(type)s"
NOT_AN_OBJECT = "must be an object with days, opens, closes, got %(type)s"
UNKNOWN_FIELD = "unknown field"
REQUIRED = "is required"
CLOSES_BEFORE_OPENS = "must be a time HH:MM after opens"


def _is_whole_minute(value: dt.time) -> bool:
    return value.second == 0 and value.microsecond == 0 and value.tzinfo is None


def _check_days(days: object, where: str) -> frozenset[int]:
    if isinstance(days, str | bytes) or not isinstance(days, Iterable):
        raise AccessHoursError(f"{where}days", NOT_A_DAY_LIST)
    keys: set[int] = set()
    for day in days:
        # bool is an int subclass; True as "Tuesday" is always a bug upstream.
        if isinstance(day, bool) or not isinstance(day, int) or not 0 <= day <= HOLIDAY:
            raise AccessHoursError(f"{where}days", NOT_A_DAY_KEY, value=repr(day))
        keys.add(day)
    if not keys:
        raise AccessHoursError(f"{where}days", NO_DAY)
    return frozenset(keys)


@dataclass(frozen=True, slots=True)
class AccessRange:
    """One opening window that applies on every day key in ``days``.

    ``opens`` is inclusive and ``closes`` exclusive in spirit: a visit fits
    when it starts at or after ``opens`` and ends at or before ``closes``.
    ``closes`` may be :data:`END_OF_DAY` (24:00); ``opens`` may not.
    """

    days: frozenset[int]
    opens: dt.time
    closes: dt.time

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", _check_days(self.days, ""))
        if not isinstance(self.opens, dt.time) or not _is_whole_minute(self.opens):
            raise AccessHoursError("opens", OPENS_NOT_MINUTE)
        if not isinstance(self.closes, dt.time) or not (
            self.closes == END_OF_DAY or _is_whole_minute(self.closes)
        ):
            raise AccessHoursError("closes", CLOSES_NOT_MINUTE)
        if self.opens >= self.closes:
            raise AccessHoursError("closes", CLOSES_NOT_AFTER)


def _merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted, with overlapping or touching windows joined (9–12 + 12–17 is 9–17)."""
    merged: list[Interval] = []
    for opens, closes in sorted(intervals):
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return tuple(merged)


def _format_time(value: dt.time, *, pad: bool = True) -> str:
    if value == END_OF_DAY:
        return "24:00"
    return f"{value.hour:02d}:{value.minute:02d}" if pad else f"{value.hour}:{value.minute:02d}"


def _parse_time(value: object, where: str, *, allow_end_of_day: bool) -> dt.time:
    match = _TIME_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise AccessHoursError(where, NOT_A_TIME, value=repr(value))
    hour, minute = int(match[1]), int(match[2])
    if hour == 24 and minute == 0 and allow_end_of_day:
        return END_OF_DAY
    if hour > 23 or minute > 59:
        raise AccessHoursError(where, TIME_OUT_OF_RANGE)
    return dt.time(hour, minute)


def _runs(keys: Iterable[int]) -> list[list[int]]:
    """Consecutive runs of weekday keys (the holiday key never joins a run)."""
    runs: list[list[int]] = []
    for key in sorted(k for k in keys if k != HOLIDAY):
        if runs and runs[-1][-1] == key - 1:
            runs[-1].append(key)
        else:
            runs.append([key])
    return runs


def _days_en(keys: frozenset[int]) -> str:
    if keys == ALL_DAY_KEYS:
        return "Daily"
    parts: list[str] = []
    for run in _runs(keys):
        if len(run) >= 3:
            parts.append(f"{_DAY_NAMES_EN[run[0]]}–{_DAY_NAMES_EN[run[-1]]}")
        else:
            parts.extend(_DAY_NAMES_EN[key] for key in run)
    if HOLIDAY in keys:
        parts.append(_DAY_NAMES_EN[HOLIDAY])
    return ", ".join(parts)


def _days_ja(keys: frozenset[int], *, closed: bool = False) -> str:
    if keys == ALL_DAY_KEYS:
        return "毎日"
    weekdays = keys - {HOLIDAY}
    if weekdays == frozenset(range(5)) and not closed:
        label = "平日"
    elif weekdays == frozenset({5, 6}):
        label = "土日"
    else:
        parts: list[str] = []
        for run in _runs(weekdays):
            if len(run) >= 3:
                parts.append(f"{_DAY_NAMES_JA[run[0]]}〜{_DAY_NAMES_JA[run[-1]]}")
            else:
                parts.extend(_DAY_NAMES_JA[key] for key in run)
        label = "・".join(parts)
    if HOLIDAY in keys:
        if not label:
            return "祝" if closed else "祝日"
        # 土日祝 and 日祝 are how people write it; anything else reads better with a dot.
        label += "祝" if label in {"土日", "日"} else "・祝"
    return label


@dataclass(frozen=True, slots=True)
class AccessHours:
    """When a building lets technicians in.

    ``ranges`` empty means "no restriction recorded": any time on any day. Once
    there is at least one range the building is open *only* inside the listed
    ranges, and a day key without a range is closed.

    Ranges are normalised on construction (merged per day, then regrouped by
    identical windows and sorted), so two values describing the same schedule
    compare equal and serialise identically. An explicit "00:00–24:00 every
    day" (what a surveyor writes as 24時間) stays distinct from "nothing
    recorded": both plan the same, but the UI can show that someone checked.

    ``bool(hours)`` is ``True`` when there is a restriction, like a container.
    """

    ranges: tuple[AccessRange, ...] = field(default=())

    def __post_init__(self) -> None:
        for index, item in enumerate(self.ranges):
            if not isinstance(item, AccessRange):
                raise AccessHoursError(f"[{index}]", NOT_A_RANGE, value=repr(item))
        object.__setattr__(self, "ranges", self._canonical(self.ranges))

    @staticmethod
    def _canonical(ranges: Iterable[AccessRange]) -> tuple[AccessRange, ...]:
        per_day: dict[int, list[Interval]] = {}
        for item in ranges:
            for day in item.days:
                per_day.setdefault(day, []).append((item.opens, item.closes))
        by_interval: dict[Interval, set[int]] = {}
        for day, intervals in per_day.items():
            for interval in _merge(intervals):
                by_interval.setdefault(interval, set()).add(day)
        grouped = [AccessRange(frozenset(d), o, c) for (o, c), d in by_interval.items()]
        return tuple(
            sorted(grouped, key=lambda r: (min(r.days), r.opens, r.closes, sorted(r.days)))
        )

    # -- queries -------------------------------------------------------------

    @property
    def is_unrestricted(self) -> bool:
        """True when no hours were recorded: any time on any day is fine."""
        return not self.ranges

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def _intervals(self, key: int) -> tuple[Interval, ...]:
        return _merge((r.opens, r.closes) for r in self.ranges if key in r.days)

    def ranges_on(self, date_weekday: int, is_holiday: bool) -> tuple[Interval, ...]:
        """Open windows on one date, merged and sorted.

        A holiday uses the HOLIDAY ranges only. Unrestricted hours return the
        whole day, ``((00:00, END_OF_DAY),)``, so callers need no special case;
        a closed day returns ``()``.
        """
        if isinstance(date_weekday, bool) or date_weekday not in WEEKDAY_KEYS:
            raise ValueError(f"date_weekday must be 0-6 (date.weekday()), got {date_weekday!r}")
        if self.is_unrestricted:
            return ((START_OF_DAY, END_OF_DAY),)
        return self._intervals(HOLIDAY if is_holiday else date_weekday)

    def closed_day_keys(self) -> frozenset[int]:
        """Day keys with no window at all (empty when unrestricted)."""
        if self.is_unrestricted:
            return frozenset()
        return ALL_DAY_KEYS - frozenset().union(*(r.days for r in self.ranges))

    # -- JSON ----------------------------------------------------------------

    def to_json(self) -> list[dict[str, Any]]:
        """Canonical JSON: one item per distinct window, days sorted, "24:00" for END_OF_DAY."""
        return [
            {
                "days": sorted(item.days),
                "opens": _format_time(item.opens),
                "closes": _format_time(item.closes),
            }
            for item in self.ranges
        ]

    @classmethod
    def from_json(cls, value: object) -> AccessHours:
        """Read what :meth:`to_json` wrote (or a hand-written equivalent).

        Strict on shape, because the JSON also arrives from the partner API and
        admin edits: every error names the item and the field. Overlapping or
        duplicate windows are fine; they are merged.
        """
        if not isinstance(value, list | tuple):
            raise AccessHoursError("access hours", NOT_A_LIST, type=type(value).__name__)
        ranges: list[AccessRange] = []
        for index, item in enumerate(value):
            where = f"[{index}]"
            if not isinstance(item, dict):
                raise AccessHoursError(where, NOT_AN_OBJECT, type=type(item).__name__)
            unknown = sorted(str(key) for key in set(item) - _JSON_KEYS)
            if unknown:
                raise AccessHoursError(f"{where}.{unknown[0]}", UNKNOWN_FIELD)
            for key in ("days", "opens", "closes"):
                if key not in item:
                    raise AccessHoursError(f"{where}.{key}", REQUIRED)
            days = item["days"]
            if not isinstance(days, list | tuple):
                raise AccessHoursError(f"{where}.days", NOT_A_DAY_LIST)
            day_keys = _check_days(days, f"{where}.")
            opens = _parse_time(item["opens"], f"{where}.opens", allow_end_of_day=False)
            closes = _parse_time(item["closes"], f"{where}.closes", allow_end_of_day=True)
            if closes <= opens:
                raise AccessHoursError(f"{where}.closes", CLOSES_BEFORE_OPENS)
            ranges.append(AccessRange(day_keys, opens, closes))
        return cls(tuple(ranges))

    # -- text ----------------------------------------------------------------

    def _day_groups(self) -> list[tuple[frozenset[int], tuple[Interval, ...]]]:
        """Day keys sharing the exact same windows, ordered by their first day."""
        groups: dict[tuple[Interval, ...], set[int]] = {}
        for key in sorted(ALL_DAY_KEYS):
            intervals = self._intervals(key)
            if intervals:
                groups.setdefault(intervals, set()).add(key)
        return sorted(
            ((frozenset(days), intervals) for intervals, days in groups.items()),
            key=lambda group: min(group[0]),
        )

    def describe(self, language: str = "en") -> str:
        """Short human text for the job drawer, the partner API and iCal.

        en: ``"Mon–Fri 09:00–17:00; closed Sat, Sun, holidays"``;
        ja: ``"平日 9:00〜17:00（土日祝休）"``. Unknown languages fall back to en.
        """
        japanese = language.lower().startswith("ja")
        if self.is_unrestricted:
            return "制限なし" if japanese else "Any time"
        groups = self._day_groups()
        closed = self.closed_day_keys()
        full_day = ((START_OF_DAY, END_OF_DAY),)
        if japanese:
            if groups == [(ALL_DAY_KEYS, full_day)]:
                return "24時間（年中無休）"
            text = "\uff0f".join(  # full-width solidus
                f"{_days_ja(days)} "
                + (
                    "24時間"
                    if intervals == full_day
                    else "、".join(
                        f"{_format_time(o, pad=False)}〜{_format_time(c, pad=False)}"
                        for o, c in intervals
                    )
                )
                for days, intervals in groups
            )
            return f"{text}（{_days_ja(closed, closed=True)}休）" if closed else text
        if groups == [(ALL_DAY_KEYS, full_day)]:
            return "Open 24 hours, every day"
        text = "; ".join(
            f"{_days_en(days)} "
            + (
                "24 hours"
                if intervals == full_day
                else ", ".join(f"{_format_time(o)}–{_format_time(c)}" for o, c in intervals)
            )
            for days, intervals in groups
        )
        return f"{text}; closed {_days_en(closed)}" if closed else text


def visit_fits(
    hours: AccessHours, weekday: int, is_holiday: bool, start: dt.time, end: dt.time
) -> bool:
    """True when the WHOLE visit [start, end] lies inside one open window that day.

    Windows are merged first, so back-to-back ranges (9–12, 12–17) count as one.
    A visit that would need the building to close and reopen does not fit.
    """
    if end <= start:
        raise ValueError(f"a visit must end after it starts ({start}–{end})")
    return any(
        opens <= start and end <= closes for opens, closes in hours.ranges_on(weekday, is_holiday)
    )
