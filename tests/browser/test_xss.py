"""Stored XSS: markup in every text a person can type shows as text, and no script runs.

Issue 18, finding 2: a site named ``<img src=x onerror=…>`` ran script in the
coordinator's browser when a crew-day map opened (Leaflet renders a string tooltip as
HTML). Here every user-editable text the board, the job drawer, both maps, the order
page and the support desk display carries a payload: an ``<img onerror>``, a
``<script>``, an attribute breakout ``"><svg onload>`` or an ``alert()``. Each page is
opened and used in Chromium; the payloads must read as the literal text, set no
``window.__xss``, open no dialog, and the Content-Security-Policy must report no
violation at all (our own pages run under it: no inline script, no injected style).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import Role
from dispatch.models import Job, JobReport, JobStatusChange, Plan, Visit
from dispatch.plans import plan_create
from dispatch.states import JobStatus
from sites.models import ConstructionRecord, Permission, Region, Site
from support.models import CallCategory, FaultIsolation, HandoffTeam
from support.services import call_amend, call_log, calls_purge
from tests.browser.conftest import PASSWORD, login
from tests.factories import (
    make_company,
    make_contract,
    make_crew,
    make_customer,
    make_job,
    make_site,
    make_skill,
    make_survey,
    make_user,
)

pytestmark = pytest.mark.django_db(transaction=True)

IMG = "<img src=x onerror=__xss=1>"
SCRIPT = "<script>__xss=1</script>"
SVG = '"><svg onload=__xss=1>'
ALERT = "<img src=x onerror=alert(1)>"


def payload(label: str, kind: str = IMG) -> str:
    """A label (to find the text again) and one of the payloads."""
    return f"{label}{kind}"


# Installed before any page script: collects CSP reports and runtime errors.
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


@dataclass
class Poisoned:
    plan: Plan
    site: Site
    job: Job
    queued: Job
    visit: Visit


def _next_monday() -> dt.date:
    today = dt.date.today()
    return today + dt.timedelta(days=7 - today.weekday())


@pytest.fixture
def poisoned(transactional_db: None) -> Iterator[Poisoned]:
    region = Region.objects.create(code="xss", name=payload("Region", SVG))
    company = make_company(name=payload("Company", SCRIPT))
    company.regions.add(region)
    skill = make_skill("fibre_splicing")
    crew = make_crew(company=company, name=payload("Crew", SVG), home_latitude=35.69)
    crew.skills.add(skill)
    customer = make_customer(
        name=payload("Customer", SCRIPT),
        name_kana=payload("Kana", IMG),
        contact_person=payload("Contact", SVG),
        phone_alt=SVG,
    )
    contract = make_contract(customer=customer, contract_id="KN-XSS-000001")
    site = make_site(
        name=payload("Site", IMG),
        name_kana=payload("SiteKana", SVG),
        address=payload("Address", ALERT),
        region=region,
        latitude=35.70,
        longitude=139.75,
    )
    contract.sites.add(site)
    make_survey(
        site,
        surveyor=payload("Surveyor", SVG),
        riser_route=payload("RiserRoute", SCRIPT),
        parking_arrangement=payload("SurveyParking", IMG),
        access_rules=payload("Access", ALERT),
        findings=payload("Findings", SCRIPT),
    )
    Permission.objects.create(
        site=site,
        party="management",
        party_name=payload("Party", IMG),
        status="granted",
        requested_on=dt.date(2026, 1, 5),
        decided_on=dt.date(2026, 1, 6),
    )
    ConstructionRecord.objects.create(
        site=site,
        media_converter_location=payload("MC", SVG),
        port=payload("Port", IMG),
        cable_route=payload("Cable", SCRIPT),
        riser=payload("Riser", ALERT),
        notes=payload("AsBuilt", IMG),
        recorded_by_name=payload("Recorder", SVG),
    )
    job = make_job(
        site=site,
        contract=contract,
        reference='J1"><svg onload=__xss=1>',
        status=JobStatus.READY,
        duration_minutes=60,
        work_instructions=payload("Instructions", SCRIPT),
        parking_arrangement=payload("Parking", ALERT),
    )
    job.required_skills.add(skill)
    queued_site = make_site(
        name=payload("QueuedSite", SVG), address=payload("QAddress", IMG), region=region
    )
    queued = make_job(
        site=queued_site,
        reference="Q1<img src=x onerror=__xss=1>",
        status=JobStatus.READY,
        duration_minutes=60,
    )
    queued.required_skills.add(skill)
    JobReport.objects.create(
        job=job, crew=crew, kind="incomplete", reason_code="no_access",
        reason_text=payload("Reason", IMG),
    )  # fmt: skip
    JobStatusChange.objects.create(
        job=job, from_status=JobStatus.NEW, to_status=JobStatus.READY,
        note=payload("Note", SCRIPT),
    )  # fmt: skip
    monday = _next_monday()
    plan = plan_create(
        name=payload("Plan", SVG),
        start_date=monday,
        end_date=monday + dt.timedelta(days=4),
        region=region,
        params={"time_limit_seconds": 3},
    )
    start = timezone.make_aware(dt.datetime.combine(monday, dt.time(9, 0)))
    visit = Visit.objects.create(
        plan=plan,
        job=job,
        crew=crew,
        date=monday,
        sequence=1,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=1),
    )
    coordinator = make_user(Role.COORDINATOR, username="coord", password=PASSWORD)
    operator = make_user(Role.SUPPORT, username="sam", password=PASSWORD)
    call = call_log(
        site=site,
        operator=operator,
        category=CallCategory.NO_CONNECTION,
        fault_isolation=FaultIsolation.UNKNOWN,
        description=payload("CallNotes", IMG),
        caller_name=payload("Caller", SVG),
        contract=contract,
        handoff_team=HandoffTeam.FIELD_MAINTENANCE,
        handoff_note=payload("Handoff", SCRIPT),
        follow_up_needed=True,
        follow_up_due=monday,
        follow_up_note=payload("FollowUp", ALERT),
    )
    call_amend(call=call, author=coordinator, text=payload("Amendment", IMG))
    yield Poisoned(plan=plan, site=site, job=job, queued=queued, visit=visit)
    calls_purge(reason="browser test teardown")


def watch(page: Any) -> dict[str, list[str]]:
    """Dialogs, page errors and console errors, as the page runs."""
    seen: dict[str, list[str]] = {"dialogs": [], "errors": [], "console": []}

    def on_dialog(dialog: Any) -> None:
        seen["dialogs"].append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.on("pageerror", lambda error: seen["errors"].append(str(error)))
    page.on(
        "console",
        lambda message: seen["console"].append(message.text) if message.type == "error" else None,
    )
    page.add_init_script(WATCH)
    return seen


def assert_inert(page: Any, seen: dict[str, list[str]], where: str) -> None:
    page.wait_for_timeout(300)  # let any <img onerror> that got through fire
    assert page.evaluate("typeof window.__xss") == "undefined", f"script ran on {where}"
    assert seen["dialogs"] == [], f"a dialog opened on {where}: {seen['dialogs']}"
    assert page.evaluate("window.__cspViolations") == [], f"CSP violation on {where}"
    assert seen["errors"] == [], f"script error on {where}: {seen['errors']}"
    assert seen["console"] == [], f"console error on {where}: {seen['console']}"
    # No payload became an element anywhere on the page.
    assert page.locator("img[src='x'], svg[onload], script:not([src])").count() == 0, where


def test_markup_in_every_displayed_text_runs_no_script(
    poisoned: Poisoned, live_server: Any, page: Any
) -> None:
    seen = watch(page)
    site, job = poisoned.site, poisoned.job
    login(page, live_server.url, "coord")

    # The week board: the visit in its crew-day, the queued job, all under the CSP.
    page.goto(f"{live_server.url}/plans/{poisoned.plan.pk}/")
    page.locator("#board[data-ready='true']").wait_for()
    visit = page.locator(f"li.visit[data-visit='{poisoned.visit.pk}']")
    assert visit.locator(".site").inner_text() == site.name
    assert visit.locator("a.job-link").inner_text() == job.reference
    assert visit.get_attribute("data-ref") == job.reference
    queued = page.locator(f"#queue li.qjob[data-job='{poisoned.queued.pk}']")
    assert queued.locator(".site").inner_text() == poisoned.queued.site.name
    header = page.locator(".company [role=rowheader]").first.inner_text()
    assert header == job.visits.get().crew.company.name
    assert page.locator(".crew-name").first.inner_text() == poisoned.visit.crew.name
    assert page.get_by_role("heading", level=1).inner_text().startswith(poisoned.plan.name)
    assert_inert(page, seen, "the board")

    # The crew-day map: markers drawn, the visit's tooltip shows the name as text.
    page.locator(f"button.map-link[data-map-crew='{poisoned.visit.crew_id}']").click()
    page.locator("#map-dialog[data-features]").wait_for()
    assert page.locator("#map path.leaflet-interactive").count() >= 2  # home, visit, route
    assert_inert(page, seen, "the crew-day map")
    tooltip = page.locator("#map .leaflet-tooltip").filter(has_text=site.name)
    assert tooltip.count() == 1
    assert job.reference in tooltip.inner_text()
    page.locator("#map-dialog [data-close]").click()

    # The map of unplanned jobs: the queued job's tooltip (shown on hover).
    page.locator("#map-unplanned").click()
    # A function, not an expression: Playwright polls an expression with eval(), which
    # the page's CSP refuses whenever the first check is not already true.
    page.wait_for_function("() => document.getElementById('map-dialog').dataset.features === '1'")
    page.locator("#map path.leaflet-interactive").first.hover()
    page.locator("#map .leaflet-tooltip").filter(has_text=poisoned.queued.site.name).wait_for()
    assert_inert(page, seen, "the map of unplanned jobs")
    page.locator("#map-dialog [data-close]").click()

    # The job drawer: site, customer, instructions, parking, as-built, survey, history.
    visit.locator("a.job-link").click()
    drawer = page.locator("#drawer[open]")
    drawer.locator("#drawer-title").wait_for()
    text = drawer.inner_text()
    for shown in (
        job.reference,
        site.name,
        site.name_kana,
        site.address,
        job.contract.customer.name,
        job.work_instructions,
        job.parking_arrangement,
        payload("MC", SVG),
        payload("Cable", SCRIPT),
        payload("AsBuilt", IMG),
        payload("Surveyor", SVG),
        payload("Findings", SCRIPT),
        payload("SurveyParking", IMG),
        payload("Access", ALERT),
        payload("Party", IMG),
        payload("Reason", IMG),
        payload("Note", SCRIPT),
    ):
        assert shown in text, shown
    assert_inert(page, seen, "the job drawer")
    drawer.locator("[data-close]").first.click()

    # The order page.
    page.goto(f"{live_server.url}/orders/")
    row = page.locator("table.grid tbody tr", has_text="KN-XSS-000001")
    row_text = row.inner_text()
    for shown in (job.contract.customer.name, job.reference, site.name, site.address):
        assert shown in row_text, shown
    assert_inert(page, seen, "the order page")

    # The support desk: search (results come in by fetch), open the card with Enter.
    page.goto(f"{live_server.url}/support/")
    page.locator("#desk-q").fill("KN-XSS-000001")
    page.locator("#desk-results [role=option]").first.wait_for()
    assert site.name in page.locator("#desk-results").inner_text()
    page.locator("#desk-q").press("Enter")
    card = page.locator("#desk-card article.site-card")
    card.wait_for()
    card_text = card.inner_text()
    for shown in (
        site.name,
        site.address,
        job.contract.customer.name,
        job.contract.customer.contact_person,
        payload("MC", SVG),
        payload("Riser", ALERT),
        payload("Recorder", SVG),
        payload("RiserRoute", SCRIPT),
        payload("Access", ALERT),
        payload("Reason", IMG),
        payload("CallNotes", IMG),
        payload("Caller", SVG),
        payload("Handoff", SCRIPT),
        payload("FollowUp", ALERT),
    ):
        assert shown in card_text, shown
    # Amendments are folded away until opened.
    card.locator("article.call details summary").first.click()
    assert payload("Amendment", IMG) in card.inner_text()
    assert_inert(page, seen, "the support desk card")

    # The same card as a full page load (the desk's own URL).
    page.goto(f"{live_server.url}/support/?site={site.pk}")
    page.locator("#card-title").wait_for()
    assert page.locator("#card-title").inner_text().startswith(site.name)
    assert_inert(page, seen, "the support desk page")

    # The language menu, now wired by a script file instead of onchange="…".
    page.locator("#language").select_option("ja")
    page.wait_for_function("() => document.documentElement.lang === 'ja'")
    assert_inert(page, seen, "the language switch")

    # The API documentation (Swagger UI) draws itself under the same policy.
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for(timeout=60_000)
    page.locator(".swagger-ui .opblock").first.wait_for()
    assert_inert(page, seen, "the API documentation")
