"""Schemathesis walks every operation of the OpenAPI schema: no 5xx, answers match the schema.

Runs in-process against the WSGI app, as a coordinator (the role that can reach
the most operations), with a bounded number of generated examples per
operation so CI stays fast; ``SCHEMATHESIS_MAX_EXAMPLES`` raises the budget.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from accounts.tokens import token_create
from tests.api.conftest import Cast

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "4"))


@pytest.fixture
def coordinator_token(cast: Cast) -> str:
    return token_create(user=cast.coordinator, name="schemathesis")[1]


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
    case: schemathesis.Case, coordinator_token: str, cast: Cast
) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {coordinator_token}"},
        checks=[not_a_server_error, response_schema_conformance],
    )
