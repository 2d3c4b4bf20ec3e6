"""Orders and crews from coordinators' spreadsheets (CSV or Excel), and back out.

The public API; see ``docs/IMPORT.md`` for the file formats::

    report = import_preview(kind="orders", file=data, filename="orders.csv")
    report = import_apply(kind="orders", file=data, filename="orders.csv")
    data = orders_export(format="xlsx")
"""

from .report import ImportFileError, ImportReport, RowError, RowResult
from .services import (
    FILE_FORMATS,
    IMPORT_KINDS,
    FileFormat,
    ImportKind,
    crews_export,
    import_apply,
    import_columns,
    import_preview,
    orders_export,
    sites_geocoding_progress,
)
from .tables import CSV_CONTENT_TYPE, MAX_FILE_BYTES, MAX_ROWS, XLSX_CONTENT_TYPE

__all__ = [
    "CSV_CONTENT_TYPE",
    "FILE_FORMATS",
    "IMPORT_KINDS",
    "MAX_FILE_BYTES",
    "MAX_ROWS",
    "XLSX_CONTENT_TYPE",
    "FileFormat",
    "ImportFileError",
    "ImportKind",
    "ImportReport",
    "RowError",
    "RowResult",
    "crews_export",
    "import_apply",
    "import_columns",
    "import_preview",
    "orders_export",
    "sites_geocoding_progress",
]
