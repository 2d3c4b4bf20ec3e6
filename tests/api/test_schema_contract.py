"""The OpenAPI schema says what the API really sends, for whole kinds of fields at once.

Schemathesis (test_schema_conformance.py) checks answers against the schema
with a few generated requests; these tests check the schema itself against
the models and views, so a new field or action of a known-bad kind fails here
even if no generated request happens to reach it.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests.api.conftest import Cast
from tests.api.rows import row_for


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    return SchemaGenerator().get_schema(request=None, public=True)


def _enum_values(schema: dict[str, Any], node: dict[str, Any]) -> list[list[Any]]:
    """Every enum a property schema admits (following $ref, allOf and oneOf)."""
    if "$ref" in node:
        node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    found = [node["enum"]] if "enum" in node else []
    for key in ("allOf", "oneOf", "anyOf"):
        for part in node.get(key, []):
            found += _enum_values(schema, part)
    return found


def _blank_choice_fields() -> dict[frozenset[str], str]:
    """Model CharFields that take their values from choices but may also be blank."""
    fields = {}
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if isinstance(field, models.CharField) and field.choices and field.blank:
                fields[frozenset(str(v) for v, _ in field.choices)] = (
                    f"{model._meta.label}.{field.name}"
                )
    return fields


def test_a_choice_field_that_may_be_blank_documents_the_blank(openapi: dict[str, Any]) -> None:
    blank_fields = _blank_choice_fields()
    assert blank_fields, "the check below needs at least one such model field"
    undocumented = []
    for name, component in openapi["components"]["schemas"].items():
        for prop, node in component.get("properties", {}).items():
            enums = _enum_values(openapi, node)
            values = {str(v) for enum in enums for v in enum if v not in ("", None)}
            source = blank_fields.get(frozenset(values))
            if source and not any("" in enum for enum in enums):
                undocumented.append(f"{name}.{prop} (from {source})")
    assert undocumented == []


def test_only_paginated_answers_are_documented_as_pages(
    openapi: dict[str, Any], cast: Cast, client_for
) -> None:  # type: ignore[no-untyped-def]
    """A GET documented with ``page`` answers a page ({count, results...}), never a bare list."""
    client: APIClient = client_for(cast.coordinator)
    ids = {"id": cast.plan.pk, "job_id": cast.job_a.pk}
    checked = 0
    for path, item in openapi["paths"].items():
        operation = item.get("get")
        if not operation:
            continue
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        path_params = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
        if "page" not in names or any(p not in ids for p in path_params):
            continue
        if path_params and not path.startswith(("/api/v1/plans/", "/api/v1/jobs/")):
            continue
        url = path.format(**ids)
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:200])
        body = response.json()
        assert isinstance(body, dict) and "results" in body, f"{url} answers a bare list"
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("body", ["null", "[]", '"text"', "7", "true"])
def test_a_json_body_that_is_not_an_object_is_refused_everywhere(
    openapi: dict[str, Any], addressable: dict[str, int | str], cast: Cast, client_for, body: str
) -> None:  # type: ignore[no-untyped-def]
    """Every documented body is an object; ``null`` once created an IP assignment (201)."""
    # Each path as the role that may write there: a refusal must come from the body, not the role.
    writers = {
        "/api/v1/support/": cast.support,
        "/api/v1/jobs/{job_id}/reports/": cast.partner_a,
        "/api/v1/webhook": cast.partner_a,
    }
    sent = 0
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            content = (
                operation.get("requestBody", {}).get("content", {})
                if method != "parameters"
                else {}
            )
            if "application/json" not in content:
                continue
            row = row_for(path, addressable)
            url = re.sub(r"\{[a-z_]+\}", str(row), path)
            writer = next((u for p, u in writers.items() if path.startswith(p)), cast.coordinator)
            client: APIClient = client_for(writer)
            response = getattr(client, method)(
                url, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=f"k-{sent}"
            )
            assert response.status_code == 400, (method, url, response.status_code)
            assert response.json()["error"]["code"] == "parse_error", (method, url)
            sent += 1
    assert sent >= 50
