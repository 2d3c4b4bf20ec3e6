"""The order status view: every open order's stage and the one thing blocking it."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command

from dispatch.orders import Stage, open_orders, order_status
from dispatch.services import job_report_incomplete
from dispatch.states import JobStatus
from sites.handover import contract_set_billing, ip_allocate, ip_pool_create
from sites.models import Permission
from tests.factories import make_contract, make_crew, make_job, make_site, make_survey

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


def test_handed_over_and_cancelled_orders_are_not_open() -> None:
    handed, _ = order_for(JobStatus.HANDED_OVER)
    handed.handed_over_at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    handed.save()
    cancelled, _ = order_for(JobStatus.CANCELLED)
    cancelled.status = "cancelled"
    cancelled.save()
    assert open_orders(today=MONDAY) == []
