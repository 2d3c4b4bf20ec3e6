"""Spreadsheet import and export for coordinators, and the geocoding progress after an import.

Thin on purpose: the views take the upload, call :mod:`delivery.imports` and
turn its report into a response. A preview always answers 200 when the file
could be read (its row errors are the point of a dry run); an apply that
writes nothing answers 400 with the same report inside the API's one error
shape, so a client needs no second error format.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from delivery.imports import (
    CSV_CONTENT_TYPE,
    FILE_FORMATS,
    IMPORT_KINDS,
    MAX_FILE_BYTES,
    XLSX_CONTENT_TYPE,
    ImportReport,
    crews_export,
    import_apply,
    import_preview,
    orders_export,
    sites_geocoding_progress,
)
from delivery.imports.tables import CSV_CP932_CONTENT_TYPE

from ..errors import ApiError
from ..permissions import WRITE
from ..schema import error_responses
from .serializers import (
    ExportQuerySerializer,
    GeocodingProgressSerializer,
    ImportErrorSerializer,
    ImportReportSerializer,
    ImportUploadSerializer,
)

COORDINATORS = {Role.COORDINATOR.value: WRITE}

#: Room for the multipart boundaries and headers around the file itself.
_MULTIPART_OVERHEAD_BYTES = 64 * 1024

KIND_PARAMETER = OpenApiParameter(
    "kind",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    enum=list(IMPORT_KINDS),
    description="What the file holds: orders (jobs with contract, customer and site) or crews.",
)
FORMAT_PARAMETER = OpenApiParameter(
    "file_format",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    enum=list(FILE_FORMATS),
    description="csv (UTF-8 with BOM, or CP932 with `encoding=cp932`) or xlsx.",
)

_DESCRIPTIONS = {
    400: "The file or a row is invalid; `report` says which and why. Nothing was written.",
    401: "Not authenticated.",
    403: "Only coordinators import and export.",
    413: "The file is larger than 5 MB. Nothing was read.",
    415: "The upload must be multipart/form-data with a `file` field.",
}


_EXPORT_400 = (
    "`lang` or `encoding` is not one of its values (`fields` names it), `encoding=cp932` "
    "was asked for an .xlsx file, or a cell holds a character CP932 cannot write "
    "(`unencodable_character`, with its `row`, `column` and `character`)."
)


def _errors(*codes: int) -> dict[Any, OpenApiResponse]:
    return error_responses(
        ImportErrorSerializer, _DESCRIPTIONS, codes, media_type="application/json"
    )


def _too_large() -> ApiError:
    return ApiError(
        status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        "file_too_large",
        f"the file is larger than {MAX_FILE_BYTES // 1024 // 1024} MB; split it into smaller files",
        fields={"file": ["too large"]},
    )


def _uploaded_file(request: Request) -> tuple[bytes, str]:
    """The uploaded file's bytes and name, refusing oversized uploads before reading them."""
    declared = int(request.META.get("CONTENT_LENGTH") or 0)
    if declared > MAX_FILE_BYTES + _MULTIPART_OVERHEAD_BYTES:
        raise _too_large()
    form = ImportUploadSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    upload = form.validated_data["file"]
    if upload.size is not None and upload.size > MAX_FILE_BYTES:
        raise _too_large()
    return upload.read(), upload.name or ""


def _rejected(report: ImportReport) -> ApiError:
    """The report of an import that wrote nothing, as a 400 (413 for a too large file)."""
    body = ImportReportSerializer(report).data
    if report.file_errors:
        messages = [error.message for error in report.file_errors]
        code = report.file_error_code or "invalid_file"
        status_code = 413 if code == "file_too_large" else status.HTTP_400_BAD_REQUEST
        return ApiError(status_code, code, messages[0], fields={"file": messages}, report=body)
    return ApiError(
        status.HTTP_400_BAD_REQUEST,
        "import_rejected",
        report.summary,
        fields={"file": [error.text for error in report.errors[:20]]},
        report=body,
    )


