"""Geocoding sites through geopy's real Nominatim client, against a local fake server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim

from sites.geocoding import (
    GeocodeResult,
    geocode_address,
    site_geocode,
    sites_geocode_pending,
)
from sites.models import GeocodeStatus, Site
from tests.sites.nominatim_fake import FakeNominatim, nominatim_fixture  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db

TOKYO_STATION = "東京都千代田区丸の内1丁目9-1"
SKYTREE = "東京都墨田区押上1丁目1-2"
NOWHERE = "東京都存在しない区9丁目99"
# A real-world trap: a Japanese-looking address the geocoder resolves abroad.
PARIS_LOOKALIKE = "東京都パリ区1丁目"

USER_AGENT = "isp-field-dispatch-tests/1.0 (delivery@example.jp)"


@pytest.fixture(autouse=True)
def geocoder_settings(nominatim: FakeNominatim) -> Iterator[dict[str, Any]]:
    """The project's geocoder settings, aimed at the fake, fast and without delays."""
    nominatim.add_place(
        TOKYO_STATION,
        latitude=35.6812362,
        longitude=139.7671248,
        display_name="東京駅, 1丁目, 丸の内, 千代田区, 東京都, 100-0005, 日本",
    )
    nominatim.add_place(
        SKYTREE,
        latitude=35.7100627,
        longitude=139.8107004,
        display_name="東京スカイツリー, 押上1丁目, 墨田区, 東京都, 131-0045, 日本",
    )
    nominatim.add_place(
        PARIS_LOOKALIKE,
        latitude=48.8588897,
        longitude=2.3200410,
        display_name="Paris, Île-de-France, France métropolitaine, France",
    )
    config = {
        "NAME": "nominatim",
        "DOMAIN": nominatim.domain,
        "SCHEME": "http",
        "USER_AGENT": USER_AGENT,
        "TIMEOUT_SECONDS": 0.2,
        "COUNTRY_CODES": "jp",
        "MIN_DELAY_SECONDS": 0,
    }
    with override_settings(GEOCODER=config):
        yield config


def make_site(address: str, **fields: Any) -> Site:
    return Site.objects.create(name=f"Building at {address}", address=address, **fields)


# --- One address -------------------------------------------------------------------


def test_found_address_stores_coordinates_status_and_time() -> None:
    """A match stores its coordinates, status ``ok``, no error and when it was found."""
    site = make_site(TOKYO_STATION)
    before = timezone.now()

    returned = site_geocode(site=site)

    site.refresh_from_db()
    assert returned.pk == site.pk
    assert site.geocode_status == GeocodeStatus.OK
    assert site.latitude == pytest.approx(35.6812362)
    assert site.longitude == pytest.approx(139.7671248)
    assert site.geocode_error == ""
    assert site.geocoded_at is not None and site.geocoded_at >= before


def test_request_carries_address_user_agent_and_country_restriction(
    nominatim: FakeNominatim,
) -> None:
    """The request names the address, identifies us by the configured user agent
    (Nominatim's policy) and restricts the search to Japan."""
    site_geocode(site=make_site(TOKYO_STATION))

    [request] = nominatim.searches()
    assert request.params["q"] == TOKYO_STATION
    assert request.params["countrycodes"] == "jp"
    assert request.params["format"] == "json"
    assert request.headers["User-Agent"] == USER_AGENT


def test_unknown_address_is_not_found_and_leaves_site_unplaced() -> None:
    """Nominatim's empty list means ``not_found``, with a reason, and no coordinates."""
    site = make_site(NOWHERE)

    site_geocode(site=site)

    site.refresh_from_db()
    assert site.geocode_status == GeocodeStatus.NOT_FOUND
    assert site.geocode_error
    assert site.latitude is None and site.longitude is None
    assert site.geocoded_at is None


def test_server_error_marks_failed_with_the_error_and_does_not_raise() -> None:
    """HTTP 500 becomes ``failed`` with the error text; the site stays unplaced."""
    site = make_site(FakeNominatim.SERVER_ERROR)

    site_geocode(site=site)

    site.refresh_from_db()
    assert site.geocode_status == GeocodeStatus.FAILED
    assert "500" in site.geocode_error
    assert site.latitude is None and site.longitude is None
    assert site.geocoded_at is None


