"""A crew's published visits as an iCalendar feed behind a secret, revocable URL.

The feeds themselves (creating, revoking, finding one by its secret) are
:mod:`dispatch.calendar_feeds`; this module renders what a feed's URL answers.

What goes into an event is what a crew needs to turn up right: where, when,
what to do, where to park, when the building is open. Customer names and
phone numbers stay out: calendar URLs get shared and synced to third-party
services far more often than API tokens do; the routes API carries them.

SEQUENCE
    RFC 5545 wants an event's ``SEQUENCE`` to grow whenever its time or status
    changes, or some clients (Outlook, iOS) keep showing the old copy of a
    moved appointment. The feed is rebuilt from the database on every fetch,
    so the number must be *derived*, the same on every fetch and never
    smaller than before for the same UID. It counts the changes along the
    job's published history (:func:`visit_sequences`): every visit of the job
    that was ever on the live schedule, in the order its plan was published,
    plus the moment a crew reported it not finished or it was cancelled. A
    revision that copies a visit unchanged adds no change; one that moves it
    adds one. Counting over the job's whole history (not per crew-day) keeps
    the number growing when a job leaves a crew-day and later comes back.

Lunch
    The lunch break the plan placed (:class:`dispatch.models.PlannedBreak`)
    is its own event: the crew sees the day as it was planned, and a
    colleague looking at the shared calendar does not take the hour for free
    time. Its SEQUENCE counts the changes of that crew-day's break along the
    plans that were published.

Language
    Every word the feed adds around the data (durations, "Parking:", the
    lunch break, "Not finished"...) is translated; the job's, the site's and
    the building's own words are shown as written. A calendar app sends no
    useful ``Accept-Language``, so the URL carries the language: ``?lang=ja``
    or ``?lang=en`` (:func:`feed_language`). Without it the request's language
    applies (``LocaleMiddleware``: ``Accept-Language``, then
    ``settings.LANGUAGE_CODE``); an unknown ``lang`` is a 400 naming ``lang``.
    The URL handed out when a feed is created (:func:`feed_url`) carries the
    language of whoever created it. Times are ``settings.TIME_ZONE``
    (Asia/Tokyo) whatever the language.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Prefetch, Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from icalendar import Calendar, Event
from rest_framework import status

from dispatch.ledger import SHOWN_AFTER_RELEASE, scheduled_or_failed_visits
from dispatch.models import Crew, Plan, PlannedBreak, ReleaseReason, Visit
from dispatch.states import JobStatus
from sites.models import SiteSurvey

from ..errors import ApiError
from .routes import Stop

#: The window of visits a feed carries, around today.
PAST_DAYS = 7
FUTURE_DAYS = 60

#: How often calendar apps should poll (a hint; Google ignores it, Apple honours it).
REFRESH_INTERVAL = dt.timedelta(hours=1)

PRODID = "-//isp-field-dispatch//crew calendar//EN"
UID_DOMAIN = "isp-field-dispatch"

LANGUAGE_PARAMETER = OpenApiParameter(
    "lang",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    required=False,
    enum=[code for code, _name in settings.LANGUAGES],
    description=(
        "The feed's language (`ja` or `en`). Without it: the request's `Accept-Language`, "
        "then the server's default language (`LANGUAGE_CODE`). Times are Asia/Tokyo in every "
        "language."
    ),
)


def language_code(value: str) -> str | None:
    """``value`` as a code of ``settings.LANGUAGES`` (``JA``, ``ja-JP``: ``ja``), or None."""
    try:
        return translation.get_supported_language_variant(value.strip().lower(), strict=True)
    except LookupError:
        return None


def feed_language(request: HttpRequest) -> str:
    """The language a feed request asks for: ``?lang=``, else the request's (LocaleMiddleware).

    Raises
    ------
    ApiError
        400 naming ``lang`` when it is not one of ``settings.LANGUAGES``.
    """
    requested = request.GET.get("lang")
    if requested is None:
        return translation.get_language() or settings.LANGUAGE_CODE
    code = language_code(requested)
    if code is None:
        choices = ", ".join(code for code, _name in settings.LANGUAGES)
        message = _("'%(value)s' is not a language of the calendar; use one of: %(choices)s") % {
            "value": requested[:20],
            "choices": choices,
        }
        raise ApiError(status.HTTP_400_BAD_REQUEST, "invalid", message, fields={"lang": [message]})
    return code


def feed_url(request: HttpRequest, token: str) -> str:
    """The subscription URL of ``token``, in the language of ``request`` (``?lang=ja``)."""
    path = reverse("api:calendar-feed-ics", args=[token])
    language = translation.get_language() or settings.LANGUAGE_CODE
    code = language_code(language) or settings.LANGUAGE_CODE
    return request.build_absolute_uri(f"{path}?{urlencode({'lang': code})}")


def feed_today() -> dt.date:
    """Today in ``settings.TIME_ZONE``: the feed's window follows the crew's calendar day."""
    return timezone.localdate()


def feed_visits(*, crew: Crew, today: dt.date | None = None) -> list[Visit]:
    """The crew's published visits from a week ago to two months ahead, in time order."""
    today = today or feed_today()
    return list(
        scheduled_or_failed_visits()
        .filter(
            crew=crew,
            date__gte=today - dt.timedelta(days=PAST_DAYS),
            date__lte=today + dt.timedelta(days=FUTURE_DAYS),
        )
        .select_related("plan", "job__site")
        .prefetch_related(
            Prefetch(
                "job__site__surveys",
                queryset=SiteSurvey.objects.order_by("-surveyed_on", "-id"),
                to_attr="surveys_newest_first",
            )
        )
        .order_by("planned_start", "id")
    )


