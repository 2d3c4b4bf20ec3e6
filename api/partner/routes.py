"""A crew's day as the crew needs it: the stops in order, with what to do at each.

Read only, built from *published* visits (scoping in ``dispatch.selectors``)
in a fixed number of queries whatever the number of stops: one for the
visits with their crew, job, site, contract and customer joined, one for the
sites' surveys, one for the construction records when a job needs them, one
for the lunch breaks the plans placed (:class:`dispatch.models.PlannedBreak`)
and one for the crew only when it has no stops (to tell "free day" from "not
yours"). The routes endpoint, the GeoJSON view and the benchmark all go
through :func:`routes_for`, so they cannot disagree about what a route is; the
drive home comes from :func:`dispatch.routes.legs_home`, as on the board.
When the routing service it needs fails (``TRAVEL_PROVIDER=osrm``,
``docs/TRAVEL.md``) the routes answer 503 ``routing_unavailable``: the board
can leave the way home out of its figures, but a route whose ``return_home``
quietly went missing would read as "no way home" to a client.

Planned arrival
    Visits store when the work *starts*, not when the crew gets there. The
    planner's model is "leave the previous stop when its work ends, drive,
    wait if early", so arrival is ``previous planned_end + travel minutes``,
    never later than the planned start (the difference is the slack the plan
    keeps, ``wait_minutes``). For the first stop the crew leaves home just in
    time, so arrival equals the planned start.

Access hours and the time slot
    ``access`` is the building's as the planner read it
    (:func:`dispatch.problem.access_of`: ``Site.access_hours``, which the
    newest survey or the order set): the weekly hours, the ranges of the
    visit's own date (a national holiday keeps holiday hours, from
    :func:`dispatch.calendars.national_holiday_name`) and the site's access
    notes. Reading the survey instead could show a crew other hours than the
    plan kept. The job's ``window_start``/``window_end`` are the customer's
    promised arrival slot, a different promise, shown with ``job.time_slot``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, prefetch_related_objects
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import NotFound

from accounts.models import Role, User
from dispatch.calendars import national_holiday_name
from dispatch.ledger import scheduled_or_failed_visits
from dispatch.models import Crew, Job, PlannedBreak, Visit
from dispatch.problem import access_of
from dispatch.route_stamps import routes_stamp
from dispatch.routes import legs_home
from dispatch.selectors import crews_visible_to, visits_visible_to
from dispatch.states import JobKind
from scheduler.travel import OsrmError
from sites.access import AccessHours
from sites.models import ConstructionRecord, Site, SiteSurvey

from ..errors import ApiError

logger = logging.getLogger(__name__)

#: Job kinds whose crew works on an existing line and so needs the as-built notes.
KINDS_NEEDING_AS_BUILT = frozenset({JobKind.PLAN_CHANGE, JobKind.MAINTENANCE})


def map_url(latitude: float | None, longitude: float | None) -> str | None:
    """An OpenStreetMap link centred on the point, or None without coordinates."""
    if latitude is None or longitude is None:
        return None
    return (
        f"https://www.openstreetmap.org/?mlat={latitude:.6f}&mlon={longitude:.6f}"
        f"#map=18/{latitude:.6f}/{longitude:.6f}"
    )


def _km(metres: int | None) -> float | None:
    return None if metres is None else round(metres / 1000, 1)


def _minutes_between(start: dt.datetime, end: dt.datetime) -> int:
    return max(0, round((end - start).total_seconds() / 60))


def is_holiday(day: dt.date) -> bool:
    """Whether ``day`` is a Japanese national holiday: buildings keep holiday hours then."""
    return national_holiday_name(day) is not None


@dataclass(frozen=True)
class StopAccess:
    """When the building lets the crew in, on the visit's day and in general, and how.

    ``today`` is what a crew acts on (holiday-aware); ``hours`` is the whole
    week for the app that wants to show it; ``notes`` are the building's
    free-text access notes (key, escort...).
    """

    hours: AccessHours
    today: tuple[tuple[dt.time, dt.time], ...]
    """The ranges on the visit's date: the whole day without restriction, empty when closed."""
    notes: str

    @property
    def description(self) -> str:
        return self.hours.describe(get_language() or "en")