def test_failure_keeps_the_coordinates_of_an_earlier_answer(nominatim: FakeNominatim) -> None:
    """Re-geocoding a placed site that now fails keeps its coordinates and their date."""
    geocoded_at = timezone.now() - timedelta(days=30)
    site = make_site(
        FakeNominatim.SERVER_ERROR,
        latitude=35.0,
        longitude=139.0,
        geocode_status=GeocodeStatus.OK,
        geocoded_at=geocoded_at,
    )

    site_geocode(site=site)

    site.refresh_from_db()
    assert site.geocode_status == GeocodeStatus.FAILED
    assert (site.latitude, site.longitude) == (35.0, 139.0)
    assert site.geocoded_at == geocoded_at


def test_invalid_json_marks_failed() -> None:
    """A body that is not JSON (a maintenance page, say) is ``failed``, not a crash."""
    site = make_site(FakeNominatim.INVALID_JSON)

    site_geocode(site=site)

    site.refresh_from_db()
    assert site.geocode_status == GeocodeStatus.FAILED
    assert site.geocode_error.startswith("GeocoderParseError")
    assert site.latitude is None


def test_slow_answer_times_out_as_failed() -> None:
    """A server slower than ``TIMEOUT_SECONDS`` is ``failed`` with a timeout error."""
    site = make_site(FakeNominatim.SLOW)

    site_geocode(site=site)

    site.refresh_from_db()
    assert site.geocode_status == GeocodeStatus.FAILED
    assert "timed out" in site.geocode_error.lower()
    assert site.latitude is None


def test_answer_without_coordinates_is_failed_not_placed_at_zero() -> None:
    """geopy reads a match without lat/lon as (0, 0); that must never be stored."""
    site = make_site(FakeNominatim.NO_COORDINATES)

    site_geocode(site=site)

    site.refresh_from_db()
    assert site.geocode_status == GeocodeStatus.FAILED
    assert site.latitude is None


def test_match_outside_japan_is_not_found() -> None:
    """With country code ``jp``, a confident answer in France is no answer at all."""
    site = make_site(PARIS_LOOKALIKE)

    site_geocode(site=site)

    site.refresh_from_db()
    assert site.geocode_status == GeocodeStatus.NOT_FOUND
    assert "outside JP" in site.geocode_error
    assert site.latitude is None and site.longitude is None


def test_match_abroad_is_accepted_when_no_country_is_configured(
    geocoder_settings: dict[str, Any],
) -> None:
    """The Japan box applies only when searches are restricted to Japan."""
    with override_settings(GEOCODER={**geocoder_settings, "COUNTRY_CODES": ""}):
        result = geocode_address(PARIS_LOOKALIKE)

    assert result.status == GeocodeStatus.OK
    assert result.latitude == pytest.approx(48.8588897)


def test_geocode_address_answers_without_touching_the_database() -> None:
    """``geocode_address`` returns a frozen result and saves nothing."""
    result = geocode_address(SKYTREE)

    assert isinstance(result, GeocodeResult)
    assert result.status == GeocodeStatus.OK
    assert (result.latitude, result.longitude) == pytest.approx((35.7100627, 139.8107004))
    assert result.error == ""
    assert result.matched_address.startswith("東京スカイツリー")
    with pytest.raises(AttributeError):
        result.status = GeocodeStatus.FAILED  # type: ignore[misc]
    assert not Site.objects.exists()


def test_an_explicit_geocoder_is_used_instead_of_the_settings(nominatim: FakeNominatim) -> None:
    """Callers may pass their own geopy geocoder; its user agent is the one sent."""
    geocoder = Nominatim(
        domain=nominatim.domain, scheme="http", user_agent="someone-else/2.0", timeout=0.2
    )

    result = geocode_address(TOKYO_STATION, geocoder=geocoder)

    assert result.is_ok
    assert nominatim.searches()[0].headers["User-Agent"] == "someone-else/2.0"


# --- Sites placed by hand ------------------------------------------------------------


