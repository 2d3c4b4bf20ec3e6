"""A site's geocoding status follows its address and coordinates, whoever changes them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from sites import tasks
from sites.models import GeocodeStatus, Site
from sites.services import SiteLocation, site_create, site_follow_location, site_update
from tests.factories import make_site

pytestmark = pytest.mark.django_db

ADDRESS = "東京都江東区豊洲3丁目2-20"


@pytest.fixture
def geocoding_requests(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Ids of the sites queued for the geocoder (instead of a real Celery task)."""
    queued: list[int] = []
    monkeypatch.setattr(tasks.geocode_site, "delay", queued.append)
    yield queued


@pytest.fixture
def commit(django_capture_on_commit_callbacks: Callable[..., Any]) -> Callable[..., Any]:
    """Runs what is queued on commit when the ``with`` block ends, as a real commit would."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_a_new_site_without_coordinates_is_pending_and_queued(
    geocoding_requests: list[int], commit: Callable[..., Any]
) -> None:
    with commit():
        site = site_create(fields={"name": "豊洲テストビル", "address": ADDRESS})
    assert (site.geocode_status, geocoding_requests) == (GeocodeStatus.PENDING, [site.pk])


def test_a_new_site_with_coordinates_is_manual_and_not_queued(
    geocoding_requests: list[int], commit: Callable[..., Any]
) -> None:
    with commit():
        site = site_create(fields={"address": ADDRESS, "latitude": 35.65, "longitude": 139.79})
    assert (site.geocode_status, geocoding_requests) == (GeocodeStatus.MANUAL, [])


def test_moved_coordinates_are_manual(
    geocoding_requests: list[int], commit: Callable[..., Any]
) -> None:
    site = make_site(geocode_status=GeocodeStatus.OK, geocode_error="")
    with commit():
        site_update(site=site, changes={"latitude": 35.66, "longitude": 139.8})
    assert (Site.objects.get(pk=site.pk).geocode_status, geocoding_requests) == ("manual", [])


def test_a_new_address_sends_a_geocoded_site_back_to_pending(
    geocoding_requests: list[int], commit: Callable[..., Any]
) -> None:
    site = make_site(geocode_status=GeocodeStatus.NOT_FOUND, geocode_error="no match")
    with commit():
        site_update(site=site, changes={"address": ADDRESS})
    stored = Site.objects.get(pk=site.pk)
    assert (stored.geocode_status, stored.geocode_error) == ("pending", "")
    assert geocoding_requests == [site.pk]


def test_a_new_address_keeps_a_site_placed_by_hand(
    geocoding_requests: list[int], commit: Callable[..., Any]
) -> None:
    site = make_site(geocode_status=GeocodeStatus.MANUAL)
    with commit():
        site_update(site=site, changes={"address": ADDRESS})
    assert (Site.objects.get(pk=site.pk).geocode_status, geocoding_requests) == ("manual", [])


def test_cleared_coordinates_go_back_to_the_geocoder(
    geocoding_requests: list[int], commit: Callable[..., Any]
) -> None:
    site = make_site(geocode_status=GeocodeStatus.MANUAL)
    with commit():
        site_update(site=site, changes={"latitude": None, "longitude": None})
    assert (Site.objects.get(pk=site.pk).geocode_status, geocoding_requests) == (
        "pending",
        [site.pk],
    )


def test_other_changes_leave_geocoding_alone() -> None:
    """Reported unchanged, so an import that saves changed fields only does not touch them."""
    site = make_site(geocode_status=GeocodeStatus.OK)
    before = SiteLocation.of(site)
    site.floors = 9
    change = site_follow_location(site=site, before=before)
    assert (change.changed, change.queue, site.geocode_status) == (False, False, "ok")
