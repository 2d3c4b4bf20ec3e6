"""The Calendar page: coordinators see the holidays ahead, add and delete closures and days."""

from __future__ import annotations

import datetime as dt
from unittest import mock

import pytest
from django.test import Client

from accounts.models import Role
from dispatch.ledger import live_visits
from dispatch.models import CompanyClosure, CrewWorkingDay, PartnerClosure
from tests.api.test_live_schedule_api import client_as as api_client_as
from tests.api.test_live_schedule_api import proposed, publish
from tests.dispatch.conftest import World
from tests.factories import make_company, make_crew, make_user

pytestmark = pytest.mark.django_db
URL = "/calendar/"
TODAY = dt.date(2026, 11, 1)


@pytest.fixture(autouse=True)
def _today() -> object:
    """The page lists what lies ahead of "today": fix it to 2026-11-01."""
    with mock.patch("web.calendars._today", return_value=TODAY):
        yield


def client_as(role: str, **fields: object) -> Client:
    client = Client()
    client.force_login(make_user(role, **fields))
    return client


@pytest.fixture
def coordinator() -> Client:
    return client_as(Role.COORDINATOR)


def test_only_coordinators_open_the_page() -> None:
    assert Client().get(URL).status_code == 302
    assert client_as(Role.SUPPORT).get(URL).status_code == 403
    partner = client_as(Role.PARTNER, partner_company=make_company())
    assert partner.get(URL).status_code == 403
    assert partner.post(f"{URL}company-closure/", {}).status_code == 403
    assert not CompanyClosure.objects.exists()


def test_it_lists_the_national_holidays_of_the_next_12_months(coordinator: Client) -> None:
    page = coordinator.get(URL, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "勤労感謝の日" in page and "2026-11-23" in page
    assert "元日" in page  # 2027-01-01
    assert "2027-11-03" not in page  # 文化の日 2027 is more than a year ahead


def test_it_lists_holidays_in_english_for_the_english_ui(coordinator: Client) -> None:
    page = coordinator.get(URL, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Labor Thanksgiving Day" in page


def test_a_coordinator_adds_and_deletes_a_company_closure(coordinator: Client) -> None:
    response = coordinator.post(
        f"{URL}company-closure/",
        {
            "company-start_date": "2026-12-29",
            "company-end_date": "2027-01-03",
            "company-name": "年末年始",
        },
    )
    assert response.status_code == 302
    closure = CompanyClosure.objects.get()
    assert closure.name == "年末年始"
    assert "年末年始" in coordinator.get(URL).content.decode()
    assert coordinator.post(f"{URL}company-closure/{closure.pk}/delete/").status_code == 302
    assert not CompanyClosure.objects.exists()


def test_an_end_before_the_start_is_shown_on_the_form(coordinator: Client) -> None:
    response = coordinator.post(
        f"{URL}company-closure/",
        {"company-start_date": "2027-01-03", "company-end_date": "2026-12-29", "company-name": "x"},
    )
    assert response.status_code == 400
    assert "The last day must be on or after the first day." in response.content.decode()
    assert not CompanyClosure.objects.exists()


def test_a_coordinator_adds_a_partner_closure_for_a_company(coordinator: Client) -> None:
    company = make_company(name="A通信工業")
    response = coordinator.post(
        f"{URL}partner-closure/",
        {
            "partner-company": company.pk,
            "partner-start_date": "2026-11-26",
            "partner-end_date": "2026-11-27",
            "partner-reason": "社員旅行",
        },
    )
    assert response.status_code == 302
    assert PartnerClosure.objects.get().company == company
    page = coordinator.get(URL).content.decode()
    assert "社員旅行" in page and "A通信工業" in page


def test_a_partner_closure_needs_a_known_company(coordinator: Client) -> None:
    response = coordinator.post(
        f"{URL}partner-closure/",
        {"partner-company": 999_999, "partner-start_date": "2026-11-26", "partner-end_date": "x"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_partner-company-error"' in html and 'id="id_partner-end_date-error"' in html
    assert not PartnerClosure.objects.exists()


def test_a_coordinator_adds_and_deletes_an_extra_working_day(coordinator: Client) -> None:
    crew = make_crew(name="A1")
    response = coordinator.post(
        f"{URL}crew-working-day/",
        {"working-crew": crew.pk, "working-date": "2026-11-23", "working-note": "緊急対応"},
    )
    assert response.status_code == 302
    day = CrewWorkingDay.objects.get()
    assert (day.crew, day.date) == (crew, dt.date(2026, 11, 23))
    assert "緊急対応" in coordinator.get(URL).content.decode()
    assert coordinator.post(f"{URL}crew-working-day/{day.pk}/delete/").status_code == 302
    assert not CrewWorkingDay.objects.exists()


def test_the_same_crew_and_date_twice_is_shown_on_the_date(coordinator: Client) -> None:
    crew = make_crew(name="A1")
    CrewWorkingDay.objects.create(crew=crew, date=dt.date(2026, 11, 23))
    response = coordinator.post(
        f"{URL}crew-working-day/", {"working-crew": crew.pk, "working-date": "2026-11-23"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_working-date-error"' in html and "already works 2026-11-23" in html
    assert CrewWorkingDay.objects.count() == 1


def test_unknown_kinds_and_rows_are_not_found(coordinator: Client) -> None:
    assert coordinator.post(f"{URL}nonsense/", {}).status_code == 404
    assert coordinator.post(f"{URL}company-closure/999999/delete/").status_code == 404
    assert coordinator.get(f"{URL}company-closure/").status_code == 405


def test_the_page_is_in_japanese_for_the_japanese_ui(coordinator: Client) -> None:
    page = coordinator.get(URL, HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert "会社休業日" in page and "追加稼働日" in page


def test_a_closure_over_published_visits_warns_which_ones_still_go_out(
    world: World, coordinator: Client
) -> None:
    """The routes change only when a plan is published: closing a day that still has
    published visits says which, and which plan to revise."""
    plan = proposed(world)
    assert publish(api_client_as(make_user(Role.COORDINATOR)), plan).status_code == 200
    visit = live_visits().order_by("date", "crew_id").first()
    assert visit is not None
    stranded = live_visits().filter(date=visit.date).count()

    def close_the_day(language: str) -> str:
        return coordinator.post(
            f"{URL}company-closure/",
            {
                "company-start_date": str(visit.date),
                "company-end_date": str(visit.date),
                "company-name": "棚卸",
            },
            follow=True,
            HTTP_ACCEPT_LANGUAGE=language,
        ).content.decode()

    page = close_the_day("en")
    assert "Company closure added." in page
    assert f"{stranded} published visit" in page
    assert visit.job.reference in page and f"plan {plan.pk}" in page

    in_japanese = close_the_day("ja")
    assert f"公開済みの訪問 {stranded} 件" in in_japanese
    assert f"計画 {plan.pk} を改訂して公開する" in in_japanese


def test_a_closure_without_published_visits_gives_no_warning(
    world: World, coordinator: Client
) -> None:
    response = coordinator.post(
        f"{URL}company-closure/",
        {"company-start_date": "2027-01-04", "company-end_date": "2027-01-04", "company-name": "x"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert "Company closure added." in response.content.decode()
    assert "published visit" not in response.content.decode()
