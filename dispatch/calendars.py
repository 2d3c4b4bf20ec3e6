"""Which days a crew works: weekdays, national holidays, closures, absences, extra days.

One rule, in one place, for the week board, the API and the editing services:
nobody is planned on a closed day unless that crew is explicitly marked as
working it (:class:`~dispatch.models.CrewWorkingDay`). A day is closed for a
crew when it is

- not one of the crew's working weekdays (``Crew.working_weekdays``),
- a Japanese national holiday (from the ``holidays`` package, never a typed list:
  the law moves holidays, e.g. the Olympics years, and adds substitute days),
- a closure of the delivery department (:class:`~dispatch.models.CompanyClosure`),
- a closure of the crew's partner company (:class:`~dispatch.models.PartnerClosure`).

An absence (:class:`~dispatch.models.CrewUnavailability`) always closes the
day, even over an extra working day: nobody is sent out who said they are away.

Precedence, which decides the one reason :meth:`WorkCalendar.closed` reports:

1. absence (``"absence"``): wins over everything, extra working days included;
2. extra working day: the crew works, whatever else the day is;
3. company closure (``"company"``), then partner closure (``"partner"``): the
   closures somebody entered on purpose say most about the day;
4. national holiday (``"holiday"``);
5. not a working weekday (``"weekday"``): the least news to anyone.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache

import holidays
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from .models import CompanyClosure, Crew, CrewUnavailability, CrewWorkingDay, PartnerClosure

#: The longest range one calendar loads: closures are spread over every day of it,
#: so a range of centuries (a typo in a year) must fail fast rather than fill memory.
MAX_DAYS = 3 * 366


@dataclass(frozen=True)
class ClosedDay:
    """Why a crew does not work a day: a stable ``code`` and a ``label`` for people."""

    code: str  # "weekday" | "holiday" | "company" | "partner" | "absence"
    label: str


@lru_cache(maxsize=64)
def _national_holidays(year: int, language: str) -> dict[dt.date, str]:
    """Japan's national holidays of ``year`` (substitute holidays included), by date.

    Cached: building the table takes milliseconds, and the board asks per render.
    """
    table = holidays.country_holidays("JP", years=year, language=language)
    return dict(table.items())


def _holiday_language() -> str:
    """``ja`` when the active translation is Japanese, else ``en_US`` (the English UI)."""
    return "ja" if (get_language() or "").startswith("ja") else "en_US"


def national_holiday_name(day: dt.date) -> str | None:
    """The national holiday on ``day`` in the active language, or ``None``."""
    return _national_holidays(day.year, _holiday_language()).get(day)


def national_holidays(start: dt.date, end: dt.date) -> list[tuple[dt.date, str]]:
    """Every national holiday from ``start`` to ``end`` (inclusive), in the active language."""
    language = _holiday_language()
    found: list[tuple[dt.date, str]] = []
    for year in range(start.year, end.year + 1):
        found += [
            (day, name)
            for day, name in _national_holidays(year, language).items()
            if start <= day <= end
        ]
    return sorted(found)


def _days(start: dt.date, end: dt.date) -> Iterator[dt.date]:
    for offset in range((end - start).days + 1):
        yield start + dt.timedelta(days=offset)


def _spread(start: dt.date, end: dt.date, first: dt.date, last: dt.date) -> Iterator[dt.date]:
    """The days of ``start``..``end`` that lie inside the loaded ``first``..``last``."""
    return _days(max(start, first), min(end, last))


class WorkCalendar:
    """The closed days of some crews over a date range, loaded at once.

    Build it with :meth:`load` (four queries, whatever the number of crews or
    days), then ask per crew-day. Days outside the loaded range, or crews not
    loaded, raise :class:`ValueError` / :class:`KeyError` rather than answer
    "works": a silent wrong answer would plan somebody on a holiday.
    """

    def __init__(
        self,
        *,
        start: dt.date,
        end: dt.date,
        crews: dict[int, tuple[int, int]],
        company_closures: dict[dt.date, list[str]],
        partner_closures: dict[tuple[int, dt.date], str],
        working_days: set[tuple[int, dt.date]],
        absences: dict[tuple[int, dt.date], str],
    ) -> None:
        self.start = start
        self.end = end
        self._crews = crews  # crew id -> (company id, working weekday mask)
        self._company_closures = company_closures
        self._partner_closures = partner_closures
        self._working_days = working_days
        self._absences = absences

    @classmethod
    def load(cls, crews: Iterable[Crew], start: dt.date, end: dt.date) -> WorkCalendar:
        """Everything needed to answer for ``crews`` from ``start`` to ``end`` (inclusive).

        Four queries (company closures, partner closures, extra working days,
        absences); the crews' weekdays and companies are read from the given
        instances, so pass them as loaded.
        """
        if end < start:
            raise ValueError("end must be on or after start")
        if (end - start).days >= MAX_DAYS:
            raise ValueError(f"at most {MAX_DAYS} days at once")
        crew_info = {crew.pk: (crew.company_id, crew.working_weekdays) for crew in crews}
        crew_ids = list(crew_info)
        company_ids = {company for company, _mask in crew_info.values()}

        company_closures: dict[dt.date, list[str]] = defaultdict(list)
        for closure in CompanyClosure.objects.filter(
            start_date__lte=end, end_date__gte=start
        ).order_by("start_date", "id"):
            for day in _spread(closure.start_date, closure.end_date, start, end):
                company_closures[day].append(closure.name)

        partner_closures: dict[tuple[int, dt.date], str] = {}
        working_days: set[tuple[int, dt.date]] = set()
        absences: dict[tuple[int, dt.date], str] = {}
        if crew_ids:
            for company_id, first, last, reason in (
                PartnerClosure.objects.filter(
                    company_id__in=company_ids, start_date__lte=end, end_date__gte=start
                )
                .order_by("start_date", "id")
                .values_list("company_id", "start_date", "end_date", "reason")
            ):
                for day in _spread(first, last, start, end):
                    partner_closures.setdefault((company_id, day), reason)
            working_days = set(
                CrewWorkingDay.objects.filter(
                    crew_id__in=crew_ids, date__gte=start, date__lte=end
                ).values_list("crew_id", "date")
            )
            for crew_id, first, last, reason in (
                CrewUnavailability.objects.filter(
                    crew_id__in=crew_ids, start_date__lte=end, end_date__gte=start
                )
                .order_by("start_date", "id")
                .values_list("crew_id", "start_date", "end_date", "reason")
            ):
                for day in _spread(first, last, start, end):
                    absences.setdefault((crew_id, day), reason)
        return cls(
            start=start,
            end=end,
            crews=crew_info,
            company_closures=dict(company_closures),
            partner_closures=partner_closures,
            working_days=working_days,
            absences=absences,
        )

    def _check_day(self, day: dt.date) -> None:
        if not self.start <= day <= self.end:
            raise ValueError(f"{day} is outside the loaded {self.start}..{self.end}")

    def holiday_name(self, day: dt.date) -> str | None:
        """The national holiday's name (Japanese under a ``ja`` translation, else English)."""
        return national_holiday_name(day)

    def is_holiday(self, day: dt.date) -> bool:
        """Whether ``day`` is a national holiday; company closures are not.

        Buildings' "祝日" access hours follow national holidays only, so this
        must not answer ``True`` for 年末年始 unless the law says so.
        """
        return national_holiday_name(day) is not None

    def company_closure(self, day: dt.date) -> str | None:
        """The name of the (first) company closure covering ``day``, or ``None``."""
        names = self.company_closures(day)
        return names[0] if names else None

    def company_closures(self, day: dt.date) -> list[str]:
        """The names of every company closure covering ``day`` (they may overlap)."""
        self._check_day(day)
        return list(self._company_closures.get(day, ()))

    def closed(self, crew_id: int, day: dt.date) -> ClosedDay | None:
        """Why ``crew_id`` does not work ``day``; ``None`` when it works.

        See the module docstring for the precedence: absence, then extra
        working day, then company, partner, holiday, weekday.
        """
        self._check_day(day)
        company_id, weekdays = self._crews[crew_id]
        absence = self._absences.get((crew_id, day))
        if absence is not None:
            return ClosedDay(
                "absence", _("absent: %(reason)s") % {"reason": absence} if absence else _("absent")
            )
        if (crew_id, day) in self._working_days:
            return None
        names = self._company_closures.get(day)
        if names:
            return ClosedDay("company", _("company closed: %(name)s") % {"name": names[0]})
        if (company_id, day) in self._partner_closures:
            reason = self._partner_closures[(company_id, day)]
            return ClosedDay(
                "partner",
                _("partner closed: %(reason)s") % {"reason": reason}
                if reason
                else _("partner closed"),
            )
        holiday = national_holiday_name(day)
        if holiday is not None:
            return ClosedDay("holiday", _("national holiday %(name)s") % {"name": holiday})
        if not weekdays & (1 << day.weekday()):
            return ClosedDay(
                "weekday",
                _("not a working weekday (%(day)s)") % {"day": WEEKDAYS_ABBR[day.weekday()]},
            )
        return None

    def day_labels(self, day: dt.date) -> list[str]:
        """What a day's column header shows: the holiday's name, then the company closures."""
        holiday = national_holiday_name(day)
        return ([holiday] if holiday else []) + self.company_closures(day)


