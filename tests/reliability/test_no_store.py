"""No cache keeps customers' data (issue 18, finding 8).

Routes, jobs, site cards, customers, contracts, calendar feeds and the pages of the
support desk and the board carry customers' names, addresses and phone numbers.
Every such response says ``Cache-Control: private, no-store`` and ``Pragma:
no-cache``, so neither a shared proxy nor the browser's cache or "back" button keeps
a copy. A view that chose its own ``Cache-Control`` keeps it; static files keep
their long-lived caching.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.http import HttpResponse, HttpResponseBase
from django.test import Client, RequestFactory
from rest_framework.test import APIClient

from accounts.models import User
from config.cache_control import NO_STORE, NoStoreMiddleware, apply, static_prefix
from tests.api.conftest import MONDAY, Cast
from tests.factories import make_contract

pytestmark = pytest.mark.django_db

ApiClientFor = Callable[[User | None], APIClient]


def assert_not_stored(response: HttpResponseBase, what: str) -> None:
    assert response.status_code < 500, (what, response.status_code)
    cache_control = response.get("Cache-Control", "")
    assert "no-store" in cache_control and "public" not in cache_control, (what, cache_control)
    assert response.get("Pragma") == "no-cache", what


def test_every_api_response_with_customers_data_is_not_stored(
    cast: Cast, client_for: ApiClientFor
) -> None:
    contract = make_contract()
    customer = contract.customer
    site = cast.job_a.site
    contract.sites.add(site)
    day = {"date": MONDAY.isoformat(), "crew": cast.crew_a.pk}
    partner = client_for(cast.partner_a)
    coordinator = client_for(cast.coordinator)
    support = client_for(cast.support)
    feed = partner.post(f"/api/v1/crews/{cast.crew_a.pk}/calendar-feeds/")
    assert feed.status_code == 201, feed.content
    responses = {
        "partner routes": partner.get("/api/v1/routes/", day),
        "partner routes as GeoJSON": partner.get("/api/v1/routes/geojson/", day),
        "job list": coordinator.get("/api/v1/jobs/"),
        "job detail": coordinator.get(f"/api/v1/jobs/{cast.job_a.pk}/"),
        "customer list": coordinator.get("/api/v1/customers/"),
        "customer detail": coordinator.get(f"/api/v1/customers/{customer.pk}/"),
        "customer created": coordinator.post(
            "/api/v1/customers/", {"name": "株式会社新規", "phone": "03-0000-0000"}
        ),
        "customer changed": coordinator.patch(
            f"/api/v1/customers/{customer.pk}/", {"phone": "03-9999-0000"}
        ),
        "contract list": coordinator.get("/api/v1/contracts/"),
        "contract detail": coordinator.get(f"/api/v1/contracts/{contract.pk}/"),
        "support search": support.get("/api/v1/support/search/", {"q": contract.contract_id}),
        "support site card": support.get(f"/api/v1/support/sites/{site.pk}/card/"),
        "support calls": support.get("/api/v1/support/calls/"),
        "calendar feed (.ics)": APIClient().get(feed.json()["url"]),
        "calendar feed list": partner.get(f"/api/v1/crews/{cast.crew_a.pk}/calendar-feeds/"),
        "an error": partner.get("/api/v1/jobs/999999/"),
        "anonymous, refused": client_for(None).get("/api/v1/jobs/"),
    }
    for what, response in responses.items():
        assert_not_stored(response, what)


def test_every_page_with_customers_data_is_not_stored(cast: Cast) -> None:
    site = cast.job_a.site
    coordinator = Client()
    coordinator.force_login(cast.coordinator)
    support = Client()
    support.force_login(cast.support)
    pages = {
        "week board": coordinator.get(f"/plans/{cast.plan.pk}/"),
        "board drawer": coordinator.get(f"/jobs/{cast.job_a.pk}/drawer/?plan={cast.plan.pk}"),
        "orders": coordinator.get("/orders/"),
        "support desk": support.get("/support/"),
        "support desk with a site": support.get(f"/support/?site={site.pk}"),
        "support site card": support.get(f"/support/sites/{site.pk}/"),
        "support search": support.get("/support/search/", {"q": site.name}),
    }
    for what, response in pages.items():
        assert response.status_code == 200, what
        assert_not_stored(response, what)


def test_the_exact_header_is_private_no_store(cast: Cast, client_for: ApiClientFor) -> None:
    response = client_for(cast.coordinator).get(f"/api/v1/jobs/{cast.job_a.pk}/")
    assert response["Cache-Control"] == NO_STORE == "private, no-store"


def test_a_view_that_chose_its_own_caching_keeps_it(cast: Cast, client_for: ApiClientFor) -> None:
    """The calendar feed says ``no-store`` itself; the login page is Django's ``never_cache``."""
    feed = client_for(cast.partner_a).post(f"/api/v1/crews/{cast.crew_a.pk}/calendar-feeds/")
    ics = APIClient().get(feed.json()["url"])
    assert ics["Cache-Control"] == "no-store"
    assert ics["Pragma"] == "no-cache"
    login = Client().get("/login/")
    assert login.status_code == 200
    assert "no-store" in login["Cache-Control"] and "max-age=0" in login["Cache-Control"]
    chosen = HttpResponse()
    chosen["Cache-Control"] = "max-age=60"
    assert apply("/api/v1/regions/", chosen)["Cache-Control"] == "max-age=60"
    assert "Pragma" not in chosen


def test_static_files_keep_their_caching() -> None:
    assert static_prefix("static/") == "/static/"
    assert static_prefix("/assets/") == "/assets/"
    assert static_prefix("https://cdn.example.jp/static/") == ""
    middleware = NoStoreMiddleware(lambda request: HttpResponse("body {}"))
    asset = middleware(RequestFactory().get("/static/css/app.css"))
    assert "Cache-Control" not in asset and "Pragma" not in asset
    page = middleware(RequestFactory().get("/orders/"))
    assert page["Cache-Control"] == NO_STORE
