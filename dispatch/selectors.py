"""Reads of dispatch data, scoped by who asks.

The partner rules live here, once: a partner sees its own crews, and of the
plans only what is *published* for those crews. Views build their querysets
from these functions, so an object outside the scope is simply not found.

A job can change hands: a revision re-plans it from company A's crew to
company B's, or A's crew reports it not finished and it is planned again for
B. B then sees the job, but nothing of A must come with it. So the job's
nested history is scoped here too, never in a view or serializer:

- **reports** (:func:`reports_visible_to`): a partner reads the reports of its
  own company's crews only;
- **status history** (:func:`status_changes_visible_to`): a partner reads the
  steps its own company's users made in full; steps made by *another partner
  company's* users are left out altogether; every other step (coordinators,
  support, the system) is shown as a neutral step: from, to and when, with
  ``changed_by`` and ``note`` blanked. Notes are free text that can quote
  anybody ("crew report: incomplete", a crew's reason, a coordinator's "A
  said the key was missing"), and a coordinator may report on a crew's behalf;
  no rule that reads the note could be sure, so a partner sees no note but
  its own people's;
- **plan changes** (:func:`plan_changes_visible_to`): a partner reads what a
  publication changed for its own crews only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, CharField, F, IntegerField, Q, QuerySet, Value, When

from accounts.models import Role, User
from sites.models import Region, Site

from .ledger import scheduled_or_failed_visits
from .models import (
    Crew,
    Job,
    JobReport,
    JobStatusChange,
    PartnerCompany,
    Plan,
    PlanChange,
    PlanStatus,
    Visit,
)


def _role(user: User | Any) -> str | None:
    """The user's role; None for anonymous users (who see nothing)."""
    return getattr(user, "role", None) if getattr(user, "is_authenticated", False) else None


def companies_visible_to(user: User) -> QuerySet[PartnerCompany]:
    companies = PartnerCompany.objects.all()
    if _role(user) is None:
        return companies.none()
    if user.role == Role.PARTNER:
        return companies.filter(pk=user.partner_company_id or 0)
    return companies


def crews_visible_to(user: User) -> QuerySet[Crew]:
    crews = Crew.objects.all()
    if _role(user) is None:
        return crews.none()
    if user.role == Role.PARTNER:
        return crews.filter(company_id=user.partner_company_id)
    return crews


def plans_visible_to(user: User) -> QuerySet[Plan]:
    plans = Plan.objects.all()
    if _role(user) is None:
        return plans.none()
    if user.role == Role.PARTNER:
        return plans.filter(
            status=PlanStatus.PUBLISHED, visits__crew__company_id=user.partner_company_id
        ).distinct()
    return plans


def published_visits_of_company(company_id: int | None) -> QuerySet[Visit]:
    """The company's live visits, and those its crews reported not finished (their history)."""
    return scheduled_or_failed_visits().filter(crew__company_id=company_id)


def visits_visible_to(user: User) -> QuerySet[Visit]:
    if _role(user) is None:
        return Visit.objects.none()
    if user.role == Role.PARTNER:
        return published_visits_of_company(user.partner_company_id)
    return Visit.objects.all()


def jobs_visible_to(user: User) -> QuerySet[Job]:
    if _role(user) is None:
        return Job.objects.none()
    if user.role == Role.PARTNER:
        visible = published_visits_of_company(user.partner_company_id).values("job_id")
        return Job.objects.filter(pk__in=visible)
    return Job.objects.all()


def sites_visible_to(user: User) -> QuerySet[Site]:
    if _role(user) is None:
        return Site.objects.none()
    if user.role == Role.PARTNER:
        visible = published_visits_of_company(user.partner_company_id).values("job__site_id")
        return Site.objects.filter(pk__in=visible)
    return Site.objects.all()


# --- a job's nested history --------------------------------------------------------


def reports_visible_to(user: User) -> QuerySet[JobReport]:
    """Field reports, oldest first; a partner reads its own company's crews' reports only."""
    reports = JobReport.objects.order_by("occurred_at", "id")
    if _role(user) is None:
        return reports.none()
    if user.role == Role.PARTNER:
        return reports.filter(crew__company_id=user.partner_company_id or 0)
    return reports


def status_changes_visible_to(user: User) -> QuerySet[JobStatusChange]:
    """Status steps of jobs, oldest first, each with what the caller may read of it.

    Every row carries ``shown_changed_by_id`` and ``shown_note``: serializers
    render those, never ``changed_by`` and ``note`` themselves. Coordinators
    and support read everything. A partner reads (see the module docstring):

    - steps by its own company's users: in full;
    - steps by another partner company's users: not at all;
    - any other step (coordinator, support, system): from, to and when only,
      ``shown_changed_by_id`` null and ``shown_note`` empty.

    The rule looks at who made the step, never at what the note says, so no
    wording of a note can slip through. "Own company" is the author's company
    now: steps carry no crew, so a partner user moved to another company takes
    their earlier steps along (users are not moved between companies; make a
    new user instead).
    """
    history = JobStatusChange.objects.order_by("changed_at", "id")
    if _role(user) is None:
        return history.none()
    if user.role != Role.PARTNER:
        return history.annotate(shown_changed_by_id=F("changed_by_id"), shown_note=F("note"))
    own = Q(
        changed_by__role=Role.PARTNER,
        changed_by__partner_company_id=user.partner_company_id or 0,
    )
    by_staff_or_system = Q(changed_by__isnull=True) | ~Q(changed_by__role=Role.PARTNER)
    return history.filter(own | by_staff_or_system).annotate(
        shown_changed_by_id=Case(
            When(own, then=F("changed_by_id")), default=None, output_field=IntegerField()
        ),
        shown_note=Case(When(own, then=F("note")), default=Value(""), output_field=CharField()),
    )


def plan_changes_visible_to(user: User) -> QuerySet[PlanChange]:
    """What publications changed per crew; a partner reads its own crews' changes only."""
    changes = PlanChange.objects.all()
    if _role(user) is None:
        return changes.none()
    if user.role == Role.PARTNER:
        return changes.filter(crew__company_id=user.partner_company_id or 0)
    return changes


def published_plan_for(
    *, region: Region | None, start_date: dt.date, end_date: dt.date
) -> QuerySet[Plan]:
    """The published plan a new plan for exactly these dates and region would revise."""
    return Plan.objects.filter(
        region=region, status=PlanStatus.PUBLISHED, start_date=start_date, end_date=end_date
    ).order_by("-published_at")[:1]
