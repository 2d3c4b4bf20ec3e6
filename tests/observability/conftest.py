"""Capture what the configured LOGGING writes, one parsed JSON object per line."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings

# The API's cast (published visits) and the small planning world, as in tests/reliability.
from tests.api.conftest import cast  # noqa: F401 - fixture
from tests.dispatch.conftest import world  # noqa: F401 - fixture

Lines = Callable[[], list[dict[str, Any]]]


@pytest.fixture
def log_lines() -> Iterator[Lines]:
    """The JSON lines the settings' own formatter writes while the test runs.

    A second handler with the very formatter LOGGING configures, on the root
    logger: what a test reads is what production's stderr gets.
    """
    config = dict(settings.LOGGING["formatters"]["structured"])
    factory = config.pop("()")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(factory(**config))
    root = logging.getLogger()
    root.addHandler(handler)

    def read() -> list[dict[str, Any]]:
        handler.flush()
        return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]

    try:
        yield read
    finally:
        root.removeHandler(handler)
