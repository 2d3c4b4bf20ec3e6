"""``/api/v1/surveys/``: site surveys; coordinators write them, support reads them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from sites.models import Site, SiteSurvey
from tests.api.conftest import Cast

URL = "/api/v1/surveys/"
Client = Callable[[User | None], APIClient]


@pytest.fixture(autouse=True)
def _no_earlier_surveys(cast: Cast) -> None:
    """These tests count surveys: start from none (the cast's sites come surveyed)."""
    SiteSurvey.objects.all().delete()


def survey_input(cast: Cast, **overrides: Any) -> dict[str, Any]:
    return {
        "site": cast.job_a.site_id,
        "surveyed_on": "2026-10-01",
        "surveyor": "田中",
        "structure": "src",
        "conduit_status": "full",
        "distance_to_base_station_m": 350,
        "access_hours": [{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "18:00"}],
        "access_rules": "守衛室で入館証",
        **overrides,
    }


def survey_of(site: Site, day: str = "2026-10-01") -> SiteSurvey:
    return SiteSurvey.objects.create(
        site=site,
        surveyed_on=dt.date.fromisoformat(day),
        surveyor="田中",
        distance_to_base_station_m=100,
    )


def test_it_works(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    created = client.post(URL, survey_input(cast), format="json")
    assert created.status_code == 201, created.json()
    item_url = f"{URL}{created.json()['id']}/"
    assert client.get(URL).json()["count"] == 1
    assert client.get(item_url).json()["conduit_status"] == "full"
    assert client.patch(item_url, {"complexity": "high"}).json()["complexity"] == "high"
    assert client.delete(item_url).status_code == 204


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"access_hours": [{"days": [0], "opens": "18:00", "closes": "09:00"}]}, "access_hours"),
        ({"access_hours": [{"days": [8], "opens": "09:00", "closes": "18:00"}]}, "access_hours"),
        ({"access_hours": {"days": [0]}}, "access_hours"),
        ({"access_text": "応相談"}, "access_text"),
        ({"distance_to_base_station_m": -1}, "distance_to_base_station_m"),
        ({"parking": "helipad"}, "parking"),
        ({"site": 999_999}, "site"),
        ({"surveyed_on": None}, "surveyed_on"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, overrides: dict[str, Any], field: str
) -> None:
    response = client_for(cast.coordinator).post(
        URL, survey_input(cast, **overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not SiteSurvey.objects.exists()


def test_support_reads_but_cannot_write(cast: Cast, client_for: Client) -> None:
    survey = survey_of(cast.job_a.site)
    client = client_for(cast.support)
    assert client.get(f"{URL}{survey.pk}/").status_code == 200
    assert client.post(URL, survey_input(cast), format="json").status_code == 403
    assert client.delete(f"{URL}{survey.pk}/").status_code == 403


def test_partners_have_no_access(cast: Cast, client_for: Client) -> None:
    """Partners get the access details through their sites, never the whole survey."""
    survey = survey_of(cast.job_a.site)
    client = client_for(cast.partner_a)
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{survey.pk}/").status_code == 403


def test_filters_by_site_and_date(cast: Cast, client_for: Client) -> None:
    old = survey_of(cast.job_a.site, "2025-01-10")
    new = survey_of(cast.job_a.site, "2026-10-01")
    survey_of(cast.job_b.site)
    client = client_for(cast.coordinator)

    def ids(**params: Any) -> list[int]:
        return [s["id"] for s in client.get(URL, params).json()["results"]]

    assert ids(site=cast.job_a.site_id) == [new.pk, old.pk]  # newest first
    assert ids(site=cast.job_a.site_id, surveyed_on_before="2025-12-31") == [old.pk]
    assert ids(site=cast.job_a.site_id, ordering="surveyed_on") == [old.pk, new.pk]


def test_the_list_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for _ in range(20):
        survey_of(cast.job_a.site)
    with django_assert_max_num_queries(2):  # count, surveys
        client_for(cast.support).get(URL, {"page_size": 100})


# --- access hours ------------------------------------------------------------------


WEEKDAYS_9_TO_17 = [{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"}]


def test_access_hours_are_stored_canonical_and_described(cast: Cast, client_for: Client) -> None:
    # Two touching ranges of the same days are one range once stored.
    written = [
        {"days": [4, 3, 2, 1, 0], "opens": "09:00", "closes": "12:00"},
        {"days": [0, 1, 2, 3, 4], "opens": "12:00", "closes": "17:00"},
    ]
    response = client_for(cast.coordinator).post(
        URL, survey_input(cast, access_hours=written), format="json"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["access_hours"] == WEEKDAYS_9_TO_17
    assert SiteSurvey.objects.get().access_hours == WEEKDAYS_9_TO_17
    assert body["access_description"] == "Mon–Fri 09:00–17:00; closed Sat, Sun, holidays"
    assert "access_text" not in body


def test_the_description_follows_accept_language(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    created = client.post(
        URL, survey_input(cast, access_hours=WEEKDAYS_9_TO_17), format="json"
    ).json()

    body = client.get(f"{URL}{created['id']}/", HTTP_ACCEPT_LANGUAGE="ja").json()

    assert body["access_description"] == "平日 9:00〜17:00（土日祝休）"


def test_a_bad_range_names_the_item_and_field(cast: Cast, client_for: Client) -> None:
    hours = [*WEEKDAYS_9_TO_17, {"days": [5], "opens": "10:00", "closes": "25:00"}]

    response = client_for(cast.coordinator).post(
        URL, survey_input(cast, access_hours=hours), format="json"
    )

    assert response.status_code == 400
    (message,) = response.json()["error"]["fields"]["access_hours"]
    assert message.startswith("[1].closes: ")


def test_access_text_is_parsed_into_hours_and_its_notes_kept(
    cast: Cast, client_for: Client
) -> None:
    payload = survey_input(cast, access_text="平日 9時〜17時、鍵は守衛室")
    del payload["access_hours"]

    response = client_for(cast.coordinator).post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    survey = SiteSurvey.objects.get()
    assert survey.access_hours == WEEKDAYS_9_TO_17
    assert survey.access_rules == "守衛室で入館証 / 鍵は守衛室"


def test_access_text_a_patch_replaces_the_hours_and_keeps_notes_once(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.coordinator)
    created = client.post(URL, survey_input(cast), format="json").json()
    url = f"{URL}{created['id']}/"

    for _ in range(2):
        response = client.patch(url, {"access_text": "平日 9時〜17時、鍵は守衛室"}, format="json")
        assert response.status_code == 200, response.json()

    survey = SiteSurvey.objects.get()
    assert survey.access_hours == WEEKDAYS_9_TO_17
    assert survey.access_rules == "守衛室で入館証 / 鍵は守衛室"


def test_access_text_that_does_not_read_answers_400_and_says_what(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.coordinator)
    created = client.post(URL, survey_input(cast), format="json").json()

    response = client.patch(
        f"{URL}{created['id']}/", {"access_text": "平日9-17 応相談"}, format="json"
    )

    assert response.status_code == 400
    (message,) = response.json()["error"]["fields"]["access_text"]
    assert message.startswith("could not read: ")
    assert "応相談" in message and "access_rules" in message
    assert SiteSurvey.objects.get().access_hours[0]["closes"] == "18:00"  # untouched


def test_access_text_and_access_hours_together_answer_400(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).post(
        URL, survey_input(cast, access_text="平日 9時〜17時"), format="json"
    )

    assert response.status_code == 400
    assert "access_text" in response.json()["error"]["fields"]


def test_no_hours_means_no_restriction(cast: Cast, client_for: Client) -> None:
    payload = survey_input(cast)
    del payload["access_hours"]

    body = client_for(cast.coordinator).post(URL, payload, format="json").json()

    assert body["access_hours"] == []
    assert body["access_description"] == "Any time"


def test_support_reads_the_access_hours_on_the_site_card(cast: Cast, client_for: Client) -> None:
    survey_of(cast.job_a.site)
    SiteSurvey.objects.update(access_hours=WEEKDAYS_9_TO_17, access_rules="鍵は守衛室")
    client = client_for(cast.support)

    body = client.get(f"/api/v1/support/sites/{cast.job_a.site_id}/card/").json()

    (survey,) = body["surveys"]
    assert survey["access_hours"] == WEEKDAYS_9_TO_17
    assert survey["access_description"] == "Mon–Fri 09:00–17:00; closed Sat, Sun, holidays"
    assert survey["access_rules"] == "鍵は守衛室"


def test_a_filed_survey_gives_the_building_its_access_hours_for_the_planner(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.coordinator)
    site = cast.job_a.site
    written = {k: v for k, v in survey_input(cast).items() if k != "access_hours"}
    written["access_text"] = "平日9:00〜17:00、鍵は管理人室で受け取り"
    created = client.post(URL, written, format="json")
    assert created.status_code == 201, created.json()
    site.refresh_from_db()
    assert site.access_hours == [{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"}]
    assert "鍵は管理人室で受け取り" in site.access_notes

    # Correcting an older survey later does not overwrite what the newest one says.
    old = survey_of(site, "2025-01-10")
    response = client.patch(f"{URL}{old.pk}/", {"access_text": "毎日8:00〜10:00"}, format="json")
    assert response.status_code == 200, response.json()
    site.refresh_from_db()
    assert site.access_hours[0]["opens"] == "09:00"


def test_a_site_takes_access_hours_as_written_and_refuses_what_it_cannot_read(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.coordinator)
    url = f"/api/v1/sites/{cast.job_a.site_id}/"
    response = client.patch(url, {"access_text": "土日祝不可"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["access_hours"] == [
        {"days": [0, 1, 2, 3, 4], "opens": "00:00", "closes": "24:00"}
    ]
    response = client.patch(url, {"access_text": "応相談"}, format="json")
    assert response.status_code == 400
    assert "応相談" in response.json()["error"]["fields"]["access_text"][0]
