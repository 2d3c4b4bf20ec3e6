"""A real Celery worker consumes the configured broker and runs our tasks.

The worker runs in a thread of the test process (celery's own testing
worker) but talks to the broker for real: the filesystem queue on the
embedded defaults, Redis when ``CELERY_BROKER_URL`` points at it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from django.conf import settings
from django.db import transaction
from django.test import override_settings

from config.celery import app
from sites.models import GeocodeStatus, Site
from sites.tasks import site_request_geocoding
from tests.conftest import wait_until
from tests.factories import make_site
from tests.sites.nominatim_fake import FakeNominatim, nominatim_fixture  # noqa: F401 - fixture

ADDRESS = "東京都千代田区丸の内1丁目9-1"
OTHER_ADDRESS = "東京都港区芝公園4丁目2-8"


@pytest.fixture
def worker() -> Iterator[None]:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


@pytest.fixture
def geocoder(nominatim: FakeNominatim) -> Iterator[FakeNominatim]:
    nominatim.add_place(ADDRESS, latitude=35.6812, longitude=139.7671, display_name="東京駅")
    config = {
        **settings.GEOCODER,
        "DOMAIN": nominatim.domain,
        "SCHEME": "http",
        "MIN_DELAY_SECONDS": 0,
    }
    with override_settings(GEOCODER=config):
        yield nominatim


def _wait_for_status(site: Site) -> str:
    """The site's geocoding status once the worker has decided it (or still pending)."""

    def decided() -> bool:
        site.refresh_from_db()
        return site.geocode_status != GeocodeStatus.PENDING

    wait_until(decided)
    return site.geocode_status


def _geocode_through_the_worker() -> Site:
    with transaction.atomic():
        site = make_site(
            address=ADDRESS, latitude=None, longitude=None, geocode_status=GeocodeStatus.PENDING
        )
        site_request_geocoding(site=site)
    _wait_for_status(site)
    return site


@pytest.mark.django_db(transaction=True)
def test_a_task_queued_on_commit_is_run_by_a_real_worker(
    worker: None, geocoder: FakeNominatim
) -> None:
    site = _geocode_through_the_worker()
    assert site.geocode_status == GeocodeStatus.OK
    assert (round(site.latitude or 0, 4), round(site.longitude or 0, 4)) == (35.6812, 139.7671)
    assert geocoder.searched_addresses() == [ADDRESS]


@pytest.mark.django_db(transaction=True)
def test_nothing_is_queued_when_the_transaction_rolls_back(geocoder: FakeNominatim) -> None:
    with transaction.atomic():
        site = make_site(
            address=ADDRESS, latitude=None, longitude=None, geocode_status=GeocodeStatus.PENDING
        )
        site_request_geocoding(site=site)
        transaction.set_rollback(True)
    # A committed request queued after the rolled-back one: once the worker has
    # handled it, anything queued before it would have been handled too.
    with transaction.atomic():
        marker = make_site(
            address=OTHER_ADDRESS,
            latitude=None,
            longitude=None,
            geocode_status=GeocodeStatus.PENDING,
        )
        site_request_geocoding(site=marker)
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        _wait_for_status(marker)
    assert geocoder.searched_addresses() == [OTHER_ADDRESS]


def test_the_broker_is_the_configured_one_or_the_embedded_filesystem_queue() -> None:
    configured = os.environ.get("CELERY_BROKER_URL")
    assert app.conf.broker_url == (configured or "filesystem://")
    if not configured:
        # One folder for both directions: the web process and the worker share it.
        options = app.conf.broker_transport_options
        assert options["data_folder_in"] == options["data_folder_out"]


def test_worker_safety_settings_are_on() -> None:
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_time_limit and app.conf.task_soft_time_limit


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_tasks_through_redis(worker: None, geocoder: FakeNominatim) -> None:
    assert app.conf.broker_url.startswith("redis://")
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
    assert _geocode_through_the_worker().geocode_status == GeocodeStatus.OK
