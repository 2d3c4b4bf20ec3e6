"""Suite-wide fixtures and the rules for tests that need real servers.

Tests marked ``postgres`` or ``redis`` run whenever ``DATABASE_URL`` /
``CELERY_BROKER_URL`` point at such a server and are skipped otherwise. With
``DISPATCH_REQUIRE_SERVERS=1`` (CI's second run) a test that would be skipped
for a missing server fails instead, so CI cannot go green without running them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.conf import settings
from django.utils import translation

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
