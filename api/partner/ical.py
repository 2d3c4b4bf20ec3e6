"""A crew's published visits as an iCalendar feed behind a secret, revocable URL.

The feeds themselves (creating, revoking, finding one by its secret) are
:mod:`dispatch.calendar_feeds`; this module renders what a feed's URL answers.

What goes into an event is what a crew needs to turn up right: where, when,
what to do, where to park, when the building is open. Customer names and
phone numbers stay out: calendar URLs get shared and synced to third-party
services far more often than API tokens do; the routes API carries them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable

from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from dispatch.ledger import scheduled_or_failed_visits
from dispatch.models import Crew, ReleaseReason, Visit
from dispatch.states import JobStatus
from sites.models import SiteSurvey

from .routes import Stop

#: The window of visits a feed carries, around today.
PAST_DAYS = 7
FUTURE_DAYS = 60

#: How often calendar apps should poll (a hint; Google ignores it, Apple honours it).
REFRESH_INTERVAL = dt.timedelta(hours=1)

PRODID = "-//isp-field-dispatch//crew calendar//EN"
UID_DOMAIN = "isp-field-dispatch"


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


def _description(stop: Stop) -> str:
    job = stop.job
    access = stop.access
    lines = [f"{job.reference} ({job.get_kind_display()}), {job.duration_minutes} min"]
    if job.work_instructions:
        lines.append(f"Work: {job.work_instructions}")
    if stop.parking_arrangement:
        lines.append(f"Parking: {stop.parking_arrangement}")
    if access.start is not None and access.end is not None:
        lines.append(f"Access: {access.start:%H:%M}-{access.end:%H:%M}")
    if access.rules:
        lines.append(f"Access rules: {access.rules}")
    return "\n".join(lines)


def _event(visit: Visit, tz: dt.tzinfo) -> Event:
    # Arrival is not derived here: an event spans the work, which is what a
    # calendar shows; the routes API carries the arrival.
    stop = Stop(visit=visit, planned_arrival=visit.planned_start)
    site = stop.site
    published_at = visit.plan.published_at or visit.plan.updated_at
    not_finished = visit.release_reason == ReleaseReason.NOT_FINISHED
    if not_finished and visit.released_at is not None:
        published_at = visit.released_at
    summary = f"{visit.job.get_kind_display()}: {site.name}"
    event = Event.new(
        uid=visit_uid(visit),
        summary=f"{_('Not finished')}: {summary}" if not_finished else summary,
        start=visit.planned_start.astimezone(tz),
        end=visit.planned_end.astimezone(tz),
        location=site.address,
        description=_description(stop),
        # No METHOD: DTSTAMP is when the information was last revised (RFC 5545 3.8.7.2).
        stamp=published_at,
        last_modified=published_at,
    )
    # A visit reported not finished left the schedule: calendars strike it through.
    cancelled = not_finished or visit.job.status == JobStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if site.latitude is not None and site.longitude is not None:
        event.add("geo", (site.latitude, site.longitude))
    return event


def crew_calendar(*, crew: Crew, visits: Iterable[Visit]) -> bytes:
    """The VCALENDAR of ``visits``, with times in ``settings.TIME_ZONE`` and its VTIMEZONE."""
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    calendar = Calendar.new(
        prodid=PRODID,
        uid=f"crew-{crew.pk}@{UID_DOMAIN}",
        name=f"{crew.company.name} / {crew.name}",
    )
    calendar.add("refresh-interval", REFRESH_INTERVAL, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    for visit in visits:
        calendar.add_component(_event(visit, tz))
    calendar.add_missing_timezones()
    return calendar.to_ical()