def closed_reason(crew: Crew, day: dt.date) -> ClosedDay | None:
    """Why ``crew`` does not work ``day`` (``None``: it works); for one-off checks.

    Loads a one-crew, one-day calendar (four queries); for many crew-days use
    :meth:`WorkCalendar.load` once.
    """
    return WorkCalendar.load([crew], day, day).closed(crew.pk, day)


@dataclass(frozen=True)
class CrewClosed:
    """One crew's closed day, as the calendar endpoint lists it."""

    crew_id: int
    reason: ClosedDay


@dataclass(frozen=True)
class CalendarDay:
    """One date of :func:`calendar_days`: what closes it for everyone, and for whom it is closed."""

    date: dt.date
    holiday: str | None
    company_closures: list[str]
    closed_crews: list[CrewClosed]


def calendar_days(*, crews: Iterable[Crew], start: dt.date, end: dt.date) -> list[CalendarDay]:
    """Every date from ``start`` to ``end``: national holiday, company closures, crews off.

    Only the crews that do *not* work a day are listed under it, so a month of
    a hundred crews stays readable.
    """
    crews = list(crews)
    calendar = WorkCalendar.load(crews, start, end)
    days = []
    for day in _days(start, end):
        closed = [
            CrewClosed(crew.pk, reason)
            for crew in crews
            if (reason := calendar.closed(crew.pk, day)) is not None
        ]
        days.append(
            CalendarDay(
                date=day,
                holiday=calendar.holiday_name(day),
                company_closures=calendar.company_closures(day),
                closed_crews=closed,
            )
        )
    return days
