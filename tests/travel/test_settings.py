"""``TRAVEL_PROVIDER`` picks the road model; ``manage.py check`` refuses one that cannot work."""

from __future__ import annotations

import pytest
from django.core import checks
from django.test import override_settings

from dispatch.travel import CachedTravel, check_travel_settings, travel_provider
from scheduler.travel import HaversineTravel, OsrmTravel


def test_straight_lines_are_the_default() -> None:
    provider = travel_provider()
    assert provider == HaversineTravel()  # the planner's 1.3 detour at 25 km/h, as before


@override_settings(
    TRAVEL_PROVIDER="osrm",
    TRAVEL_OSRM_URL="http://osrm.internal:5000",
    TRAVEL_OSRM_PROFILE="car",
    TRAVEL_OSRM_TIMEOUT_S=7,
    TRAVEL_OSRM_CHUNK=50,
)
def test_osrm_is_chosen_with_every_setting_and_a_cache_in_front() -> None:
    provider = travel_provider()
    assert isinstance(provider, CachedTravel)
    assert provider.provider == OsrmTravel(
        base_url="http://osrm.internal:5000", profile="car", chunk_size=50, timeout_s=7
    )


@override_settings(TRAVEL_PROVIDER="osrm", TRAVEL_OSRM_URL="https://osrm.example.jp/")
def test_a_valid_osrm_setup_passes_the_check() -> None:
    assert check_travel_settings() == []


@pytest.mark.parametrize("url", ["", "osrm:5000", "ftp://osrm.example.jp", "http://"])
def test_osrm_without_an_http_url_is_a_system_check_error(url: str) -> None:
    with override_settings(TRAVEL_PROVIDER="osrm", TRAVEL_OSRM_URL=url):
        errors = check_travel_settings()
    assert [e.id for e in errors] == ["dispatch.E102"]
    assert all(e.level == checks.ERROR for e in errors)


@override_settings(TRAVEL_PROVIDER="google")
def test_an_unknown_provider_is_a_system_check_error() -> None:
    assert [e.id for e in check_travel_settings()] == ["dispatch.E101"]


@override_settings(
    TRAVEL_PROVIDER="osrm",
    TRAVEL_OSRM_URL="http://osrm:5000",
    TRAVEL_OSRM_CHUNK=0,
    TRAVEL_OSRM_TIMEOUT_S=0,
)
def test_a_zero_chunk_or_timeout_is_a_system_check_error() -> None:
    assert [e.id for e in check_travel_settings()] == ["dispatch.E103", "dispatch.E104"]


@override_settings(TRAVEL_PROVIDER="osrm", TRAVEL_OSRM_URL="")
def test_the_check_is_registered_with_django() -> None:
    """``manage.py check`` (and every server start) runs it, not only the tests."""
    found = [m.id for m in checks.run_checks() if m.id and m.id.startswith("dispatch.E1")]
    assert found == ["dispatch.E102"]