class ImportPreviewView(APIView):
    """Dry run: every row checked, what would happen said per row, nothing written."""

    roles = COORDINATORS
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="imports_preview",
        summary="Check a spreadsheet and show what importing it would do (writes nothing)",
        parameters=[KIND_PARAMETER],
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            (200, "application/json"): OpenApiResponse(
                ImportReportSerializer,
                description="The file was read; rows with errors have action `invalid`.",
            ),
            **_errors(400, 401, 403, 413, 415),
        },
    )
    def post(self, request: Request, kind: str) -> Response:
        data, filename = _uploaded_file(request)
        report = import_preview(kind=kind, file=data, filename=filename)
        if report.file_errors:
            raise _rejected(report)
        return Response(ImportReportSerializer(report).data)


class ImportApplyView(APIView):
    """All rows in one transaction, or none; new sites are geocoded after the commit."""

    roles = COORDINATORS
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="imports_apply",
        summary="Import a spreadsheet: every row or none",
        parameters=[KIND_PARAMETER],
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            (200, "application/json"): OpenApiResponse(
                ImportReportSerializer, description="Every row was written."
            ),
            **_errors(400, 401, 403, 413, 415),
        },
    )
    def post(self, request: Request, kind: str) -> Response:
        data, filename = _uploaded_file(request)
        report = import_apply(kind=kind, file=data, filename=filename)
        if not report.applied:
            raise _rejected(report)
        return Response(ImportReportSerializer(report).data)


class _ErrorsAsJson(BaseContentNegotiation):
    """The file is the answer whatever ``Accept`` says; errors are always JSON."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: str | None = None
    ) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


class ExportView(APIView):
    """Orders or crews as a file in the import's own format (export -> edit -> import)."""

    roles = COORDINATORS
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _ErrorsAsJson

    @extend_schema(
        operation_id="exports_download",
        summary="Download orders or crews as CSV or Excel, with the import's headers",
        description=(
            "Headers (and job kinds, time slots, working weekdays) in English or Japanese "
            "(`lang`, else the request's language); both import back unchanged. CSV in UTF-8 "
            "with BOM or in CP932 (`encoding=cp932`)."
        ),
        parameters=[KIND_PARAMETER, FORMAT_PARAMETER, ExportQuerySerializer],
        responses={
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.BINARY, description="CSV: UTF-8 with BOM, or CP932 (Shift_JIS)"
            ),
            (200, XLSX_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, description="Excel"),
            (400, "application/json"): OpenApiResponse(
                ImportErrorSerializer, description=_EXPORT_400
            ),
            **_errors(401, 403),
        },
    )
    def get(self, request: Request, kind: str, file_format: str) -> HttpResponse:
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        language = query.validated_data.get("lang") or translation.get_language() or "en"
        encoding = query.validated_data["encoding"]
        if file_format != "csv" and encoding != "utf-8":
            message = _("the encoding applies to CSV files only; an .xlsx file has none")
            raise ApiError(
                status.HTTP_400_BAD_REQUEST, "invalid", message, fields={"encoding": [message]}
            )
        export = orders_export if kind == "orders" else crews_export
        with translation.override(language):
            # A character CP932 cannot write raises ExportEncodingError: a 400 naming it.
            data = export(format=file_format, language=language, encoding=encoding)
        if file_format == "xlsx":
            content_type = XLSX_CONTENT_TYPE
        elif encoding == "cp932":
            content_type = CSV_CP932_CONTENT_TYPE
        else:
            content_type = CSV_CONTENT_TYPE
        response = HttpResponse(data, content_type=content_type)
        filename = f"{kind}-{timezone.localdate():%Y%m%d}.{file_format}"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        # Customers' names and phone numbers: no shared cache may keep them.
        response["Cache-Control"] = "no-store"
        return response


class GeocodingProgressView(APIView):
    """How many sites wait for the geocoder, so the import page can show its progress."""

    roles = COORDINATORS

    @extend_schema(
        operation_id="imports_geocoding_progress",
        summary="Sites per geocoding status",
        responses={200: GeocodingProgressSerializer, **_errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        return Response(GeocodingProgressSerializer(sites_geocoding_progress()).data)
