"""Every operation of the API, for every role: who gets in, who is turned away.

The table below is the access policy written down once. The test walks the
OpenAPI schema (so the URLconf as it really is) and fails for any operation the
table does not mention: a new endpoint cannot ship without a rule.

Codes per operation, in the order coordinator, support, partner:
``+`` the role gets in (any answer but 401/403), ``-`` the role is refused (403).
Anonymous callers get 401 everywhere except the operations in ``PUBLIC``.
Partners use their own company's objects here; reaching another partner's
objects is covered by the isolation tests (404, never 403).

Access is not enough: a partner must also not *read* another company's
things inside what it may open. The last test checks content: in a world
where a job moved from company A to company B (A's reports, A's words in the
history, A's other work on the same plan), partner B calls every GET the table
grants partners, and no response carries A's names, texts or ids.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.core.cache import cache
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import (
    CalendarFeed,
    CompanyClosure,
    CrewUnavailability,
    CrewWorkingDay,
    OptimizationRun,
    PartnerClosure,
    PlanningBatch,
    RunStatus,
)
from sites.models import ConstructionRecord, Contract, Customer, Permission, SiteSurvey
from support.models import Call
from tests.api.conftest import MONDAY, Cast
from tests.api.moved_job import MARKER_A, MARKER_B, MovedJob, build_moved_job, foreign_ids
from tests.api.photo_rows import a_photo_row
from webhooks.models import WebhookDelivery, WebhookEvent
from webhooks.services import endpoint_create

DETAIL_METHODS = ("GET", "PUT", "PATCH", "DELETE")
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}

MATRIX: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/auth/login/"): "+++",
    ("POST", "/api/v1/auth/login/"): "+++",
    ("POST", "/api/v1/auth/logout/"): "+++",
    ("GET", "/api/v1/auth/me/"): "+++",
    ("GET", "/api/v1/auth/tokens/"): "+++",
    ("POST", "/api/v1/auth/tokens/"): "+++",
    ("DELETE", "/api/v1/auth/tokens/{id}/"): "+++",
    ("POST", "/api/v1/auth/tokens/{id}/rotate/"): "+++",
    ("GET", "/api/v1/health/"): "+++",
    ("GET", "/api/v1/audit/"): "+--",
    ("GET", "/api/v1/calendar/{token}.ics"): "+++",
    ("GET", "/api/v1/crews/{crew_id}/calendar-feeds/"): "+-+",
    ("POST", "/api/v1/crews/{crew_id}/calendar-feeds/"): "+-+",
    ("DELETE", "/api/v1/calendar-feeds/{id}/"): "+-+",
    # Webhooks: partners configure their own company's; coordinators read every log.
    ("GET", "/api/v1/webhooks/"): "+-+",
    ("POST", "/api/v1/webhooks/"): "--+",
    ("GET", "/api/v1/webhooks/{id}/"): "+-+",
    ("PATCH", "/api/v1/webhooks/{id}/"): "--+",
    ("DELETE", "/api/v1/webhooks/{id}/"): "--+",
    ("POST", "/api/v1/webhooks/{id}/rotate-secret/"): "--+",
    ("GET", "/api/v1/webhooks/{id}/deliveries/"): "+-+",
    ("POST", "/api/v1/webhook-deliveries/{id}/replay/"): "--+",
    # Reference data every role reads; only coordinators change it.
    **{(m, "/api/v1/skills/"): c for m, c in (("GET", "+++"), ("POST", "+--"))},
    **{(m, "/api/v1/skills/{id}/"): "+++" if m == "GET" else "+--" for m in DETAIL_METHODS},
    # Partners: their own company and crews, read-only.
    **{(m, "/api/v1/partner-companies/"): c for m, c in (("GET", "+-+"), ("POST", "+--"))},
    **{
        (m, "/api/v1/partner-companies/{id}/"): "+-+" if m == "GET" else "+--"
        for m in DETAIL_METHODS
    },
    **{(m, "/api/v1/crews/"): c for m, c in (("GET", "+-+"), ("POST", "+--"))},
    **{(m, "/api/v1/crews/{id}/"): "+-+" if m == "GET" else "+--" for m in DETAIL_METHODS},
    # Calendars: the department's closures are no secret; a partner reads its own company's
    # closures and crews' extra days; the calendar shows absences, so coordinators only.
    **{(m, "/api/v1/company-closures/"): c for m, c in (("GET", "+++"), ("POST", "+--"))},
    **{
        (m, "/api/v1/company-closures/{id}/"): "+++" if m == "GET" else "+--"
        for m in DETAIL_METHODS
    },
    **{
        (m, f"/api/v1/{name}/"): c
        for name in ("partner-closures", "crew-working-days")
        for m, c in (("GET", "+-+"), ("POST", "+--"))
    },
    **{
        (m, f"/api/v1/{name}/{{id}}/"): "+-+" if m == "GET" else "+--"
        for name in ("partner-closures", "crew-working-days")
        for m in DETAIL_METHODS
    },
    ("GET", "/api/v1/calendar/"): "+--",
    **{(m, "/api/v1/crew-unavailabilities/"): "+--" for m in ("GET", "POST")},
    **{(m, "/api/v1/crew-unavailabilities/{id}/"): "+--" for m in DETAIL_METHODS},
    # What support reads during a call; partners see only their jobs' sites.
    **{(m, "/api/v1/sites/"): c for m, c in (("GET", "+++"), ("POST", "+--"))},
    **{(m, "/api/v1/sites/{id}/"): "+++" if m == "GET" else "+--" for m in DETAIL_METHODS},
    **{(m, "/api/v1/jobs/"): c for m, c in (("GET", "+++"), ("POST", "+--"))},
    **{(m, "/api/v1/jobs/{id}/"): "+++" if m == "GET" else "+--" for m in DETAIL_METHODS},
    ("POST", "/api/v1/jobs/{id}/transition/"): "+--",
    ("GET", "/api/v1/jobs/{job_id}/reports/"): "+++",
    ("POST", "/api/v1/jobs/{job_id}/reports/"): "+-+",
    **{
        (m, f"/api/v1/{name}/"): c
        for name in (
            "regions",
            "customers",
            "contracts",
            "surveys",
            "site-permissions",
            "construction-records",
        )
        for m, c in (("GET", "++-"), ("POST", "+--"))
    },
    **{
        (m, f"/api/v1/{name}/{{id}}/"): "++-" if m == "GET" else "+--"
        for name in (
            "regions",
            "customers",
            "contracts",
            "surveys",
            "site-permissions",
            "construction-records",
        )
        for m in DETAIL_METHODS
    },
    # Plans: coordinators plan; partners read what is published for them; support never.
    ("GET", "/api/v1/plans/"): "+-+",
    ("POST", "/api/v1/plans/"): "+--",
    ("GET", "/api/v1/plans/{id}/"): "+-+",
    ("PATCH", "/api/v1/plans/{id}/"): "+--",
    ("GET", "/api/v1/plans/{id}/changes/"): "+-+",
    ("GET", "/api/v1/plans/{id}/visits/"): "+-+",
    ("POST", "/api/v1/plans/{id}/visits/"): "+--",
    ("GET", "/api/v1/plans/{id}/runs/"): "+--",
    **{
        ("POST", f"/api/v1/plans/{{id}}/{action}/"): "+--"
        for action in ("optimize", "publish", "revise", "discard")
    },
    ("GET", "/api/v1/runs/{id}/"): "+--",
    ("POST", "/api/v1/runs/{id}/cancel/"): "+--",
    ("POST", "/api/v1/runs/{id}/accept/"): "+--",
    ("POST", "/api/v1/runs/{id}/discard/"): "+--",
    ("GET", "/api/v1/plans/{id}/publish-preview/"): "+--",
    # A week for all regions in one action: coordinators only.
    ("GET", "/api/v1/plan-batches/"): "+--",
    ("POST", "/api/v1/plan-batches/"): "+--",
    ("GET", "/api/v1/plan-batches/{id}/"): "+--",
    ("POST", "/api/v1/plan-batches/{id}/publish/"): "+--",
    ("GET", "/api/v1/visits/{id}/"): "+-+",
    **{
        ("POST", f"/api/v1/visits/{{id}}/{action}/"): "+--"
        for action in ("move", "lock", "unlock", "unassign")
    },
    # Delivery pipeline: coordinators act, support reads where it helps on a call.
    ("GET", "/api/v1/orders/"): "++-",
    ("GET", "/api/v1/jobs/{id}/blockers/"): "++-",
    ("POST", "/api/v1/jobs/{id}/estimate/"): "+--",
    ("GET", "/api/v1/surveys/{id}/estimate/"): "++-",
    ("GET", "/api/v1/ip-pools/"): "+--",
    ("POST", "/api/v1/ip-pools/"): "+--",
    ("GET", "/api/v1/contracts/{contract_id}/ip/"): "++-",
    ("POST", "/api/v1/contracts/{contract_id}/ip/"): "+--",
    ("DELETE", "/api/v1/contracts/{contract_id}/ip/"): "+--",
    ("POST", "/api/v1/contracts/{contract_id}/billing/"): "+--",
    ("GET", "/api/v1/contracts/{contract_id}/handover/"): "++-",
    ("POST", "/api/v1/contracts/{contract_id}/handover/"): "+--",
    # Completion facts: partners read theirs on their reports; coordinators decide.
    ("GET", "/api/v1/completion-facts/"): "++-",
    ("GET", "/api/v1/completion-facts/{id}/"): "++-",
    ("POST", "/api/v1/completion-facts/{id}/confirm/"): "+--",
    ("POST", "/api/v1/completion-facts/{id}/reject/"): "+--",
    ("POST", "/api/v1/imports/{kind}/preview/"): "+--",
    ("POST", "/api/v1/imports/{kind}/apply/"): "+--",
    ("GET", "/api/v1/imports/geocoding/"): "+--",
    ("GET", "/api/v1/exports/{kind}.{file_format}"): "+--",
    ("GET", "/api/v1/routes/"): "+-+",
    ("GET", "/api/v1/routes/geojson/"): "+-+",
    # Support desk: support reads and logs calls, coordinators read; partners never.
    ("GET", "/api/v1/support/search/"): "++-",
    ("GET", "/api/v1/support/sites/{id}/card/"): "++-",
    ("GET", "/api/v1/support/calls/"): "++-",
    ("POST", "/api/v1/support/calls/"): "-+-",
    ("GET", "/api/v1/support/calls/{id}/"): "++-",
    ("POST", "/api/v1/support/calls/{id}/amendments/"): "-+-",
    ("POST", "/api/v1/support/calls/{id}/maintenance/"): "-+-",
    ("POST", "/api/v1/support/calls/{id}/slot-offers/"): "++-",
    ("POST", "/api/v1/support/calls/{id}/book-slot/"): "-+-",
    # A new slot for a job already in the queue: the same split as a call's slots.
    ("POST", "/api/v1/support/jobs/{id}/slot-offers/"): "++-",
    ("POST", "/api/v1/support/jobs/{id}/book-slot/"): "-+-",
    # Hand-offs: receivers among support and coordinators act (403 not_a_receiver otherwise).
    ("POST", "/api/v1/support/calls/{id}/handoff/acknowledge/"): "++-",
    ("POST", "/api/v1/support/calls/{id}/handoff/done/"): "++-",
    ("GET", "/api/v1/support/recurring-issues/"): "++-",
    # Crews' photos: partners upload and read their own company's; support reads all.
    ("GET", "/api/v1/photos/"): "+++",
    ("POST", "/api/v1/photos/"): "+-+",
    ("GET", "/api/v1/photos/{id}/"): "+++",
    ("GET", "/api/v1/photos/{id}/image/"): "+++",
    ("GET", "/api/v1/photos/{id}/thumbnail/"): "+++",
}

PUBLIC = {
    ("GET", "/api/v1/auth/login/"),
    ("POST", "/api/v1/auth/login/"),
    ("GET", "/api/v1/health/"),
    ("GET", "/api/v1/calendar/{token}.ics"),
}

ROLES = ("coordinator", "support", "partner")


def _operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in HTTP_METHODS
    )


OPERATIONS = _operations()


def test_every_operation_has_a_rule_and_every_rule_an_operation() -> None:
    missing = [op for op in OPERATIONS if op not in MATRIX]
    stale = [op for op in MATRIX if op not in OPERATIONS]
    assert not missing, f"operations without an access rule: {missing}"
    assert not stale, f"rules for operations that do not exist: {stale}"


def _path_values(cast: Cast) -> dict[str, int | str]:
    """One real object of partner A's world per resource, created for the walk."""
    survey = SiteSurvey.objects.create(
        site=cast.job_a.site,
        surveyed_on=MONDAY - dt.timedelta(days=20),
        surveyor="山田",
        distance_to_base_station_m=300,
    )
    customer = Customer.objects.create(name="株式会社テスト")
    contract = Contract.objects.create(customer=customer, contract_id="C-MATRIX-1")
    permission = Permission.objects.create(
        site=cast.job_a.site, party="owner", requested_on=MONDAY - dt.timedelta(days=30)
    )
    record = ConstructionRecord.objects.create(
        site=cast.job_a.site, media_converter_location="3F EPS"
    )
    unavailable = CrewUnavailability.objects.create(
        crew=cast.crew_a, start_date=MONDAY, end_date=MONDAY
    )
    company_closure = CompanyClosure.objects.create(start_date=MONDAY, end_date=MONDAY, name="棚卸")
    partner_closure = PartnerClosure.objects.create(
        company=cast.company_a, start_date=MONDAY, end_date=MONDAY
    )
    working_day = CrewWorkingDay.objects.create(crew=cast.crew_a, date=MONDAY)
    run = OptimizationRun.objects.create(plan=cast.plan, status=RunStatus.SUCCEEDED)
    batch = PlanningBatch.objects.create(start_date=MONDAY, end_date=MONDAY)
    feed = CalendarFeed.objects.create(crew=cast.crew_a, token_hash="0" * 64)
    call = Call.objects.create(
        site=cast.job_a.site, operator=cast.support, category="no_connection", description="不通"
    )
    webhook = endpoint_create(company=cast.company_a, url="https://partner-a.example/hooks")
    event = WebhookEvent.objects.create(company=cast.company_a, type="job.returned", payload={})
    delivery = WebhookDelivery.objects.create(endpoint=webhook, event=event)
    return {
        "/api/v1/plans/": cast.plan.pk,
        "/api/v1/visits/": cast.visit_a.pk,
        "/api/v1/runs/": run.pk,
        "/api/v1/plan-batches/": batch.pk,
        "/api/v1/crews/": cast.crew_a.pk,
        "/api/v1/jobs/": cast.job_a.pk,
        "/api/v1/sites/": cast.job_a.site_id,
        "/api/v1/partner-companies/": cast.company_a.pk,
        "/api/v1/skills/": cast.crew_a.skills.get().pk,
        "/api/v1/regions/": cast.region.pk,
        "/api/v1/customers/": customer.pk,
        "/api/v1/contracts/": contract.pk,
        "/api/v1/surveys/": survey.pk,
        "/api/v1/site-permissions/": permission.pk,
        "/api/v1/construction-records/": record.pk,
        "/api/v1/crew-unavailabilities/": unavailable.pk,
        "/api/v1/company-closures/": company_closure.pk,
        "/api/v1/partner-closures/": partner_closure.pk,
        "/api/v1/crew-working-days/": working_day.pk,
        "/api/v1/calendar-feeds/": feed.pk,
        "/api/v1/auth/tokens/": 999_999,
        "/api/v1/calendar/": "not-a-real-token",
        "/api/v1/imports/": "orders",
        "/api/v1/exports/": "orders",
        "/api/v1/exports/{kind}.": "csv",
        "/api/v1/support/sites/": cast.job_a.site_id,
        "/api/v1/support/calls/": call.pk,
        "/api/v1/support/jobs/": cast.job_a.pk,
        "/api/v1/photos/": a_photo_row(cast.job_a, cast.partner_a).pk,
        "/api/v1/completion-facts/": 999_999,
        "/api/v1/webhooks/": webhook.pk,
        "/api/v1/webhook-deliveries/": delivery.pk,
    }


