"""Schemathesis walks every operation of the OpenAPI schema: no 5xx, answers match the schema.

Runs in-process against the WSGI app, as a coordinator (the role that can reach
the most operations), with a bounded number of generated examples per
operation so CI stays fast; ``SCHEMATHESIS_MAX_EXAMPLES`` raises the budget
(``make fuzz``).

Each path parameter points at a row ``addressable`` made (tests/api/rows.py),
so success answers are validated too, not only 404s.

Checks: no server error, every status code and content type documented, every
body and documented header as the schema says.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.tokens import token_create
from tests.api.conftest import Cast
from tests.api.rows import ROW_PARAMETERS, row_for

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "4"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    """Requests reach the WSGI app directly, so stop Django closing the DB connection after each.

    Django's own test client does the same; without it, the first request
    closes the connection that holds the test's transaction (PostgreSQL).
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def coordinator_token(cast: Cast) -> str:
    return token_create(user=cast.coordinator, name="schemathesis")[1]


def address_existing_rows(case: schemathesis.Case, rows: dict[str, int | str]) -> None:
    """Point the case's path parameters at the rows ``addressable`` made."""
    row = row_for(case.operation.path, rows)
    for name in list(case.path_parameters or {}):
        if name in ROW_PARAMETERS and row is not None:
            case.path_parameters[name] = row  # type: ignore[index]


# Loaded at collection (no database needed to build the schema): one test per operation.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_without_server_errors_and_as_documented(
    case: schemathesis.Case, coordinator_token: str, addressable: dict[str, int | str]
) -> None:
    address_existing_rows(case, addressable)
    case.call_and_validate(headers={"Authorization": f"Bearer {coordinator_token}"}, checks=CHECKS)
