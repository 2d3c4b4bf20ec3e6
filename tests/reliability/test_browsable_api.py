"""In production the API answers JSON only (issue 18, finding 8).

DRF's browsable page is a development aid: under ``DEBUG=0`` a browser's
``Accept: text/html`` gets JSON (or a JSON 406 when it accepts nothing else), never
the HTML page with its forms. With ``DEBUG=1`` (``make run``) the page stays. Views
that choose their own renderers, the calendar feed and the GeoJSON routes, are
unaffected. The test suite runs with DEBUG off, like production.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.http import HttpResponse
from rest_framework.test import APIClient

from accounts.models import User
from tests.api.conftest import MONDAY, Cast
from tests.reliability.test_deploy_settings import PRODUCTION_ENV, _manage

pytestmark = pytest.mark.django_db

ApiClientFor = Callable[[User | None], APIClient]
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON_ONLY = ["api.renderers.FastJSONRenderer"]  # DRF's bytes, written by orjson


def is_browsable_page(response: HttpResponse) -> bool:
    body = response.content.decode(errors="replace")
    return response["Content-Type"].startswith("text/html") or "Django REST framework" in body


def test_the_api_renders_json_only_when_debug_is_off() -> None:
    assert not settings.DEBUG
    assert settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] == JSON_ONLY


def test_a_browser_on_the_api_gets_json_not_the_browsable_page(
    cast: Cast, client_for: ApiClientFor
) -> None:
    coordinator = client_for(cast.coordinator)
    answers = {
        "a browser": coordinator.get("/api/v1/jobs/", HTTP_ACCEPT=BROWSER),
        "html only": coordinator.get(f"/api/v1/jobs/{cast.job_a.pk}/", HTTP_ACCEPT="text/html"),
        "anonymous browser": client_for(None).get("/api/v1/jobs/", HTTP_ACCEPT=BROWSER),
        "an error": coordinator.get("/api/v1/jobs/999999/", HTTP_ACCEPT=BROWSER),
    }
    for who, response in answers.items():
        assert not is_browsable_page(response), who
        assert response["Content-Type"].startswith("application/json"), who
    assert answers["a browser"].status_code == 200
    assert answers["html only"].status_code == 406
    assert answers["html only"].json()["error"]["code"] == "not_acceptable"
    assert answers["anonymous browser"].status_code in {401, 403}
    assert answers["an error"].json()["error"]["status"] == 404


def test_the_calendar_feed_and_geojson_keep_their_own_renderers(
    cast: Cast, client_for: ApiClientFor
) -> None:
    partner = client_for(cast.partner_a)
    feed = partner.post(f"/api/v1/crews/{cast.crew_a.pk}/calendar-feeds/")
    assert feed.status_code == 201, feed.content
    ics = APIClient().get(feed.json()["url"], HTTP_ACCEPT=BROWSER)
    assert ics.status_code == 200
    assert ics["Content-Type"] == "text/calendar; charset=utf-8"
    geojson = partner.get(
        "/api/v1/routes/geojson/", {"date": MONDAY.isoformat(), "crew": cast.crew_a.pk}
    )
    assert geojson.status_code == 200
    assert geojson["Content-Type"].startswith("application/geo+json")
    assert geojson.json()["type"] == "FeatureCollection"


def test_development_keeps_the_browsable_api_and_production_does_not() -> None:
    script = (
        "from django.conf import settings as s; "
        "print(*(c.rsplit('.', 1)[1] for c in s.REST_FRAMEWORK['DEFAULT_RENDERER_CLASSES']))"
    )
    development = _manage("shell", "--no-imports", "-c", script, DEBUG="1", SECRET_KEY="")
    assert development.stdout.split() == ["FastJSONRenderer", "BrowsableAPIRenderer"], (
        development.stderr
    )
    production = _manage("shell", "--no-imports", "-c", script, **PRODUCTION_ENV)
    assert production.stdout.split() == ["FastJSONRenderer"], production.stderr
