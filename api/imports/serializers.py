"""The upload, the import report and the geocoding progress, as the API shows them.

The report serializers read :class:`delivery.imports.ImportReport` directly, so
the JSON is the service's own report and not a second description of it.
"""

from __future__ import annotations

from django.conf import settings
from rest_framework import serializers

from delivery.imports import MAX_FILE_BYTES, MAX_ROWS
from delivery.imports.report import ACTIONS
from delivery.imports.tables import EXPORT_ENCODINGS


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True,  # the service says "the file is empty" in its own words
        help_text=(
            "A CSV file (UTF-8 with or without BOM, or Shift_JIS/CP932) or an Excel .xlsx "
            f"workbook with a header row; at most {MAX_FILE_BYTES // 1024 // 1024} MB and "
            f"{MAX_ROWS:,} rows. Columns: see docs/IMPORT.md."
        ),
    )


class ExportQuerySerializer(serializers.Serializer):
    """The export's query parameters: the language of its headers, the CSV's encoding."""

    lang = serializers.ChoiceField(
        choices=[code for code, _name in settings.LANGUAGES],
        required=False,
        help_text=(
            "Headers and coded values in English (`en`) or Japanese (`ja`). Default: the "
            "request's language (`Accept-Language`, the language switch), else English. "
            "Either imports back."
        ),
    )
    encoding = serializers.ChoiceField(
        choices=list(EXPORT_ENCODINGS),
        default="utf-8",
        help_text=(
            "CSV only: `utf-8` (with BOM, the default) or `cp932` (Shift_JIS as Japanese "
            "Excel reads it). A character CP932 cannot write (e.g. 𠮷, é, ©, emoji) answers "
            "400 `unencodable_character` naming its row and column; nothing is replaced."
        ),
    )


class ImportErrorItemSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True, help_text="Row number as the spreadsheet shows it (header = 1)."
    )
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()
    text = serializers.CharField(help_text="e.g. \"row 7, due date: '2026/13/01' is not a date\"")


class ImportRowSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    key = serializers.CharField(help_text="The natural key: job reference, or company / crew.")
    action = serializers.ChoiceField(choices=list(ACTIONS))
    changes = serializers.ListField(child=serializers.CharField())
    notes = serializers.ListField(child=serializers.CharField())
    errors = ImportErrorItemSerializer(many=True)


class ImportCountsSerializer(serializers.Serializer):
    create = serializers.IntegerField()
    update = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    invalid = serializers.IntegerField()


class ImportReportSerializer(serializers.Serializer):
    kind = serializers.CharField()
    filename = serializers.CharField()
    file_format = serializers.CharField(help_text="csv or xlsx; empty when unreadable.")
    encoding = serializers.CharField(help_text="UTF-8, Shift_JIS or UTF-16 for CSV files.")
    dry_run = serializers.BooleanField()
    applied = serializers.BooleanField(help_text="True only when every row was written.")
    ok = serializers.BooleanField(help_text="True when every row is valid.")
    summary = serializers.CharField()
    counts = ImportCountsSerializer()
    geocoding_queued = serializers.IntegerField(
        help_text="New sites without coordinates: queued for geocoding (or would be, on a preview)."
    )
    warnings = serializers.ListField(child=serializers.CharField())
    errors = ImportErrorItemSerializer(many=True)
    rows = ImportRowSerializer(many=True)


class ImportErrorSerializer(serializers.Serializer):
    """The API's one error shape; import errors carry the full report."""

    class ImportErrorBody(serializers.Serializer):
        status = serializers.IntegerField()
        code = serializers.CharField()
        message = serializers.CharField()
        fields = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        )
        report = ImportReportSerializer(required=False)

    error = ImportErrorBody()


class GeocodingProgressSerializer(serializers.Serializer):
    pending = serializers.IntegerField(help_text="Waiting for the geocoder.")
    ok = serializers.IntegerField()
    not_found = serializers.IntegerField()
    failed = serializers.IntegerField()
    manual = serializers.IntegerField(help_text="Placed by hand (or by an imported sheet).")
    total = serializers.IntegerField()
