"""The order status view: every open order's stage and the one thing blocking it."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from delivery.handover import contract_set_billing, ip_allocate, ip_pool_create
from delivery.orders import Stage, open_orders, order_status
from dispatch.models import PlanStatus, ReleaseReason, Visit
from dispatch.services import job_report_incomplete
from dispatch.states import JobStatus
from sites.models import Permission
from tests.factories import (
    make_contract,
    make_crew,
    make_customer,
    make_job,
    make_plan,
    make_site,
    make_survey,
    make_visit,
)

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 11, 23)


def order_for(status: str, *, surveyed: bool = True, **job_fields: object):
    contract = make_contract()
    site = make_site()
    contract.sites.add(site)
    job = make_job(site=site, contract=contract, status=status, surveyed=surveyed, **job_fields)
    return contract, job


def test_the_stage_follows_the_life_of_an_order() -> None:
    contract, _ = order_for(JobStatus.NEW, surveyed=False)
    assert order_status(contract, today=MONDAY).stage == Stage.SURVEY_MISSING

    contract, job = order_for(JobStatus.AWAITING_PERMISSION, surveyed=False)
    make_survey(job.site, needed_parties=["management"])
    Permission.objects.create(site=job.site, party="management", requested_on=MONDAY)
    status = order_status(contract, today=MONDAY)
    assert (status.stage, status.blocker) == (
        Stage.PERMISSION_PENDING,
        "Management company: permission requested on 2026-11-23",
    )

    contract, _ = order_for(JobStatus.READY)
    assert order_status(contract, today=MONDAY).stage == Stage.NOT_PLANNED

    contract, job = order_for(JobStatus.IN_PROGRESS)
    job_report_incomplete(job=job, crew=make_crew(), reason_code="no_access")
    status = order_status(contract, today=MONDAY)
    assert status.stage == Stage.INCOMPLETE_VISIT
    assert "No access" in status.blocker


def test_a_finished_construction_waits_for_ip_and_billing_then_is_ready() -> None:
    contract, _ = order_for(JobStatus.COMPLETED)
    status = order_status(contract, today=MONDAY)
    assert status.stage == Stage.IP_BILLING_PENDING
    assert "no IP address assigned" in status.blocker and "billing" in status.blocker
    pool = ip_pool_create(name="test", network="10.99.0.0/29")
    ip_allocate(contract=contract, pool=pool)
    contract_set_billing(contract=contract, status="requested")
    contract_set_billing(contract=contract, status="ready")
    contract.refresh_from_db()
    assert order_status(contract, today=MONDAY).stage == Stage.READY_FOR_HANDOVER


def test_the_demo_week_shows_every_stage_of_the_pipeline() -> None:
    call_command("seed_demo", "--week-start", "2026-11-23", "--plan", "3", stdout=StringIO())
    stages = {status.stage for status in open_orders(today=MONDAY)}
    missing = set(Stage.ALL) - stages - {Stage.IN_PROGRESS}  # nobody is on site before Monday
    assert not missing, f"the demo shows no order in {missing}"


def test_filters_by_team_stage_and_search() -> None:
    contract, _ = order_for(JobStatus.READY)
    contract.delivery_team = 3
    contract.save()
    order_for(JobStatus.NEW, surveyed=False)
    assert [s.contract for s in open_orders(team=3, today=MONDAY)] == [contract]
    assert [s.contract for s in open_orders(stage=Stage.NOT_PLANNED, today=MONDAY)] == [contract]
    assert [s.contract for s in open_orders(search=contract.contract_id, today=MONDAY)] == [
        contract
    ]


@pytest.mark.parametrize(
    "query",
    [
        "しらさぎ",  # hiragana finds the katakana name
        "ｼﾗｻｷﾞ",  # half-width katakana too
        "シラサギ",
        "白鷺 商事",  # every word must match, in any field
        "芝浦三丁目4番",  # the address as spelled on another form
        "芝浦３－４－１",
        "j-424242",  # a job's reference, any case
        "J424242",
        "03-5259-3118",  # the customer's phone in any spelling
        "０３５２５９３１１８",
    ],
)
def test_search_folds_kana_and_finds_a_job_by_its_reference(query: str) -> None:
    """The order page's search spells like the support search (sites.normalize)."""
    contract = make_contract(
        customer=make_customer(
            name="株式会社白鷺商事", name_kana="シラサギショウジ", phone="0352593118"
        )
    )
    site = make_site(address="東京都港区芝浦3-4-1")
    contract.sites.add(site)
    make_job(site=site, contract=contract, status=JobStatus.READY, reference="J-424242")
    other, _ = order_for(JobStatus.READY)
    other.customer.name = "株式会社青鷺"
    other.customer.save()
    found = [s.contract for s in open_orders(search=query, today=MONDAY)]
    if "芝浦" in query:  # both orders are at 芝浦3-4-1 (the factory's address)
        assert contract in found
    else:
        assert found == [contract]


