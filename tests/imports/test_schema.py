"""The OpenAPI schema documents the import endpoints fully, without generator warnings."""

from __future__ import annotations

from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _schema() -> dict:
    generator = SchemaGenerator(patterns=[path("api/v1/", include("api.imports.urls"))])
    return generator.get_schema(request=None, public=True)


def test_the_import_endpoints_generate_no_warnings() -> None:
    GENERATOR_STATS.reset()

    schema = _schema()

    assert not GENERATOR_STATS, "drf-spectacular warned about the import views"
    validate_schema(schema)


def test_every_operation_is_documented_with_its_kinds_formats_and_errors() -> None:
    paths = _schema()["paths"]

    preview = paths["/api/v1/imports/{kind}/preview/"]["post"]
    kind = next(p for p in preview["parameters"] if p["name"] == "kind")
    assert sorted(kind["schema"]["enum"]) == ["crews", "orders"]
    assert "multipart/form-data" in preview["requestBody"]["content"]
    assert {"200", "400", "401", "403", "413"} <= set(preview["responses"])
    assert "/api/v1/imports/{kind}/apply/" in paths
    assert "/api/v1/imports/geocoding/" in paths
    export = paths["/api/v1/exports/{kind}.{file_format}"]["get"]
    assert set(export["responses"]["200"]["content"]) == {"text/csv", XLSX}
