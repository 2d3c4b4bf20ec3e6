"""The same search during a call is answered from the cache until the index changes.

These tests commit (``transaction=True``): the index's change counter is bumped
after commit, as in production. Each way the index changes is tried once:
search (now cached), change, search again, and the answer must show it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from support.search import Matched, cached_site_search, site_ids
from support.services import call_log, calls_purge
from tests.support.conftest import Desk

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _cache_on(settings: Any) -> None:
    settings.SEARCH_CACHE_SECONDS = 300
    cache.clear()


def test_the_same_search_again_reads_only_the_counter(desk: Desk) -> None:
    first = cached_site_search("芝浦")

    with CaptureQueriesContext(connection) as queries:
        again = cached_site_search("芝浦")

    assert again == first
    assert site_ids(again) == [desk.shibaura.pk]
    assert len(queries.captured_queries) == 1
    assert "stamps_changecounter" in queries.captured_queries[0]["sql"]


def test_a_limit_or_a_query_of_its_own_is_its_own_answer(desk: Desk) -> None:
    everything = cached_site_search("東京都千代田区")
    one = cached_site_search("東京都千代田区", limit=1)
    spaced = cached_site_search("東京都千代田区 ")  # the API strips; the cache does not guess

    assert len(everything.hits) == 2
    assert len(one.hits) == 1
    assert spaced.query == "東京都千代田区"


def test_a_renamed_building_is_found_by_its_new_name_at_once(desk: Desk) -> None:
    assert site_ids(cached_site_search("芝浦シーサイド")) == [desk.shibaura.pk]
    assert cached_site_search("三信ビル").hits == []

    desk.shibaura.name = "三信ビル"
    desk.shibaura.save()

    assert site_ids(cached_site_search("三信ビル")) == [desk.shibaura.pk]
    assert cached_site_search("芝浦シーサイド").hits == []


@pytest.fixture
def purge_calls_after() -> Iterator[None]:
    """Calls are immutable (a trigger); a committed test removes them the one allowed way."""
    yield
    calls_purge(reason="test teardown")


@pytest.mark.usefixtures("purge_calls_after")
def test_a_callers_new_phone_finds_the_site_after_the_call_is_logged(desk: Desk) -> None:
    assert cached_site_search("080-3333-4444").hits == []

    call_log(
        site=desk.kasumigaseki, operator=desk.support, category="no_connection",
        description="繋がらない", caller_name="林 健太", caller_phone="080-3333-4444",
    )  # fmt: skip

    [hit, *_] = cached_site_search("080-3333-4444").hits
    assert (hit.site_id, hit.matched) == (desk.kasumigaseki.pk, Matched.CONTACT)


def test_a_new_contact_person_is_found(desk: Desk) -> None:
    assert cached_site_search("林 健太").hits == []
    customer = desk.sato.customer

    customer.contact_person = "総務部 林 健太"
    customer.save()

    assert site_ids(cached_site_search("林 健太"))[:1] == [desk.marunouchi.pk]


def test_a_deleted_building_is_no_longer_offered(desk: Desk) -> None:
    assert site_ids(cached_site_search("霞が関セントラル")) == [desk.kasumigaseki.pk]

    desk.kasumigaseki.delete()

    assert cached_site_search("霞が関セントラル").hits == []


def test_the_api_answers_from_the_same_cache(desk: Desk) -> None:
    api = APIClient()
    api.force_authenticate(desk.support)
    first = api.get("/api/v1/support/search/", {"q": "芝浦"})

    with CaptureQueriesContext(connection) as queries:
        again = api.get("/api/v1/support/search/", {"q": "芝浦"})

    assert again.status_code == 200
    assert again.content == first.content
    assert again.json()["results"][0]["site"] == desk.shibaura.pk
    assert len(queries.captured_queries) == 1


def test_the_cache_being_down_costs_speed_not_answers(
    desk: Desk, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("cache unreachable")

    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)

    assert site_ids(cached_site_search("芝浦")) == [desk.shibaura.pk]