def test_search_finds_nothing_for_a_word_no_field_holds() -> None:
    contract, _ = order_for(JobStatus.READY)
    assert open_orders(search=f"{contract.contract_id} くじら", today=MONDAY) == []


def test_handed_over_and_cancelled_orders_are_not_open() -> None:
    handed, _ = order_for(JobStatus.HANDED_OVER)
    handed.handed_over_at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    handed.save()
    cancelled, _ = order_for(JobStatus.CANCELLED)
    cancelled.status = "cancelled"
    cancelled.save()
    assert open_orders(today=MONDAY) == []


def _published_visit(job, crew, date, published_at):  # type: ignore[no-untyped-def]
    plan = make_plan(
        start_date=MONDAY, end_date=MONDAY + dt.timedelta(days=6),
        status=PlanStatus.PUBLISHED, published_at=published_at,
    )  # fmt: skip
    return make_visit(plan=plan, job=job, crew=crew, date=date)


def test_the_planned_visit_is_the_live_one_not_the_newest_published_plans() -> None:
    contract, job = order_for(JobStatus.SCHEDULED)
    west = make_crew(name="West")
    live = _published_visit(job, west, MONDAY + dt.timedelta(days=3), timezone.now())
    # A newer published plan still lists the job, but its visit left the schedule
    # (moved into the other plan by a coordinator): it is history, not the plan.
    newer = make_plan(start_date=MONDAY, end_date=MONDAY + dt.timedelta(days=6))
    old = make_visit(plan=newer, job=job, crew=make_crew(name="East"), date=MONDAY)
    newer.status, newer.published_at = PlanStatus.PUBLISHED, timezone.now() + dt.timedelta(hours=1)
    newer.save()
    Visit.objects.filter(pk=old.pk).update(
        released_at=timezone.now(), release_reason=ReleaseReason.TAKEN_OVER
    )
    assert live.route_id is not None
    status = order_status(contract, today=MONDAY)
    assert status.stage == Stage.PLANNED
    assert status.planned_date == MONDAY + dt.timedelta(days=3)
    assert status.blocker == f"planned for {MONDAY + dt.timedelta(days=3)} by West"
    [listed] = open_orders(today=MONDAY)  # the prefetched path says the same
    assert (listed.planned_date, listed.blocker) == (status.planned_date, status.blocker)


def test_a_scheduled_job_on_no_live_route_is_not_called_planned_for_a_date() -> None:
    contract, job = order_for(JobStatus.SCHEDULED)
    visit = _published_visit(job, make_crew(), MONDAY, timezone.now())
    Visit.objects.filter(pk=visit.pk).update(
        route=None, released_at=timezone.now(), release_reason=ReleaseReason.REPLACED
    )
    status = order_status(contract, today=MONDAY)
    assert status.planned_date is None and "no live route" in status.blocker


def test_a_job_returned_from_the_field_says_so_with_its_attempt() -> None:
    contract, job = order_for(JobStatus.IN_PROGRESS)
    report = job_report_incomplete(
        job=job, crew=make_crew(), reason_code="no_access", reason_text="鍵なし"
    )
    status = order_status(contract, today=MONDAY)
    assert status.stage == Stage.INCOMPLETE_VISIT
    assert status.returned == report and status.attempt == 1
    local_day = timezone.localtime(report.occurred_at).date()
    assert status.blocker == (
        f"returned from the field (attempt 1): not finished on {local_day}: "
        "No access to the building or room — being re-planned"
    )
    [listed] = open_orders(today=MONDAY)
    assert listed.blocker == status.blocker and listed.returned == report
