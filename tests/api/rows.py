"""One existing row of every API resource, so generated requests can address real objects.

Generated ids almost never name a row, so without these every ``{id}``
operation would only ever answer 404 and its success answer would go
unchecked (that is how four list actions documented as paginated kept
returning bare arrays).
"""

from __future__ import annotations

import datetime as dt

import pytest

from accounts.tokens import token_create
from dispatch.calendar_feeds import calendar_feed_create
from dispatch.models import (
    CompanyClosure,
    CompletionFacts,
    CrewUnavailability,
    CrewWorkingDay,
    JobReport,
    OptimizationRun,
    PartnerClosure,
    PlanningBatch,
    ReportKind,
)
from sites.models import ConstructionRecord, IpPool, Permission, PermissionParty
from support.models import CallCategory
from support.services import call_log
from tests.api.conftest import Cast
from tests.api.photo_rows import a_photo_row
from tests.factories import make_contract, make_survey
from webhooks.services import endpoint_create

#: Path parameters that name a row (the others, like ``kind``, are enums).
ROW_PARAMETERS = {"id", "contract_id", "crew_id", "job_id", "token"}


@pytest.fixture
def addressable(cast: Cast) -> dict[str, int | str]:
    """One existing row per resource, keyed by the path segment that names it."""
    site = cast.job_a.site
    contract = make_contract()
    contract.sites.add(site)
    survey = make_survey(site)
    record = ConstructionRecord.objects.create(
        site=site, job=cast.job_a, media_converter_location="1F MDF", recorded_by=cast.coordinator
    )
    permission = Permission.objects.create(
        site=site,
        contract=contract,
        party=PermissionParty.MANAGEMENT,
        requested_on=dt.date(2026, 11, 2),
    )
    absence = CrewUnavailability.objects.create(
        crew=cast.crew_a, start_date=dt.date(2026, 11, 30), end_date=dt.date(2026, 12, 1)
    )
    company_closure = CompanyClosure.objects.create(
        start_date=dt.date(2026, 12, 29), end_date=dt.date(2027, 1, 3), name="年末年始"
    )
    partner_closure = PartnerClosure.objects.create(
        company=cast.company_a, start_date=dt.date(2026, 11, 27), end_date=dt.date(2026, 11, 27)
    )
    working_day = CrewWorkingDay.objects.create(crew=cast.crew_a, date=dt.date(2026, 11, 28))
    IpPool.objects.create(name="pool", network="10.20.0.0/24", region=cast.region)
    call = call_log(
        site=site, operator=cast.support, category=CallCategory.SLOW, description="速度が遅い"
    )
    feed, feed_token = calendar_feed_create(crew=cast.crew_a, by=cast.coordinator)
    spare_token, _ = token_create(user=cast.coordinator, name="spare")
    batch = PlanningBatch.objects.create(
        start_date=cast.plan.start_date, end_date=cast.plan.end_date, created_by=cast.coordinator
    )
    run = OptimizationRun.objects.create(plan=cast.plan, time_limit_seconds=1)
    done = JobReport.objects.create(
        job=cast.job_a, crew=cast.crew_a, visit=cast.visit_a, kind=ReportKind.COMPLETED
    )
    facts = CompletionFacts.objects.create(
        report=done, job=cast.job_a, site=site, crew=cast.crew_a, company=cast.company_a, port="P-1"
    )
    webhook = endpoint_create(company=cast.company_a, url="https://partner-a.example/hooks")
    return {
        "auth/tokens": spare_token.pk,
        "calendar-feeds": feed.pk,
        "company-closures": company_closure.pk,
        "completion-facts": facts.pk,
        "crew-working-days": working_day.pk,
        "partner-closures": partner_closure.pk,
        "calendar": feed_token,
        "construction-records": record.pk,
        "contracts": contract.pk,
        "crew-unavailabilities": absence.pk,
        "crews": cast.crew_a.pk,
        "customers": contract.customer_id,
        "jobs": cast.job_a.pk,
        "partner-companies": cast.company_a.pk,
        "plan-batches": batch.pk,
        "plans": cast.plan.pk,
        "photos": a_photo_row(cast.job_a, cast.partner_a).pk,
        "regions": cast.region.pk,
        "runs": run.pk,
        "site-permissions": permission.pk,
        "sites": site.pk,
        "skills": cast.crew_a.skills.first().pk,  # type: ignore[union-attr]
        "support/calls": call.pk,
        "support/jobs": cast.job_a.pk,
        "support/sites": site.pk,
        "surveys": survey.pk,
        "visits": cast.visit_a.pk,
        "webhooks": webhook.pk,
    }


def row_for(path: str, rows: dict[str, int | str]) -> int | str | None:
    """The row ``addressable`` made for an operation's path, e.g. ``/api/v1/plans/{id}/runs/``."""
    segment = path.removeprefix("/api/v1/").split("/{", 1)[0]
    return rows.get(segment)
