"""When a published route may have changed: the counters its cached answers are keyed by.

A crew's route (:mod:`api.partner.routes`) shows visits, their jobs, sites,
contracts, customers, surveys and as-built records, the crew and its company,
and the plan's lunch break. Two counters say when any of that changed:

- ``routes:<date>`` for what belongs to one day: its visits (published,
  released, re-sequenced, booked into a live route), their jobs (a field
  report moves the job's status) and the day's planned breaks;
- ``routes`` for what every day shows: sites, surveys, as-built records,
  customers, contracts, crews and partner companies.

Every ``save`` and ``delete`` of those models bumps them through the signals
below. ``QuerySet.update`` and ``bulk_create`` send no signals: the live
schedule's only writer (:mod:`dispatch.ledger`) calls :func:`routes_changed`
itself. Drafts are written in bulk too, but a draft's visits are on no route
until the ledger publishes them. The bumps land after commit
(:mod:`stamps.counters` says why that keeps readers exact).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from sites.models import ConstructionRecord, Contract, Customer, Site, SiteSurvey
from stamps.counters import bump_on_commit, counters_read

from .models import Crew, Job, PartnerCompany, PlannedBreak, Visit

#: The counter of what every day's routes show.
EVERY_DAY = "routes"


def day_counter(date: dt.date) -> str:
    return f"routes:{date.isoformat()}"


def routes_changed(*, dates: Iterable[dt.date] | None = None) -> None:
    """Say, once the transaction commits, that routes of ``dates`` (None: every day) changed."""
    if dates is None:
        bump_on_commit([EVERY_DAY])
    else:
        bump_on_commit(day_counter(date) for date in set(dates))


def routes_stamp(date: dt.date) -> str:
    """A token that changes whenever a route of ``date`` may have: read it before the data."""
    every_day, day = counters_read([EVERY_DAY, day_counter(date)])
    return f"{every_day}.{day}"


# --- signals: the writes that go through the ORM one row at a time -------------------


# No post_delete receivers for visits and breaks: a receiver would cost every bulk
# delete of a draft (thousands of rows) a fetch and a signal per row, and a visit
# leaves a route by the ledger's release, never by deletion. The ledger also creates
# and deletes the LiveRoute rows and says so itself.
@receiver(post_save, sender=Visit, dispatch_uid="route_stamps_visit_saved")
@receiver(post_save, sender=PlannedBreak, dispatch_uid="route_stamps_break_saved")
def _day_row_written(sender: Any, instance: Visit | PlannedBreak, **_: Any) -> None:
    routes_changed(dates=[instance.date])


@receiver(post_save, sender=Job, dispatch_uid="route_stamps_job_saved")
def _job_written(sender: type[Job], instance: Job, created: bool = False, **_: Any) -> None:
    if created:
        return  # a new job is on no route yet
    dates = Visit.objects.filter(job_id=instance.pk).values_list("date", flat=True).distinct()
    routes_changed(dates=list(dates))


@receiver(post_save, sender=Site, dispatch_uid="route_stamps_site_saved")
@receiver(post_delete, sender=Site, dispatch_uid="route_stamps_site_deleted")
@receiver(post_save, sender=SiteSurvey, dispatch_uid="route_stamps_survey_saved")
@receiver(post_delete, sender=SiteSurvey, dispatch_uid="route_stamps_survey_deleted")
@receiver(post_save, sender=ConstructionRecord, dispatch_uid="route_stamps_record_saved")
@receiver(post_delete, sender=ConstructionRecord, dispatch_uid="route_stamps_record_deleted")
@receiver(post_save, sender=Customer, dispatch_uid="route_stamps_customer_saved")
@receiver(post_delete, sender=Customer, dispatch_uid="route_stamps_customer_deleted")
@receiver(post_save, sender=Contract, dispatch_uid="route_stamps_contract_saved")
@receiver(post_delete, sender=Contract, dispatch_uid="route_stamps_contract_deleted")
@receiver(post_save, sender=Crew, dispatch_uid="route_stamps_crew_saved")
@receiver(post_delete, sender=Crew, dispatch_uid="route_stamps_crew_deleted")
@receiver(post_save, sender=PartnerCompany, dispatch_uid="route_stamps_company_saved")
@receiver(post_delete, sender=PartnerCompany, dispatch_uid="route_stamps_company_deleted")
def _shared_row_written(sender: Any, created: bool = False, **_: Any) -> None:
    if created and sender in (Site, Customer, Contract, Crew, PartnerCompany):
        return  # nothing published can show a row that did not exist
    routes_changed()


@receiver(m2m_changed, sender=Contract.sites.through, dispatch_uid="route_stamps_contract_sites")
def _contract_sites_changed(sender: Any, action: str, **_: Any) -> None:
    if action.startswith("post_"):
        routes_changed()