@dataclass(frozen=True)
class Stop:
    """One visit of the route with what was derived for it."""

    visit: Visit
    planned_arrival: dt.datetime

    @property
    def job(self) -> Job:
        return self.visit.job

    @property
    def site(self) -> Site:
        return self.visit.job.site

    @property
    def survey(self) -> SiteSurvey | None:
        """The newest survey of the site: the crew works with its findings."""
        surveys = self.site.surveys_newest_first  # type: ignore[attr-defined]
        return surveys[0] if surveys else None

    @property
    def as_built(self) -> ConstructionRecord | None:
        """The newest as-built record, only when the job touches an existing line."""
        if self.job.kind not in KINDS_NEEDING_AS_BUILT:
            return None
        records = self.site.records_newest_first  # type: ignore[attr-defined]
        return records[0] if records else None

    @property
    def wait_minutes(self) -> int:
        return _minutes_between(self.planned_arrival, self.visit.planned_start)

    @property
    def travel_km_from_previous(self) -> float:
        return round(self.visit.travel_m_from_previous / 1000, 1)

    @property
    def map_url(self) -> str | None:
        return map_url(self.site.latitude, self.site.longitude)

    @property
    def access(self) -> StopAccess:
        """The building's access hours and notes (the job's window is the customer's slot)."""
        hours = access_of(self.job)
        day = self.visit.date
        # Unrestricted hours answer the whole day, so a client needs no special case.
        today = hours.ranges_on(day.weekday(), is_holiday=is_holiday(day))
        return StopAccess(hours=hours, today=today, notes=self.site.access_notes)

    @property
    def parking_arrangement(self) -> str:
        """The job's own arrangement (made for this visit) before the survey's general one."""
        if self.job.parking_arrangement:
            return self.job.parking_arrangement
        survey = self.survey
        return survey.parking_arrangement if survey else ""

    @property
    def parking_kind(self) -> str | None:
        survey = self.survey
        return survey.parking if survey else None

    @property
    def customer(self) -> dict[str, str] | None:
        contract = self.job.contract
        if contract is None:
            return None
        customer = contract.customer
        return {
            "contract_id": contract.contract_id,
            "name": customer.name,
            "contact_person": customer.contact_person,
            "phone": customer.phone,
            "phone_alt": customer.phone_alt,
        }


@dataclass(frozen=True)
class Route:
    """One crew's ordered stops on one day, with totals including the drive home."""

    crew: Crew
    date: dt.date
    stops: list[Stop]
    return_leg: tuple[int, int] | None = None
    """(metres, minutes) from the last stop to the home base; None without stops or coordinates."""
    lunch: PlannedBreak | None = None
    """The lunch break the plan placed on this crew-day; None when it placed none."""

    @property
    def home_map_url(self) -> str | None:
        return map_url(self.crew.home_latitude, self.crew.home_longitude)

    @property
    def totals(self) -> dict[str, object]:
        visits = [stop.visit for stop in self.stops]
        travel_m = sum(v.travel_m_from_previous for v in visits)
        travel_minutes = sum(v.travel_minutes_from_previous for v in visits)
        leg = self.return_leg
        return_m, return_minutes = leg if leg is not None else (None, None)
        first = visits[0] if visits else None
        last = visits[-1] if visits else None
        return {
            "stops": len(visits),
            "travel_km": _km(travel_m),
            "travel_minutes": travel_minutes,
            "return_home_km": _km(return_m),
            "return_home_minutes": return_minutes,
            "total_km": _km(travel_m + (return_m or 0)),
            "total_drive_minutes": travel_minutes + (return_minutes or 0),
            "work_minutes": sum(_minutes_between(v.planned_start, v.planned_end) for v in visits),
            "leave_home_at": (
                first.planned_start - dt.timedelta(minutes=first.travel_minutes_from_previous)
                if first
                else None
            ),
            "first_start": first.planned_start if first else None,
            "last_end": last.planned_end if last else None,
            "back_home_at": (
                last.planned_end + dt.timedelta(minutes=return_minutes)
                if last and return_minutes is not None
                else None
            ),
        }


def _stops_of(visits: list[Visit]) -> list[Stop]:
    stops: list[Stop] = []
    previous: Visit | None = None
    for visit in visits:
        arrival = visit.planned_start
        if previous is not None:
            driven = previous.planned_end + dt.timedelta(minutes=visit.travel_minutes_from_previous)
            arrival = min(arrival, driven)
        stops.append(Stop(visit=visit, planned_arrival=arrival))
        previous = visit
    return stops


