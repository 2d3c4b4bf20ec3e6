"""The import and export services: one API for CSV and Excel, orders and crews.

``import_preview`` and ``import_apply`` run the very same code; the preview
just never writes. The apply writes every row in one transaction or none:
a sheet that is half imported is worse than one not imported at all, because
nobody can tell which half made it.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from sites.models import GeocodeStatus, Site

from .cells import CellError, Column, is_blank, match_columns
from .crews import CrewsImport
from .crews import export_rows as crew_rows
from .orders import OrdersImport
from .orders import export_rows as order_rows
from .report import ImportFileError, ImportReport, RowResult
from .tables import export_in_language, table_read, table_write

ImportKind = Literal["orders", "crews"]
FileFormat = Literal["csv", "xlsx"]
IMPORT_KINDS: tuple[ImportKind, ...] = ("orders", "crews")
FILE_FORMATS: tuple[FileFormat, ...] = ("csv", "xlsx")


class _Importer(Protocol):
    columns: tuple[Column, ...]
    values_class: type[Any]
    geocoding_queued: int

    def preload(self, rows: list[Any]) -> None: ...
    def key_of(self, row: Any) -> str: ...
    def process(self, row: Any, result: RowResult) -> None: ...


def _importer(kind: str, *, write: bool) -> _Importer:
    if kind == "orders":
        return OrdersImport(write=write)
    if kind == "crews":
        return CrewsImport(write=write)
    raise ValueError(f"unknown import kind {kind!r} (orders or crews)")


def _column_names(columns: list[Column]) -> str:
    return pgettext("list separator", ", ").join(
        f"'{column.label}' ({column.japanese})" for column in columns
    )


def _run(*, kind: str, file: bytes, filename: str, write: bool) -> ImportReport:
    importer = _importer(kind, write=write)
    report = ImportReport(kind=kind, filename=filename, dry_run=not write)
    try:
        table = table_read(data=file, filename=filename)
        report.file_format, report.encoding = table.file_format, table.encoding
        positions, unknown, duplicates = match_columns(importer.columns, table.header)
        if duplicates:
            raise ImportFileError(
                "duplicate_columns", pgettext("list separator", "; ").join(duplicates)
            )
        present = {column.field for column in positions.values()}
        missing = [c for c in importer.columns if c.required and c.field not in present]
        if missing:
            message = ngettext(
                "the header row lacks the required column %(columns)s",
                "the header row lacks the required columns %(columns)s",
                len(missing),
            ) % {"columns": _column_names(missing)}
            if not positions:
                message = _("%(message)s (is the first row the header?)") % {"message": message}
            raise ImportFileError("missing_columns", message)
    except ImportFileError as exc:
        report.fail(exc)
        return report
    if unknown:
        report.warnings.append(
            _("ignored columns: %(columns)s")
            % {"columns": pgettext("list separator", ", ").join(repr(name) for name in unknown)}
        )

    parsed: list[tuple[RowResult, Any]] = []
    for number, cells in table.rows:
        result = RowResult(row=number)
        values: dict[str, Any] = {}
        for position, column in positions.items():
            cell = cells[position] if position < len(cells) else None
            if is_blank(cell):
                if column.required:
                    result.error(column.label, _("is empty; a value is required"))
                continue
            try:
                values[column.field] = column.parse(cell)
            except CellError as exc:
                result.error(column.label, str(exc))
        row = importer.values_class(**values)
        result.key = importer.key_of(row)
        report.rows.append(result)
        parsed.append((result, row))
    importer.preload([row for result, row in parsed if result.is_valid])
    for result, row in parsed:
        if result.is_valid:
            importer.process(row, result)
    report.geocoding_queued = importer.geocoding_queued
    return report


def import_preview(*, kind: str, file: bytes, filename: str) -> ImportReport:
    """Dry run: read and check every row, say what an apply would do, write nothing."""
    return _run(kind=kind, file=file, filename=filename, write=False)


class _Rollback(Exception):
    def __init__(self, report: ImportReport) -> None:
        super().__init__(report.summary)
        self.report = report


def import_apply(*, kind: str, file: bytes, filename: str) -> ImportReport:
    """Check every row again and write them all in one transaction, or write nothing.

    Nothing a preview showed is trusted: the rows are re-read and re-resolved
    inside the transaction, against rows locked until the commit. Any row
    error rolls everything back and the report says why; new sites are
    queued for geocoding only once the commit has happened.
    """
    try:
        with transaction.atomic():
            report = _run(kind=kind, file=file, filename=filename, write=True)
            if not report.ok:
                raise _Rollback(report)
    except _Rollback as rollback:
        report = rollback.report
        report.geocoding_queued = 0
        return report
    except IntegrityError as exc:
        # Someone saved a conflicting record (a contract id, a circuit id) between
        # our read and our write; the database refused, and everything rolled back.
        report = ImportReport(kind=kind, filename=filename, dry_run=False)
        report.fail(
            ImportFileError(
                "conflict",
                _(
                    "another change was saved at the same time and conflicts with this file; "
                    "nothing was imported, run the import again (%(reason)s)"
                )
                % {"reason": exc},
            )
        )
        return report
    report.applied = True
    return report


def import_columns(*, kind: str) -> tuple[Column, ...]:
    """The columns of ``kind``'s file format, in export order."""
    return _importer(kind, write=False).columns


def _export(*, kind: str, file_format: str, language: str, encoding: str) -> bytes:
    if file_format not in FILE_FORMATS:
        raise ValueError(f"unknown file format {file_format!r} (csv or xlsx)")
    rows = (order_rows() if kind == "orders" else crew_rows())[1]  # [0]: the English header
    header, rows = export_in_language(import_columns(kind=kind), rows, language)
    return table_write(
        file_format=file_format, title=kind, header=header, rows=rows, encoding=encoding
    )


def orders_export(*, format: str, language: str = "en", encoding: str = "utf-8") -> bytes:
    """Every order (job with a contract) as ``csv`` or ``xlsx``, in the import's own format.

    The headers are the import's column names (English, or Japanese with
    ``language="ja"``), so export -> edit -> import is the round trip
    coordinators use to change many orders at once. CSV is UTF-8 with BOM, or
    CP932 with ``encoding="cp932"`` (see :func:`.tables.table_write`).
    """
    return _export(kind="orders", file_format=format, language=language, encoding=encoding)


def crews_export(*, format: str, language: str = "en", encoding: str = "utf-8") -> bytes:
    """Every crew as ``csv`` or ``xlsx``, in the import's own format (as :func:`orders_export`)."""
    return _export(kind="crews", file_format=format, language=language, encoding=encoding)


def sites_geocoding_progress() -> dict[str, int]:
    """Sites per geocoding status, so a page can show how far the geocoder has got."""
    counts = dict.fromkeys((status.value for status in GeocodeStatus), 0)
    for row in Site.objects.values("geocode_status").annotate(n=Count("pk")).order_by():
        counts[row["geocode_status"]] = row["n"]
    counts["total"] = sum(counts.values())
    return counts
