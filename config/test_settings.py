"""Settings for the test suite: production settings with a test key and fast hashing.

Tests run with DEBUG off, like production, so that what they check is what
ships; only what would make them slow or need ``collectstatic`` is changed.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
# Tests plan fixed weeks (2026-11-30 and others) whatever the date they run on:
# "today" for planning is pinned before all of them, in the environment so that
# a worker or server started as a subprocess plans on the same day. A test of
# the days gone by sets ``settings.PLANNING_TODAY`` itself.
os.environ.setdefault("DISPATCH_PLANNING_TODAY", "2026-01-01")

from .settings import *  # noqa: F403
from .settings import CACHE_URL, CACHES, CELERY_BROKER_URL, STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1"... under xdist
if _XDIST_WORKER and CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    # Parallel test processes each get their own Redis database (1, 2, ...), so a
    # worker started by one process never takes a task queued by another, whose
    # rows live in another test database. Subprocesses (a real worker) inherit
    # PYTEST_XDIST_WORKER and land on the same one.
    import re as _re

    CELERY_BROKER_URL = _re.sub(
        r"(/\d*)?$",
        f"/{int(_XDIST_WORKER.removeprefix('gw')) + 1}",
        CELERY_BROKER_URL,
        count=1,
    )
    # Celery reads the variable before the setting (``Settings.broker_url``).
    os.environ["CELERY_BROKER_URL"] = CELERY_BROKER_URL

if CACHE_URL.startswith(("redis://", "rediss://")):
    # The same for the cache (databases 8, 9, ...): a test's cache.clear() (FLUSHDB)
    # must not empty the throttling counters or cached answers of a test running
    # in another process.
    import re as _re

    CACHES = {
        "default": {
            **CACHES["default"],
            "LOCATION": _re.sub(
                r"(/\d*)?$",
                f"/{8 + int(_XDIST_WORKER.removeprefix('gw') or 0)}",
                CACHE_URL,
                count=1,
            ),
        }
    }

if CELERY_BROKER_URL == "filesystem://":
    # A private queue per test session, so a `make run` worker on the same
    # checkout never picks up (or steals) a test's tasks.
    import tempfile
    from pathlib import Path

    _broker = Path(tempfile.mkdtemp(prefix="dispatch-test-broker-"))
    for _folder in ("queue", "control"):
        (_broker / _folder).mkdir()
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker / "queue"),
        "data_folder_out": str(_broker / "queue"),
        "control_folder": str(_broker / "control"),
        "store_processed": False,
    }

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A test database in a file, not in memory: Django shares one in-memory
    # connection between the test thread and every live-server request thread,
    # so two concurrent requests (a page polling while another posts) ran on
    # one SQLite transaction and failed with "cannot start a transaction within
    # a transaction". With a file, each thread has its own connection and the
    # production settings (WAL, BEGIN IMMEDIATE, busy timeout) apply as they do
    # under `make run`. One directory per test process, so parallel runs never share.
    import tempfile as _tempfile
    from pathlib import Path as _Path

    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": str(_Path(_tempfile.mkdtemp(prefix="dispatch-test-db-")) / "test.sqlite3")
    }

# WhiteNoise warns about a missing STATIC_ROOT on every request; tests never collectstatic.
STATIC_ROOT.mkdir(exist_ok=True)  # noqa: F405

# The test client speaks plain http; production redirects it to https.
# Tests of the production defaults run `manage.py` with DEBUG=0 in a subprocess
# (tests/reliability/test_deploy_settings.py).
SECURE_SSL_REDIRECT = False

# Cached answers off by default: most tests write and read inside one transaction
# that never commits, so the change counters (bumped after commit) could not tell
# their cache a write happened. tests/api/test_cached_routes.py and
# tests/support/test_cached_search.py turn them on with committed transactions and
# check that every writer invalidates them.
ROUTE_CACHE_SECONDS = 0
SEARCH_CACHE_SECONDS = 0
API_TOKEN_CACHE_SECONDS = 0  # tests/api/test_token_checks.py turns it on