def test_manual_site_is_not_overwritten_without_force(nominatim: FakeNominatim) -> None:
    """A coordinator's hand-set position beats the geocoder: nothing is even asked."""
    site = make_site(
        TOKYO_STATION, latitude=35.68, longitude=139.76, geocode_status=GeocodeStatus.MANUAL
    )

    site_geocode(site=site)

    site.refresh_from_db()
    assert site.geocode_status == GeocodeStatus.MANUAL
    assert (site.latitude, site.longitude) == (35.68, 139.76)
    assert nominatim.searches() == []


def test_manual_site_is_geocoded_with_force() -> None:
    """``force=True`` replaces a hand-set position with the geocoder's answer."""
    site = make_site(
        TOKYO_STATION, latitude=35.68, longitude=139.76, geocode_status=GeocodeStatus.MANUAL
    )

    site_geocode(site=site, force=True)

    site.refresh_from_db()
    assert site.geocode_status == GeocodeStatus.OK
    assert site.latitude == pytest.approx(35.6812362)


def test_site_placed_by_hand_while_the_geocoder_answers_is_kept(
    nominatim: FakeNominatim,
) -> None:
    """An answer arriving after a coordinator placed the site by hand is dropped."""
    site = make_site(TOKYO_STATION)

    class CoordinatorIsFaster(Nominatim):
        def geocode(self, *args: Any, **kwargs: Any) -> Any:
            Site.objects.filter(pk=site.pk).update(
                latitude=35.5, longitude=139.5, geocode_status=GeocodeStatus.MANUAL
            )
            return super().geocode(*args, **kwargs)

    geocoder = CoordinatorIsFaster(
        domain=nominatim.domain, scheme="http", user_agent=USER_AGENT, timeout=0.2
    )

    returned = site_geocode(site=site, geocoder=geocoder)

    site.refresh_from_db()
    assert site.geocode_status == GeocodeStatus.MANUAL
    assert (site.latitude, site.longitude) == (35.5, 139.5)
    assert returned.geocode_status == GeocodeStatus.MANUAL


# --- The batch and its command ---------------------------------------------------------


def test_batch_command_geocodes_only_pending_sites_and_prints_counts(
    nominatim: FakeNominatim,
) -> None:
    """Only ``pending`` sites are asked about; placed, manual and failed ones are left alone."""
    found = make_site(TOKYO_STATION)
    missing = make_site(NOWHERE)
    broken = make_site(FakeNominatim.SERVER_ERROR)
    abroad = make_site(PARIS_LOOKALIKE)
    already = make_site(SKYTREE, latitude=35.71, longitude=139.81, geocode_status=GeocodeStatus.OK)
    by_hand = make_site(
        SKYTREE, latitude=35.7, longitude=139.8, geocode_status=GeocodeStatus.MANUAL
    )
    failed_before = make_site(SKYTREE, geocode_status=GeocodeStatus.FAILED, geocode_error="x")
    out = StringIO()

    call_command("geocode_sites", stdout=out)

    assert "ok=1" in out.getvalue()
    assert "not_found=2" in out.getvalue()
    assert "failed=1" in out.getvalue()
    assert sorted(nominatim.searched_addresses()) == sorted(
        [TOKYO_STATION, NOWHERE, FakeNominatim.SERVER_ERROR, PARIS_LOOKALIKE]
    )
    statuses = dict(Site.objects.values_list("pk", "geocode_status"))
    assert statuses == {
        found.pk: GeocodeStatus.OK,
        missing.pk: GeocodeStatus.NOT_FOUND,
        broken.pk: GeocodeStatus.FAILED,
        abroad.pk: GeocodeStatus.NOT_FOUND,
        already.pk: GeocodeStatus.OK,
        by_hand.pk: GeocodeStatus.MANUAL,
        failed_before.pk: GeocodeStatus.FAILED,
    }
    already.refresh_from_db()
    assert (already.latitude, already.longitude) == (35.71, 139.81)