def visit_uid(visit: Visit) -> str:
    """Stable across plan revisions while the job stays on the same crew-day.

    A revision copies visits into a new plan (new primary keys), so the visit's
    id would make every calendar app delete and re-create every event at each
    publication; job, crew and day name the same appointment for the crew.
    """
    return f"job-{visit.job_id}-crew-{visit.crew_id}-{visit.date:%Y%m%d}@{UID_DOMAIN}"


def _published_at(plan: Plan) -> dt.datetime:
    """When ``plan``'s information was published (its last change, for a plan never stamped)."""
    return plan.published_at or plan.updated_at


def _shown_status(visit: Visit) -> str:
    """CONFIRMED, or CANCELLED once the visit left the schedule in view of the crew."""
    left = visit.release_reason in SHOWN_AFTER_RELEASE
    return "CANCELLED" if left or visit.job.status == JobStatus.CANCELLED else "CONFIRMED"


#: What a calendar app shows of a visit: crew, day, times, status.
VisitState = tuple[int, dt.date, dt.datetime, dt.datetime, str]


@dataclass(frozen=True, order=True)
class _Step:
    """One moment of a job's published history and what the crew's calendar showed then."""

    at: dt.datetime
    plan_id: int
    visit_id: int
    released: bool
    state: VisitState


def _steps_of(visit: Visit) -> list[_Step]:
    """A published visit's steps: its publication, and its release when the crew still sees it."""
    base = (visit.crew_id, visit.date, visit.planned_start, visit.planned_end)
    published = _Step(
        _published_at(visit.plan), visit.plan_id, visit.pk, False, (*base, "CONFIRMED")
    )
    if visit.release_reason in SHOWN_AFTER_RELEASE and visit.released_at is not None:
        released = _Step(visit.released_at, visit.plan_id, visit.pk, True, (*base, "CANCELLED"))
        return [published, released]
    return [published]


def _changes(states: Iterable[object]) -> int:
    """How many times the value changed along ``states``."""
    count, previous = 0, None
    for index, state in enumerate(states):
        if index and state != previous:
            count += 1
        previous = state
    return count


def visit_sequences(visits: Iterable[Visit]) -> dict[int, int]:
    """Each visit's SEQUENCE (by visit id), from its job's published history, in one query.

    A job's history is every visit of it that was ever on the live schedule
    (live now, or released after it was), each at its plan's publication,
    plus the release of the ones the crew still sees struck through. A
    visit's SEQUENCE is the number of changes of what the calendar showed
    (crew, day, times, status) up to its own last step: later steps never
    change an earlier prefix, so the number only grows.
    """
    shown = list(visits)
    history: dict[int, list[_Step]] = defaultdict(list)
    published = (
        Visit.objects.filter(job_id__in={v.job_id for v in shown})
        .filter(Q(route__isnull=False) | Q(released_at__isnull=False))
        .select_related("plan")
    )
    for visit in published:
        history[visit.job_id] += _steps_of(visit)
    sequences: dict[int, int] = {}
    for visit in shown:
        steps = sorted(history[visit.job_id])
        own = [i for i, step in enumerate(steps) if step.visit_id == visit.pk]
        states = [step.state for step in steps[: own[-1] + 1]] if own else []
        status = _shown_status(visit)
        if not states or states[-1][4] != status:
            # Cancelled as a job without its visit released (yet): still a change to show.
            base = (visit.crew_id, visit.date, visit.planned_start, visit.planned_end)
            states.append((*base, status))
        sequences[visit.pk] = _changes(states)
    return sequences


def _description(stop: Stop) -> str:
    """The event's text in the active language; the job's and the site's own words as written."""
    job = stop.job
    access = stop.access
    minutes = job.duration_minutes
    lines = [
        ngettext(
            "%(reference)s (%(kind)s), %(minutes)d min",
            "%(reference)s (%(kind)s), %(minutes)d min",
            minutes,
        )
        % {"reference": job.reference, "kind": job.get_kind_display(), "minutes": minutes}
    ]
    if job.window_start is not None and job.window_end is not None:
        promise = _("promised") if job.promise_is_hard else _("wish")
        lines.append(
            _("Customer's slot: %(start)s-%(end)s (%(promise)s)")
            % {
                "start": f"{job.window_start:%H:%M}",
                "end": f"{job.window_end:%H:%M}",
                "promise": promise,
            }
        )
    if job.work_instructions:
        lines.append(_("Work: %(instructions)s") % {"instructions": job.work_instructions})
    if stop.parking_arrangement:
        lines.append(_("Parking: %(parking)s") % {"parking": stop.parking_arrangement})
    if not access.hours.is_unrestricted:
        # ``description`` follows the active language (sites.access.AccessHours.describe).
        lines.append(_("Access: %(hours)s") % {"hours": access.description})
    if access.notes:
        lines.append(_("Access notes: %(notes)s") % {"notes": access.notes})
    return "\n".join(lines)


