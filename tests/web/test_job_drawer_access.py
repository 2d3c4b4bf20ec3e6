"""The job drawer and the support card show a building's access hours and the customer's promise.

Until issue 20 the drawer's Access row called ``get_access_rules_display`` on a
plain text field and rendered nothing; the hours are data now and both pages
show them as one line in the page's language, next to the access notes.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from accounts.models import Role
from dispatch.models import Job
from sites.models import Site
from tests.factories import make_job, make_site, make_survey, make_user

pytestmark = pytest.mark.django_db

WEEKDAYS_9_TO_17 = [{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"}]


def client_as(role: str, language: str = "en") -> Client:
    client = Client()
    client.force_login(make_user(role))
    client.cookies["django_language"] = language
    return client


SATURDAYS_10_TO_15 = [{"days": [5], "opens": "10:00", "closes": "15:00"}]


@pytest.fixture
def site() -> Site:
    """The building's access (what the planner keeps to) and an older survey's record."""
    site = make_site(
        name="芝浦ビル", access_hours=WEEKDAYS_9_TO_17, access_notes="鍵は守衛室 <b>2F</b>"
    )
    make_survey(site, access_hours=SATURDAYS_10_TO_15, access_rules="立会い必要")
    return site


def drawer(client: Client, job: Job) -> str:
    response = client.get(f"/jobs/{job.pk}/drawer/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_drawer_shows_the_access_hours_in_japanese_and_the_notes(site: Site) -> None:
    html = drawer(client_as(Role.COORDINATOR, "ja"), make_job(site=site))

    assert "平日 9:00〜17:00（土日祝休）" in html
    assert "鍵は守衛室 &lt;b&gt;2F&lt;/b&gt;" in html  # notes, escaped
    assert "土 10:00〜15:00" in html and "立会い必要" in html  # what the survey recorded


def test_the_drawer_shows_the_access_hours_in_english(site: Site) -> None:
    html = drawer(client_as(Role.COORDINATOR), make_job(site=site))

    assert "Mon–Fri 09:00–17:00; closed Sat, Sun, holidays" in html


def test_a_site_without_hours_shows_any_time(site: Site) -> None:
    site.access_hours = []
    site.save()

    html = drawer(client_as(Role.COORDINATOR), make_job(site=site))

    assert "Access: any time · 鍵は守衛室" in html


def test_the_drawer_shows_the_customers_promise(site: Site) -> None:
    job = make_job(
        site=site,
        preferred_dates=["2026-11-24", "2026-11-25"],
        window_start=dt.time(13),
        window_end=dt.time(17),
        promise_is_hard=True,
    )

    html = drawer(client_as(Role.COORDINATOR), job)

    assert "2026-11-24, 2026-11-25 · PM 13:00–17:00 · <strong>promised (hard)</strong>" in html


def test_a_soft_custom_slot_reads_as_a_wish(site: Site) -> None:
    job = make_job(site=site, window_start=dt.time(10), window_end=dt.time(11))

    html = drawer(client_as(Role.COORDINATOR), job)

    assert "any day · 10:00–11:00 · wish (soft)" in html


def test_the_support_card_shows_the_access_hours_and_notes(site: Site) -> None:
    response = client_as(Role.SUPPORT, "ja").get(f"/support/sites/{site.pk}/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "平日 9:00〜17:00（土日祝休）" in html
    assert "鍵は守衛室 &lt;b&gt;2F&lt;/b&gt;" in html