def test_batch_command_limit_takes_the_oldest_pending_sites(nominatim: FakeNominatim) -> None:
    """``--limit N`` geocodes the first N pending sites by id and leaves the rest pending."""
    first = make_site(TOKYO_STATION)
    second = make_site(SKYTREE)
    third = make_site(NOWHERE)

    call_command("geocode_sites", "--limit", "2", stdout=StringIO())

    assert nominatim.searched_addresses() == [TOKYO_STATION, SKYTREE]
    statuses = dict(Site.objects.values_list("pk", "geocode_status"))
    assert statuses[first.pk] == statuses[second.pk] == GeocodeStatus.OK
    assert statuses[third.pk] == GeocodeStatus.PENDING


def test_batch_command_force_retries_failed_and_not_found_but_never_manual(
    nominatim: FakeNominatim,
) -> None:
    """``--force`` also retries earlier failures; hand-placed and placed sites stay as they are."""
    failed_before = make_site(
        TOKYO_STATION,
        geocode_status=GeocodeStatus.FAILED,
        geocode_error="GeocoderTimedOut: Service timed out",
    )
    not_found_before = make_site(SKYTREE, geocode_status=GeocodeStatus.NOT_FOUND)
    make_site(TOKYO_STATION, latitude=35.6, longitude=139.7, geocode_status=GeocodeStatus.MANUAL)
    make_site(SKYTREE, latitude=35.7, longitude=139.8, geocode_status=GeocodeStatus.OK)
    out = StringIO()

    call_command("geocode_sites", "--force", stdout=out)

    assert "ok=2" in out.getvalue()
    assert nominatim.searched_addresses() == [TOKYO_STATION, SKYTREE]
    failed_before.refresh_from_db()
    not_found_before.refresh_from_db()
    assert failed_before.geocode_status == not_found_before.geocode_status == GeocodeStatus.OK
    assert failed_before.geocode_error == ""


def test_batch_reports_progress_after_each_site() -> None:
    """The progress callback hears (done, total, site) once per site, in order."""
    sites = [make_site(TOKYO_STATION), make_site(NOWHERE)]
    heard: list[tuple[int, int, int, str]] = []

    counts = sites_geocode_pending(
        progress=lambda done, total, site: heard.append((done, total, site.pk, site.geocode_status))
    )

    assert counts == {"ok": 1, "not_found": 1, "failed": 0, "skipped": 0}
    assert heard == [
        (1, 2, sites[0].pk, GeocodeStatus.OK),
        (2, 2, sites[1].pk, GeocodeStatus.NOT_FOUND),
    ]


def test_batch_spaces_requests_by_the_minimum_delay(
    nominatim: FakeNominatim,
    geocoder_settings: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The batch waits ``MIN_DELAY_SECONDS`` between consecutive requests (Nominatim: 1/s).

    The rate limiter's clock is replaced by one that moves only when it sleeps, so
    the test checks where the waits fall and how long they are, not how fast this
    machine happens to be.
    """
    for address in (TOKYO_STATION, SKYTREE, NOWHERE):
        make_site(address)
    now = [0.0]
    waits: list[tuple[int, float]] = []  # (requests already answered, seconds)

    def sleep(self: RateLimiter, seconds: float) -> None:
        waits.append((len(nominatim.searches()), seconds))
        now[0] += seconds

    monkeypatch.setattr(RateLimiter, "_clock", lambda self: now[0])
    monkeypatch.setattr(RateLimiter, "_sleep", sleep)

    with override_settings(GEOCODER={**geocoder_settings, "MIN_DELAY_SECONDS": 0.15}):
        sites_geocode_pending()

    assert len(nominatim.searches()) == 3
    assert waits == [(1, pytest.approx(0.15)), (2, pytest.approx(0.15))]


def test_unusable_geocoder_name_stops_the_command_before_touching_sites(
    geocoder_settings: dict[str, Any],
) -> None:
    """A misspelt ``GEOCODER['NAME']`` is a deployment error, not 400 failed sites."""
    site = make_site(TOKYO_STATION)

    with (
        override_settings(GEOCODER={**geocoder_settings, "NAME": "nominatimm"}),
        pytest.raises(CommandError, match="nominatimm"),
    ):
        call_command("geocode_sites", stdout=StringIO())

    site.refresh_from_db()
    assert site.geocode_status == GeocodeStatus.PENDING