def _event(visit: Visit, tz: dt.tzinfo, sequence: int) -> Event:
    # Arrival is not derived here: an event spans the work, which is what a
    # calendar shows; the routes API carries the arrival.
    stop = Stop(visit=visit, planned_arrival=visit.planned_start)
    site = stop.site
    published_at = _published_at(visit.plan)
    not_finished = visit.release_reason == ReleaseReason.NOT_FINISHED
    if not_finished and visit.released_at is not None:
        published_at = visit.released_at
    summary = _("%(kind)s: %(site)s") % {"kind": visit.job.get_kind_display(), "site": site.name}
    if not_finished:
        summary = _("Not finished: %(summary)s") % {"summary": summary}
    event = Event.new(
        uid=visit_uid(visit),
        summary=summary,
        start=visit.planned_start.astimezone(tz),
        end=visit.planned_end.astimezone(tz),
        location=site.address,
        description=_description(stop),
        # No METHOD: DTSTAMP is when the information was last revised (RFC 5545 3.8.7.2).
        stamp=published_at,
        last_modified=published_at,
        sequence=sequence,
    )
    # A visit reported not finished left the schedule: calendars strike it through.
    event.add("status", _shown_status(visit))
    if site.latitude is not None and site.longitude is not None:
        event.add("geo", (site.latitude, site.longitude))
    return event


def lunch_uid(crew_id: int, date: dt.date) -> str:
    """One lunch per crew-day, whichever plan placed it: revisions update the same event."""
    return f"lunch-crew-{crew_id}-{date:%Y%m%d}@{UID_DOMAIN}"


def feed_lunches(*, crew: Crew, visits: Iterable[Visit]) -> list[tuple[PlannedBreak, int]]:
    """The breaks of the crew-days the feed shows, each with its SEQUENCE, in one query.

    The break shown is the one of the plan whose route the crew-day is (a
    live visit's plan); days with nothing live left show no lunch.
    """
    owners = {v.date: v.plan_id for v in visits if v.route_id is not None}
    if not owners:
        return []
    breaks = (
        PlannedBreak.objects.filter(crew=crew, date__in=owners)
        .filter(Q(plan__published_at__isnull=False) | Q(plan_id__in=set(owners.values())))
        .select_related("plan")
    )
    by_day: dict[dt.date, list[PlannedBreak]] = defaultdict(list)
    for item in breaks:
        by_day[item.date].append(item)
    found: list[tuple[PlannedBreak, int]] = []
    for date, plan_id in sorted(owners.items()):
        history = sorted(by_day[date], key=lambda b: (_published_at(b.plan), b.plan_id))
        mine = [i for i, b in enumerate(history) if b.plan_id == plan_id]
        if mine:
            upto = history[: mine[-1] + 1]
            found.append((upto[-1], _changes((b.start, b.end) for b in upto)))
    return found


def _lunch_event(lunch: PlannedBreak, tz: dt.tzinfo, sequence: int) -> Event:
    published_at = _published_at(lunch.plan)
    event = Event.new(
        uid=lunch_uid(lunch.crew_id, lunch.date),
        summary=_("Lunch break"),
        start=lunch.start.astimezone(tz),
        end=lunch.end.astimezone(tz),
        stamp=published_at,
        last_modified=published_at,
        sequence=sequence,
    )
    event.add("status", "CONFIRMED")
    return event


def crew_calendar(*, crew: Crew, visits: Iterable[Visit], language: str | None = None) -> bytes:
    """The VCALENDAR of ``visits`` and their days' lunch breaks, in ``settings.TIME_ZONE``.

    Its words are in ``language`` (default: the active one); times stay in
    ``settings.TIME_ZONE`` whatever the language.
    """
    with translation.override(language or translation.get_language()):
        return _crew_calendar(crew=crew, visits=visits)


def _crew_calendar(*, crew: Crew, visits: Iterable[Visit]) -> bytes:
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    visits = list(visits)
    calendar = Calendar.new(
        prodid=PRODID,
        uid=f"crew-{crew.pk}@{UID_DOMAIN}",
        name=f"{crew.company.name} / {crew.name}",
    )
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    sequences = visit_sequences(visits)
    for visit in visits:
        calendar.add_component(_event(visit, tz, sequences[visit.pk]))
    for lunch, sequence in feed_lunches(crew=crew, visits=visits):
        calendar.add_component(_lunch_event(lunch, tz, sequence))
    calendar.add_missing_timezones()
    return calendar.to_ical()