def _url(path: str, values: dict[str, int | str]) -> str:
    def value(match: re.Match[str]) -> str:
        prefix = path[: match.start()]
        return str(values[prefix])

    url = re.sub(r"\{[a-z_]+\}", value, path)
    return url + ("?date=2026-11-23" if "/routes/" in path else "")


def _user(cast: Cast, role: str | None) -> User | None:
    return {
        None: None,
        "coordinator": cast.coordinator,
        "support": cast.support,
        "partner": cast.partner_a,
    }[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "anonymous"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_the_role_gets_exactly_the_access_the_matrix_says(
    cast: Cast,
    client_for: Callable[[User | None], APIClient],
    method: str,
    path: str,
    role: str | None,
) -> None:
    cache.clear()  # login throttling must not interfere with the walk
    url = _url(path, _path_values(cast))
    client = client_for(_user(cast, role))
    response = getattr(client, method.lower())(url, {}, format="json")
    if role is None:
        if (method, path) in PUBLIC:
            assert response.status_code not in (401, 403), response.content
        else:
            assert response.status_code == 401, response.content
        return
    expected = MATRIX[(method, path)][ROLES.index(role)]
    if expected == "+":
        assert response.status_code not in (401, 403), response.content
    else:
        assert response.status_code == 403, response.content
    if response.status_code >= 400:
        assert set(response.json()["error"]) >= {"status", "code", "message"}


# --- content: what a partner reads carries nothing of another company ------------------

PARTNER_READS = [
    (method, path)
    for method, path in OPERATIONS
    if method == "GET" and MATRIX[(method, path)][ROLES.index("partner")] == "+"
    # Image bytes carry no text; who may fetch them is tests/api/test_photos.py's.
    if not path.endswith(("/image/", "/thumbnail/"))
]

#: What the ``id`` of a response's top-level object (or of its ``results``) is.
TOP_LEVEL_KIND = {
    "/api/v1/jobs/": "job",
    "/api/v1/jobs/{id}/": "job",
    "/api/v1/jobs/{job_id}/reports/": "report",
    "/api/v1/sites/": "site",
    "/api/v1/sites/{id}/": "site",
    "/api/v1/crews/": "crew",
    "/api/v1/crews/{id}/": "crew",
    "/api/v1/crews/{crew_id}/calendar-feeds/": "feed",
    "/api/v1/partner-companies/": "company",
    "/api/v1/partner-companies/{id}/": "company",
    "/api/v1/visits/{id}/": "visit",
    "/api/v1/plans/{id}/visits/": "visit",
    "/api/v1/plans/{id}/changes/": "plan_change",
    "/api/v1/auth/me/": "user",
}


def _calendar_rows(moved: MovedJob) -> dict[str, int | str]:
    """Both companies' closures and extra working days; A's words carry ``MARKER_A``."""
    for company, crew, marker in (
        (moved.company_a, moved.crew_a, MARKER_A),
        (moved.company_b, moved.crew_b, MARKER_B),
    ):
        PartnerClosure.objects.create(
            company=company, start_date=moved.day, end_date=moved.day, reason=f"{marker}旅行"
        )
        CrewWorkingDay.objects.create(crew=crew, date=moved.day, note=f"{marker}応援")
    a_photo_row(moved.job, moved.partner_a, caption=f"{MARKER_A}写真")
    photo_b = a_photo_row(moved.job, moved.partner_b, caption=f"{MARKER_B}写真")
    hooks = {}
    for company, marker in ((moved.company_a, MARKER_A), (moved.company_b, MARKER_B)):
        hook = endpoint_create(company=company, url=f"https://x.example/{marker}hooks")
        event = WebhookEvent.objects.create(
            company=company, type="job.returned", payload={"note": f"{marker}event"}
        )
        WebhookDelivery.objects.create(endpoint=hook, event=event)
        hooks[company.pk] = hook.pk
    return {
        "/api/v1/photos/": photo_b.pk,
        "/api/v1/company-closures/": CompanyClosure.objects.create(
            start_date=moved.day, end_date=moved.day, name="棚卸"
        ).pk,
        "/api/v1/partner-closures/": PartnerClosure.objects.get(company=moved.company_b).pk,
        "/api/v1/crew-working-days/": CrewWorkingDay.objects.get(crew=moved.crew_b).pk,
        "/api/v1/webhooks/": hooks[moved.company_b.pk],
    }


def _moved_job_url(
    path: str, moved: MovedJob, calendar_rows: dict[str, int | str] | None = None
) -> str:
    """``path`` with partner B's own objects of the moved-job world, so every request resolves."""
    values: dict[str, int | str] = {
        **(calendar_rows or {}),
        "/api/v1/plans/": moved.revision.pk,
        "/api/v1/visits/": moved.visit_b.pk,
        "/api/v1/crews/": moved.crew_b.pk,
        "/api/v1/jobs/": moved.job.pk,
        "/api/v1/sites/": moved.job.site_id,
        "/api/v1/partner-companies/": moved.company_b.pk,
        "/api/v1/skills/": moved.skill.pk,
        "/api/v1/calendar/": moved.feed_token_b,
    }
    url = _url(path, values).split("?")[0]
    if path == "/api/v1/routes/":
        url += f"?date={moved.day.isoformat()}"
    elif path == "/api/v1/routes/geojson/":
        url += f"?date={moved.day.isoformat()}&crew={moved.crew_b.pk}"
    return url


@pytest.mark.django_db
def test_a_partner_reads_nothing_of_another_company_after_a_job_moved() -> None:
    """Every GET partners may call, as partner B, after a job moved from company A to B.

    A's names and texts all start with ``MARKER-A-`` (a substring scan of the
    body finds any of them); A's numeric ids are checked in the fields that
    hold ids of their kind (``changed_by``, ``crew``, ``reports[].id``, …).
    """
    cache.clear()
    moved = build_moved_job()
    calendar_rows = _calendar_rows(moved)
    client = APIClient()
    client.force_authenticate(user=moved.partner_b)
    unresolved: dict[str, int] = {}
    leaks: dict[str, list[str]] = {}
    shows_own: set[str] = set()
    for _method, path in PARTNER_READS:
        response = client.get(_moved_job_url(path, moved, calendar_rows))
        if response.status_code != 200:
            unresolved[path] = response.status_code
            continue
        text = response.content.decode()
        if response["Content-Type"].startswith("text/calendar"):
            text = text.replace("\r\n ", "")  # unfold RFC 5545 lines before scanning
            found = []
        else:
            found = foreign_ids(response.json(), moved.ids_a, TOP_LEVEL_KIND.get(path))
        if MARKER_A in text:
            start = text.index(MARKER_A)
            found.append(f"text …{text[max(0, start - 60) : start + 40]}…")
        if found:
            leaks[path] = found
        if MARKER_B in text:
            shows_own.add(path)

    assert not unresolved, f"give these a partner-B object in _moved_job_url: {unresolved}"
    assert not leaks, leaks
    # Not vacuous: B does read its own company's names and words where they belong.
    assert {
        "/api/v1/jobs/{id}/",
        "/api/v1/jobs/{job_id}/reports/",
        "/api/v1/routes/",
        "/api/v1/crews/",
        "/api/v1/partner-companies/",
        "/api/v1/calendar/{token}.ics",
        "/api/v1/partner-closures/",
        "/api/v1/crew-working-days/",
        "/api/v1/webhooks/{id}/deliveries/",
    } <= shows_own