def _prefetch_as_built(visits: list[Visit]) -> None:
    """Load construction records only for the sites whose job needs them.

    Most days are new lines with no as-built to show: then this costs no query
    (``Stop.as_built`` never looks at the records of other kinds).
    """
    # Every instance, not one per site id: two visits may share a building.
    needing = [v.job.site for v in visits if v.job.kind in KINDS_NEEDING_AS_BUILT]
    if needing:
        prefetch_related_objects(
            needing,
            Prefetch(
                "construction_records",
                queryset=ConstructionRecord.objects.order_by("-recorded_at", "-id"),
                to_attr="records_newest_first",
            ),
        )


def _route_plan_id(visits: list[Visit]) -> int:
    """The plan whose route this crew-day is: a live visit's, else (all not finished) any one's."""
    live = [v for v in visits if v.route_id is not None]
    return (live or visits)[0].plan_id


def _lunches(date: dt.date, days: list[list[Visit]]) -> dict[tuple[int, int], PlannedBreak]:
    """The planned breaks of the crew-days, by (plan, crew), in one query."""
    if not days:
        return {}
    breaks = PlannedBreak.objects.filter(
        date=date,
        crew_id__in={day[0].crew_id for day in days},
        plan_id__in={_route_plan_id(day) for day in days},
    )
    return {(b.plan_id, b.crew_id): b for b in breaks}


def routes_cache_key(*, user: User, date: dt.date, crew_id: int | None) -> str:
    """Everything a routes answer depends on; reads the routes' change counters (call it first).

    The scope, not the user: every user of one partner company sees the same
    routes, and every coordinator sees all of them. The language, because
    access hours are described in it; the travel provider, because the drive
    home is computed with it.
    """
    company = user.partner_company_id if user.role == Role.PARTNER else None
    scope = f"p{company}" if company is not None else "all"
    travel = f"{settings.TRAVEL_PROVIDER}@{settings.TRAVEL_OSRM_URL}"
    return ":".join(
        (
            "routes.v1",
            scope,
            date.isoformat(),
            str(crew_id or "-"),
            get_language() or "",
            travel,
            routes_stamp(date, company),
        )
    )


def routes_for(
    *, user: User, date: dt.date, crew_id: int | None = None, with_lunch: bool = True
) -> list[Route]:
    """The published routes of ``date`` that ``user`` may see, one per crew.

    ``with_lunch=False`` skips the planned breaks' query for readers that draw
    no lunch (the GeoJSON map); their routes say ``lunch=None``.

    Without ``crew_id``: every visible crew with at least one stop that day.
    With it: exactly that crew's route, possibly empty (a crew asking about a
    free day gets "no stops", not an error). A crew outside the caller's scope
    raises ``NotFound``: another partner's crew must look like no crew at all.
    """
    visits = (
        visits_visible_to(user)
        .filter(date=date)
        .filter(pk__in=scheduled_or_failed_visits().values("pk"))
        .select_related("crew__company", "job__site", "job__contract__customer")
        .prefetch_related(
            Prefetch(
                "job__site__surveys",
                queryset=SiteSurvey.objects.order_by("-surveyed_on", "-id"),
                to_attr="surveys_newest_first",
            ),
        )
        .order_by("crew__company__name", "crew__name", "crew_id", "planned_start", "sequence")
    )
    if crew_id is not None:
        # The scoped visits already prove the crew is visible when there are any.
        visits = visits.filter(crew_id=crew_id)
    found = list(visits)
    _prefetch_as_built(found)

    by_crew: dict[int, list[Visit]] = {}
    for visit in found:
        by_crew.setdefault(visit.crew_id, []).append(visit)
    if crew_id is not None and not by_crew:
        crew = crews_visible_to(user).select_related("company").filter(pk=crew_id).first()
        if crew is None:
            raise NotFound(_("no such crew"))
        return [Route(crew=crew, date=date, stops=[])]
    days = list(by_crew.values())
    try:
        legs = legs_home([(crew_visits[0].crew, crew_visits[-1]) for crew_visits in days])
    except OsrmError as exc:
        # The cause (which server, what failed) goes to the log, not to the partner.
        logger.warning("routes answered 503: %s", exc)
        raise ApiError(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "routing_unavailable",
            _(
                "the routing service is unavailable, so the drive home cannot be computed; "
                "try again shortly"
            ),
        ) from exc
    lunches = _lunches(date, days) if with_lunch else {}
    return [
        Route(
            crew=crew_visits[0].crew,
            date=date,
            stops=_stops_of(crew_visits),
            return_leg=leg,
            lunch=lunches.get((_route_plan_id(crew_visits), crew_visits[0].crew_id)),
        )
        for crew_visits, leg in zip(days, legs, strict=True)
    ]
