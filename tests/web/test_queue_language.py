"""The week board's queue gives the planner's reasons in the coordinator's language."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import Role
from dispatch.models import Plan
from dispatch.runs import plan_request_optimization, run_optimization
from tests.dispatch.conftest import World
from tests.factories import make_job, make_site, make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator() -> Client:
    client = Client()
    client.force_login(make_user(Role.COORDINATOR))
    return client


@pytest.fixture
def screened_plan(world: World) -> Plan:
    """The world optimized with one more job for three people (its crews have two)."""
    site = make_site(region=world.region, latitude=35.693, longitude=139.75)
    make_job(site=site, status="ready", duration_minutes=60, members_needed=3, reference="J-BIG")
    plan = world.plan()
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan.refresh_from_db()
    return plan


def reasons_of(html: str, reference: str) -> str:
    """The reasons list of one queued job."""
    item = html[html.index(f'data-ref="{reference}"') :]
    return item[item.index('<ul class="reasons">') : item.index("</ul>")]


def test_a_screened_jobs_reason_is_japanese_on_a_japanese_board(
    screened_plan: Plan, coordinator: Client
) -> None:
    html = coordinator.get(
        f"/plans/{screened_plan.pk}/queue/", HTTP_ACCEPT_LANGUAGE="ja"
    ).content.decode()
    shown = reasons_of(html, "J-BIG")
    assert "必要な技能を持つ班に 3 名以上の班がありません" in shown
    text = re.sub(r"<[^>]+>", "", shown)
    assert not re.search(r"[A-Za-z]{3,}", text), text


def test_the_same_reason_is_english_on_an_english_board(
    screened_plan: Plan, coordinator: Client
) -> None:
    html = coordinator.get(
        f"/plans/{screened_plan.pk}/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "no crew with the skills has 3 members" in reasons_of(html, "J-BIG")
