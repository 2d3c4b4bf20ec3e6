"""Suite-wide fixtures and the rules for tests that need real servers.

Tests marked ``postgres`` or ``redis`` run whenever ``DATABASE_URL`` /
``CELERY_BROKER_URL`` point at such a server and are skipped otherwise. With
``DISPATCH_REQUIRE_SERVERS=1`` (CI's second run) a test that would be skipped
for a missing server fails instead, so CI cannot go green without running them.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Callable, Iterator

import pytest
from django.conf import settings
from django.db.models.signals import post_migrate
from django.utils import translation

#: Long enough for a worker or server to start on a loaded 2-core machine; a test
#: that passes returns at the first poll that sees its condition, so a generous
#: ceiling costs nothing when things work.
WAIT_TIMEOUT_S = 90.0


def wait_until(
    predicate: Callable[[], bool], timeout_s: float = WAIT_TIMEOUT_S, interval_s: float = 0.1
) -> bool:
    """Poll ``predicate`` until it holds (True) or ``timeout_s`` passes (False).

    The one way tests wait for another thread or process: on an event, never
    for a fixed time, so a slow machine makes a test slower, not red.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval_s)


def _seed_data_back_after_a_flush(sender: object, using: str, **kwargs: object) -> None:
    """Put the data migrations' rows back after a transactional test empties the tables.

    A transactional test (``transaction=True``, ``live_server``) ends with a
    flush, which also deletes what migrations seeded (the default estimate
    rules); Django then sends ``post_migrate``. Without this, a test that needs
    the defaults passed or failed by which test its process ran before it.
    """
    if getattr(sender, "label", None) != "dispatch":
        return
    from django.apps import apps

    seed = importlib.import_module("dispatch.migrations.0006_default_estimate_rules")
    seed.create_rules(apps, None)
    names = importlib.import_module("dispatch.migrations.0012_skill_name_en")
    names.fill_english_names(apps, None)


post_migrate.connect(_seed_data_back_after_a_flush, dispatch_uid="tests-seed-data-after-flush")

_DB_URL = os.environ.get("DATABASE_URL", "")
_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
_HAS_POSTGRES = _DB_URL.startswith(("postgres://", "postgresql://"))
_HAS_REDIS = _BROKER_URL.startswith("redis://")
_REQUIRE_SERVERS = os.environ.get("DISPATCH_REQUIRE_SERVERS") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    missing = {"postgres": not _HAS_POSTGRES, "redis": not _HAS_REDIS}
    for item in items:
        for marker, is_missing in missing.items():
            if marker in item.keywords and is_missing:
                reason = f"needs a real {marker} server (set its URL to run)"
                if _REQUIRE_SERVERS:
                    item.add_marker(pytest.mark.usefixtures("_fail_missing_server"))
                    item.user_properties.append(("missing_server", marker))
                else:
                    item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture
def _fail_missing_server(request: pytest.FixtureRequest) -> None:
    missing = [value for key, value in request.node.user_properties if key == "missing_server"]
    pytest.fail(f"DISPATCH_REQUIRE_SERVERS=1 but no {', '.join(missing)} server is configured")


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Every test starts in the default language, whatever a page in Japanese left active.

    LocaleMiddleware activates the request's language in the test thread and
    nothing switches it back, so without this a Japanese page test would make
    later tests read translated messages.
    """
    yield
    translation.activate(settings.LANGUAGE_CODE)
