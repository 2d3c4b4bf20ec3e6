"""Reads of dispatch data, scoped by who asks.

The partner rules live here, once: a partner sees its own crews, and of the
plans only what is *published* for those crews. Views build their querysets
from these functions, so an object outside the scope is simply not found.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import Role, User
from sites.models import Site

from .ledger import scheduled_or_failed_visits
from .models import Crew, Job, PartnerCompany, Plan, PlanStatus, Visit


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
