"""Spreadsheet import and export: ``imports/{kind}/preview|apply/``, ``exports/{kind}.{format}``."""

from django.urls import path, register_converter

from . import views


class ImportKindConverter:
    regex = "orders|crews"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class FileFormatConverter:
    regex = "csv|xlsx"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ImportKindConverter, "import_kind")
register_converter(FileFormatConverter, "file_format")

urlpatterns = [
    path(
        "imports/geocoding/",
        views.GeocodingProgressView.as_view(),
        name="imports-geocoding-progress",
    ),
    path(
        "imports/<import_kind:kind>/preview/",
        views.ImportPreviewView.as_view(),
        name="imports-preview",
    ),
    path(
        "imports/<import_kind:kind>/apply/", views.ImportApplyView.as_view(), name="imports-apply"
    ),
    path(
        "exports/<import_kind:kind>.<file_format:file_format>",
        views.ExportView.as_view(),
        name="exports",
    ),
]
