"""The order status page: the delivery teams' shared view in the browser, English and Japanese."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from dispatch.services import job_report_incomplete
from dispatch.states import JobStatus
from tests.factories import (
    make_company,
    make_contract,
    make_crew,
    make_job,
    make_site,
    make_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_client() -> Client:
    client = Client()
    client.force_login(make_user(Role.COORDINATOR))
    return client


def test_it_lists_open_orders_with_stage_and_blocker(coordinator_client: Client) -> None:
    contract = make_contract(delivery_team=1)
    site = make_site(name="丸の内テストビル")
    contract.sites.add(site)
    make_job(site=site, contract=contract, status=JobStatus.READY)
    page = coordinator_client.get("/orders/").content.decode()
    assert contract.contract_id in page
    assert "丸の内テストビル" in page
    assert "ready, waiting for a plan" in page
    assert 'class="badge stage-not_planned"' in page


def test_stage_and_team_filters(coordinator_client: Client) -> None:
    contract = make_contract(delivery_team=2)
    make_job(contract=contract, status=JobStatus.NEW, surveyed=False)
    assert contract.contract_id in coordinator_client.get("/orders/?team=2").content.decode()
    assert contract.contract_id not in coordinator_client.get("/orders/?team=1").content.decode()
    planned_only = coordinator_client.get("/orders/?stage=planned").content.decode()
    assert contract.contract_id not in planned_only


def test_the_page_speaks_japanese_when_asked(coordinator_client: Client) -> None:
    response = coordinator_client.post("/i18n/setlang/", {"language": "ja", "next": "/orders/"})
    assert response.status_code == 302
    page = coordinator_client.get("/orders/").content.decode()
    assert "進行中の案件" in page and 'lang="ja"' in page


def test_anonymous_users_are_sent_to_sign_in_and_partners_are_refused() -> None:
    assert Client().get("/orders/").url.startswith("/login/?next=/orders/")
    partner = Client()
    partner.force_login(make_user(Role.PARTNER, partner_company=make_company()))
    assert partner.get("/orders/").status_code == 403


def test_sign_in_leads_support_to_the_support_desk(db: None) -> None:
    user = make_user(Role.SUPPORT, username="sam")
    user.set_password("correct horse")
    user.save()
    client = Client()
    response = client.post("/login/", {"username": "sam", "password": "correct horse"})
    assert response.status_code == 302 and response.url == "/"
    assert client.get("/").url == "/support/"  # the landing page of support operators


def test_the_page_does_a_fixed_number_of_queries(
    coordinator_client: Client, django_assert_max_num_queries: object
) -> None:
    for _ in range(15):
        contract = make_contract()
        site = make_site()
        contract.sites.add(site)
        make_job(site=site, contract=contract, status=JobStatus.READY)
    with django_assert_max_num_queries(15):  # type: ignore[operator]
        assert coordinator_client.get("/orders/").status_code == 200


def test_a_job_returned_from_the_field_shows_it_with_its_attempt(
    coordinator_client: Client,
) -> None:
    contract = make_contract()
    job = make_job(contract=contract, status=JobStatus.IN_PROGRESS)
    report = job_report_incomplete(job=job, crew=make_crew(), reason_code="customer_absent")
    day = timezone.localtime(report.occurred_at).date().isoformat()
    page = coordinator_client.get("/orders/").content.decode()
    row = page[page.index(contract.contract_id) :]
    row = row[: row.index("</tr>")]
    assert "Returned from the field (attempt 1)" in row
    assert f"Not finished on {day}: Customer absent — being re-planned" in row
    assert 'class="badge stage-incomplete_visit"' in row
    coordinator_client.cookies["django_language"] = "ja"
    page = coordinator_client.get("/orders/").content.decode()
    assert "現場から戻りました（1回目の訪問）" in page
    assert f"{day} に未完了：お客様不在 — 再計画中" in page
