"""The live schedule through the API: what coordinators and crews see after Publish (issue 17)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role, User
from dispatch.ledger import ledger_problems, live_visits
from dispatch.models import ALL_WEEKDAYS_MASK, Crew, JobReport, Plan, Visit
from dispatch.runs import plan_request_optimization, run_optimization
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_company, make_user


def client_as(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


@pytest.fixture
def coordinator(world: World) -> APIClient:
    return client_as(make_user(Role.COORDINATOR))


@pytest.fixture
def crew_phone(world: World) -> APIClient:
    """The partner company's user, as its crews' app signs in."""
    return client_as(make_user(Role.PARTNER, partner_company=world.company))


def proposed(world: World, start: dt.date = MONDAY, days: int = 5) -> Plan:
    plan = Plan.objects.create(
        name=f"Week of {start}",
        start_date=start,
        end_date=start + dt.timedelta(days=days - 1),
        region=world.region,
        params={"time_limit_seconds": 1},
    )
    run = plan_request_optimization(plan=plan, enqueue=False)
    run_optimization(run_id=run.pk)
    plan.refresh_from_db()
    return plan


def publish(client: APIClient, plan: Plan) -> Any:
    plan.refresh_from_db()
    return client.post(f"/api/v1/plans/{plan.pk}/publish/", {"version": plan.version})


def report(client: APIClient, job_id: int, body: dict[str, Any], key: str) -> Any:
    return client.post(
        f"/api/v1/jobs/{job_id}/reports/", body, format="json", HTTP_IDEMPOTENCY_KEY=key
    )


def test_publishing_a_job_another_plan_holds_is_a_409_listing_it(
    world: World, coordinator: APIClient
) -> None:
    first, second = proposed(world), proposed(world, MONDAY + dt.timedelta(days=7))
    assert publish(coordinator, first).status_code == 200

    refused = publish(coordinator, second)

    assert refused.status_code == 409
    error = refused.json()["error"]
    assert error["code"] == "schedule_conflict"
    listed = {row["job"] for row in error["conflicts"]}
    assert listed == {v.job.reference for v in second.visits.select_related("job")}
    assert all(row["held_by_plan"] == first.pk for row in error["conflicts"])
    assert coordinator.get(f"/api/v1/plans/{second.pk}/").json()["status"] == "proposed"
    assert ledger_problems() == []


def test_placing_a_job_live_elsewhere_needs_take_over(world: World, coordinator: APIClient) -> None:
    first = proposed(world)
    assert publish(coordinator, first).status_code == 200
    second = proposed(world, MONDAY + dt.timedelta(days=7))
    job = world.jobs[0]
    body = {"job": job.pk, "crew": world.west_crew.pk, "date": str(second.start_date)}

    refused = coordinator.post(f"/api/v1/plans/{second.pk}/visits/", body, format="json")
    assert refused.status_code == 409
    assert refused.json()["error"]["rule"] == "scheduled_elsewhere"

    placed = coordinator.post(
        f"/api/v1/plans/{second.pk}/visits/", {**body, "take_over": True}, format="json"
    )
    assert placed.status_code == 201, placed.json()
    assert placed.json()["takes_over"] is True and placed.json()["locked"] is True
    assert publish(coordinator, second).status_code == 200
    assert live_visits().get(job=job).plan_id == second.pk


def test_a_not_finished_report_leaves_the_crews_route_and_returns_the_job(
    world: World, coordinator: APIClient, crew_phone: APIClient
) -> None:
    plan = proposed(world)
    assert publish(coordinator, plan).status_code == 200
    visit = plan.visits.select_related("job").first()
    assert visit is not None

    sent = report(
        crew_phone,
        visit.job_id,
        {"kind": "incomplete", "reason_code": "no_access", "reason_text": "管理人不在"},
        "k-1",
    )
    assert sent.status_code == 201, sent.json()

    day = crew_phone.get("/api/v1/routes/", {"date": str(visit.date), "crew": visit.crew_id}).json()
    stop = next(s for s in day["routes"][0]["stops"] if s["job"]["id"] == visit.job_id)
    assert (stop["on_schedule"], stop["left_schedule_because"]) == (False, "not_finished")
    job = coordinator.get(f"/api/v1/jobs/{visit.job_id}/").json()
    assert job["status"] == "ready"
    assert (job["failed_attempts"], job["needs_attention"]) == (1, False)
    assert job["returned_from_field_at"] is not None
    again = report(crew_phone, visit.job_id, {"kind": "completed"}, "k-2")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "report_refused"


def test_a_report_before_the_visits_day_is_a_409_a_crew_understands(
    world: World, coordinator: APIClient, crew_phone: APIClient
) -> None:
    Crew.objects.update(working_weekdays=ALL_WEEKDAYS_MASK)
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    plan = proposed(world, tomorrow, days=1)
    assert publish(coordinator, plan).status_code == 200
    visit = Visit.objects.filter(plan=plan).first()
    assert visit is not None

    for key, kind in enumerate(("started", "completed", "incomplete")):
        body: dict[str, Any] = {"kind": kind}
        if kind == "incomplete":
            body["reason_code"] = "customer_absent"
        refused = report(crew_phone, visit.job_id, body, f"k-{key}")
        assert refused.status_code == 409
        error = refused.json()["error"]
        assert error["code"] == "report_refused"
        assert f"planned for {tomorrow:%Y-%m-%d}" in error["message"]
        assert "scheduled" not in error["message"]
    assert not JobReport.objects.exists()


def test_visits_moved_by_hand_survive_the_next_optimize(
    world: World, coordinator: APIClient
) -> None:
    plan = proposed(world)
    visit = plan.visits.order_by("pk").first()
    assert visit is not None
    far = world.west_crew if visit.crew_id == world.east_crew.pk else world.east_crew
    friday = MONDAY + dt.timedelta(days=4)
    moved = coordinator.post(
        f"/api/v1/visits/{visit.pk}/move/", {"crew": far.pk, "date": str(friday)}
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["locked"] is True  # pinned, and the board shows it

    run = coordinator.post(f"/api/v1/plans/{plan.pk}/optimize/").json()
    run_optimization(run_id=run["id"])

    after = plan.visits.get(job_id=visit.job_id)
    assert (after.crew_id, after.date) == (far.pk, friday)


def test_the_crews_calendar_strikes_a_not_finished_visit_through(
    world: World,
    coordinator: APIClient,
    crew_phone: APIClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import api.partner.ical
    from dispatch.calendar_feeds import calendar_feed_create

    monkeypatch.setattr(api.partner.ical, "feed_today", lambda: MONDAY)
    plan = proposed(world)
    assert publish(coordinator, plan).status_code == 200
    visit = plan.visits.select_related("job__site").first()
    assert visit is not None
    _, token = calendar_feed_create(crew=visit.crew)
    sent = report(crew_phone, visit.job_id, {"kind": "incomplete", "reason_code": "weather"}, "k")
    assert sent.status_code == 201

    ics = APIClient().get(f"/api/v1/calendar/{token}.ics").content.decode()

    event = next(e for e in ics.split("BEGIN:VEVENT")[1:] if f"job-{visit.job_id}-" in e)
    assert "STATUS:CANCELLED" in event
    assert "SUMMARY:Not finished:" in event


def test_recording_an_absence_lists_the_live_visits_still_sending_the_crew_out(
    world: World, coordinator: APIClient
) -> None:
    """The absence does not change a published route; whoever records it is told which
    visits a revision must move, so no partner keeps a route for a crew that is away."""
    plan = proposed(world)
    assert publish(coordinator, plan).status_code == 200
    visit = live_visits().order_by("date", "crew_id").first()
    assert visit is not None
    day = str(visit.date)

    created = coordinator.post(
        "/api/v1/crew-unavailabilities/",
        {"crew": visit.crew_id, "start_date": day, "end_date": day, "reason": "研修"},
        format="json",
    )

    assert created.status_code == 201, created.json()
    on_that_day = live_visits().filter(crew_id=visit.crew_id, date=visit.date)
    listed = created.json()["live_visits"]
    assert [row["visit"] for row in listed] == [v.pk for v in on_that_day.order_by("sequence")]
    assert {row["reference"] for row in listed} == {v.job.reference for v in on_that_day}
    assert all(row["plan"] == plan.pk and row["date"] == day for row in listed)
    assert live_visits().filter(pk=visit.pk).exists()  # the routes change only by publishing

    later = coordinator.post(
        "/api/v1/crew-unavailabilities/",
        {"crew": visit.crew_id, "start_date": "2027-03-01", "end_date": "2027-03-02"},
        format="json",
    )
    assert later.status_code == 201 and later.json()["live_visits"] == []
    rows = coordinator.get("/api/v1/crew-unavailabilities/").json()["results"]
    assert rows and all(row["live_visits"] is None for row in rows)


def test_closing_days_lists_the_stranded_visits_to_coordinators_only(
    world: World, coordinator: APIClient, crew_phone: APIClient
) -> None:
    """A company or partner closure strands what the live schedule still sends out on
    those days; the coordinator is told, a partner reading the closure sees no visits."""
    plan = proposed(world)
    assert publish(coordinator, plan).status_code == 200
    visit = live_visits().order_by("date", "crew_id").first()
    assert visit is not None
    day = str(visit.date)
    everyone = live_visits().filter(date=visit.date)
    partners = everyone.filter(crew__company=world.company)

    company = coordinator.post(
        "/api/v1/company-closures/",
        {"start_date": day, "end_date": day, "name": "棚卸"},
        format="json",
    )
    partner = coordinator.post(
        "/api/v1/partner-closures/",
        {"company": world.company.pk, "start_date": day, "end_date": day},
        format="json",
    )

    assert company.status_code == 201, company.json()
    assert partner.status_code == 201, partner.json()
    assert {row["visit"] for row in company.json()["live_visits"]} == {v.pk for v in everyone}
    assert {row["visit"] for row in partner.json()["live_visits"]} == {v.pk for v in partners}
    assert {row["crew_name"] for row in partner.json()["live_visits"]} == {
        v.crew.name for v in partners
    }
    elsewhere = coordinator.post(
        "/api/v1/partner-closures/",
        {"company": make_company(name="別会社").pk, "start_date": day, "end_date": day},
        format="json",
    )
    assert elsewhere.status_code == 201 and elsewhere.json()["live_visits"] == []
    read_by_partner = crew_phone.get(f"/api/v1/company-closures/{company.json()['id']}/")
    assert read_by_partner.status_code == 200
    assert read_by_partner.json()["live_visits"] is None
