"""When a published route may have changed: the counters its cached answers are keyed by.

A crew's route (:mod:`api.partner.routes`) shows visits, their jobs, sites,
contracts, customers, surveys and as-built records, the crew and its company,
and the plan's lunch break. Three kinds of counters say when any of that
changed, from the narrowest to the widest:

- ``routes:<date>:c<company>`` for one partner's day: a field report moving a
  job's status, a visit released as not finished, booked into a live route or
  re-sequenced, a lunch break placed. At the morning rush crews report all the
  time; one partner's report must not make every other partner's day be
  built again;
- ``routes:<date>`` for everyone's day: a publication (it may move visits
  between partners);
- ``routes`` for what every day shows: sites, surveys, as-built records,
  customers, contracts, crews and partner companies.

A partner's answer is keyed by its own three; a coordinator's, who sees every
partner, by the first two and the sum of the day's partner counters
(:func:`stamps.counters.counters_read`). Every ``save`` and ``delete`` of
those models bumps them through the signals below. ``QuerySet.update`` and
``bulk_create`` send no signals: the live schedule's only writer
(:mod:`dispatch.ledger`) calls :func:`routes_changed` itself. Drafts are
written in bulk too, but a draft's visits are on no route until the ledger
publishes them. The bumps land after commit (:mod:`stamps.counters` says why
that keeps readers exact).
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


def company_day_counter(date: dt.date, company_id: int) -> str:
    return f"{day_counter(date)}:c{company_id}"


def routes_changed(
    *,
    dates: Iterable[dt.date] | None = None,
    company_days: Iterable[tuple[dt.date, int]] | None = None,
) -> None:
    """Say, once the transaction commits, what changed.

    ``company_days``: (date, partner company id) pairs, one partner's day each;
    ``dates``: whole days; neither: what every day shows.
    """
    if dates is None and company_days is None:
        bump_on_commit([EVERY_DAY])
        return
    names = {day_counter(date) for date in dates or ()}
    names |= {company_day_counter(date, company) for date, company in company_days or ()}
    bump_on_commit(names)


def crews_changed(crew_days: Iterable[tuple[dt.date, int]]) -> None:
    """:func:`routes_changed` for (date, crew id) pairs: each crew's partner's day."""
    pairs = set(crew_days)
    companies = dict(
        Crew.objects.filter(pk__in={crew for _, crew in pairs}).values_list("pk", "company_id")
    )
    known = {(date, companies[crew]) for date, crew in pairs if crew in companies}
    routes_changed(company_days=known)


def routes_stamp(date: dt.date, company_id: int | None) -> str:
    """A token that changes whenever a route of ``date`` may have: read it before the data.

    ``company_id`` None: every partner's routes (a coordinator's view).
    """
    if company_id is not None:
        own = company_day_counter(date, company_id)
        counts = counters_read([EVERY_DAY, day_counter(date), own])
    else:
        counts = counters_read([EVERY_DAY, day_counter(date)], total_of=f"{day_counter(date)}:c")
    return ".".join(map(str, counts))


# --- signals: the writes that go through the ORM one row at a time -------------------


# No post_delete receivers for visits and breaks: a receiver would cost every bulk
# delete of a draft (thousands of rows) a fetch and a signal per row, and a visit
# leaves a route by the ledger's release, never by deletion. The ledger also creates
# and deletes the LiveRoute rows and says so itself.
@receiver(post_save, sender=Visit, dispatch_uid="route_stamps_visit_saved")
@receiver(post_save, sender=PlannedBreak, dispatch_uid="route_stamps_break_saved")
def _day_row_written(sender: Any, instance: Visit | PlannedBreak, **_: Any) -> None:
    crews_changed([(instance.date, instance.crew_id)])


@receiver(post_save, sender=Job, dispatch_uid="route_stamps_job_saved")
def _job_written(sender: type[Job], instance: Job, created: bool = False, **_: Any) -> None:
    if created:
        return  # a new job is on no route yet
    days = Visit.objects.filter(job_id=instance.pk).values_list("date", "crew__company_id")
    routes_changed(company_days=set(days))


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
