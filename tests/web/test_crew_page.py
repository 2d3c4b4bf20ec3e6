"""The crews' phone page (issue 23): who may open it, what it hands its script, the worker."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from dispatch.models import PlanStatus
from dispatch.problem import planning_tz
from dispatch.states import JobStatus
from tests.factories import (
    make_company,
    make_crew,
    make_job,
    make_plan,
    make_site,
    make_user,
    make_visit,
)
from tests.web.test_csp import inline_code

pytestmark = pytest.mark.django_db


def found(pattern: str, text: str) -> str:
    match = re.search(pattern, text, re.S)
    assert match is not None, pattern
    return match[1]


def client_for(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


@pytest.fixture
def two_partners() -> dict[str, object]:
    """Two companies, each with a crew visiting one building today."""
    today = timezone.localdate(timezone=planning_tz())
    plan = make_plan(
        start_date=today,
        end_date=today + dt.timedelta(days=4),
        status=PlanStatus.PUBLISHED,
        published_at=timezone.now(),
    )
    found: dict[str, object] = {"today": today}
    for key, building in (("ours", "芝浦シーサイドビル"), ("theirs", "丸の内テラス")):
        company = make_company()
        crew = make_crew(company=company, name=f"Crew {key}", working_weekdays=0b1111111)
        job = make_job(site=make_site(name=building), status=JobStatus.SCHEDULED)
        start = dt.datetime.combine(today, dt.time(10), tzinfo=planning_tz())
        make_visit(
            plan=plan, job=job, crew=crew, date=today, sequence=1,
            planned_start=start, planned_end=start + dt.timedelta(hours=1),
        )  # fmt: skip
        found[key] = make_user(Role.PARTNER, partner_company=company)
        found[f"{key}_job"] = job
    return found


def test_anonymous_users_go_to_the_login_page() -> None:
    response = Client().get("/crew/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/crew/")


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.SUPPORT])
def test_other_roles_may_not_open_it(role: str) -> None:
    assert client_for(make_user(role)).get("/crew/").status_code == 403


def test_partners_land_on_it_and_the_top_bar_links_it(two_partners: dict[str, object]) -> None:
    client = client_for(two_partners["ours"])
    assert client.get("/")["Location"] == "/crew/"
    html = client.get("/crew/").content.decode()
    assert 'href="/crew/"' in html


def test_the_page_hands_its_script_the_api_and_the_words_without_inline_code(
    two_partners: dict[str, object],
) -> None:
    response = client_for(two_partners["ours"]).get("/crew/", HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 200
    html = response.content.decode()
    assert inline_code(html) == []
    assert 'data-routes-url="/api/v1/routes/"' in html
    assert 'data-reports-url="/api/v1/jobs/0/reports/"' in html
    assert 'data-sw-url="/crew/sw.js"' in html
    texts = json.loads(found(r'id="crew-texts"[^>]*>(.*?)</script>', html))
    labels = json.loads(found(r'id="crew-labels"[^>]*>(.*?)</script>', html))
    assert texts["waiting"] == "送信待ち: %(count)s件"
    assert texts["en_route"] == "移動開始" and texts["started"] == "作業開始"
    assert labels["reason"]["no_access"] != "No access to the building or room"
    assert "本日の訪問" in html
    # The day switch: today and the next six days.
    today = two_partners["today"]
    assert f'data-date="{today.isoformat()}" aria-current="date"' in html  # type: ignore[attr-defined]
    assert html.count('class="crew-days"') == 1
    assert len(re.findall(r'<a href="\?date=', html)) == 7


def test_the_api_behind_the_page_shows_a_partner_its_own_crews_only(
    two_partners: dict[str, object],
) -> None:
    today = two_partners["today"].isoformat()  # type: ignore[attr-defined]
    routes = client_for(two_partners["ours"]).get(f"/api/v1/routes/?date={today}").json()
    buildings = [stop["site"]["name"] for route in routes["routes"] for stop in route["stops"]]
    assert buildings == ["芝浦シーサイドビル"]
    theirs = two_partners["theirs_job"]
    report = client_for(two_partners["ours"]).post(
        f"/api/v1/jobs/{theirs.pk}/reports/",  # type: ignore[attr-defined]
        {"kind": "en_route"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert report.status_code == 404


def test_the_service_worker_is_served_under_the_page_with_its_scope() -> None:
    response = Client().get("/crew/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/crew/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    shell = json.loads(found(r"const CREW_SHELL = (\[.*?\]);", body))
    assert shell[0] == "/crew/"
    assert any(name.endswith("crew.js") for name in shell)
    assert any(name.endswith("crew.css") for name in shell)
    assert 'addEventListener("fetch"' in body


def test_the_worker_changes_its_cache_name_when_its_files_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from web import crew

    first = crew._version(["/crew/"])
    monkeypatch.setattr(crew, "SHELL_STATIC", (*crew.SHELL_STATIC, "css/board.css"))
    assert crew._version(["/crew/"]) != first


def test_the_page_reads_in_english_too(two_partners: dict[str, object]) -> None:
    html = client_for(two_partners["ours"]).get("/crew/", HTTP_ACCEPT_LANGUAGE="en").content
    page = html.decode()
    texts = json.loads(found(r'id="crew-texts"[^>]*>(.*?)</script>', page))
    assert texts["waiting"] == "Waiting to send: %(count)s"
    # Only the language menu (日本語) and the company's name as typed are Japanese.
    company = two_partners["ours"].partner_company.name  # type: ignore[attr-defined]
    rest = page.replace("日本語", "").replace(company, "")
    assert re.findall(r"[\u3040-\u30ff\u4e00-\u9fff]+", rest) == []
