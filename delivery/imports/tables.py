"""Files to rows and rows to files: CSV (UTF-8 or Shift_JIS) and Excel .xlsx, one shape.

Everything above this module sees a :class:`Table` of numbered rows of cells
and never asks which format it came from. Any way a file can be unreadable
becomes an :class:`~delivery.imports.report.ImportFileError` saying what to do.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from .cells import FORMULA_TRIGGERS, Cell, is_blank
from .report import ImportFileError

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls and other old Office files
_ALLOWED_CONTROLS = {"\t", "\n", "\r"}


@dataclass
class Table:
    """The header and the non-blank data rows of a file, with spreadsheet row numbers."""

    file_format: str
    encoding: str
    header: list[Cell]
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)


def table_read(*, data: bytes, filename: str) -> Table:
    """Read ``data`` as CSV or .xlsx (by its content; the name only breaks ties).

    Raises
    ------
    ImportFileError
        Empty, too big, not a table we can read, no header, too many rows.
    """
    if not data:
        raise ImportFileError("empty_file", "the file is empty")
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            "file_too_large",
            f"the file is {len(data) / 1024 / 1024:.1f} MB; at most "
            f"{MAX_FILE_BYTES // 1024 // 1024} MB can be imported at once (split it)",
        )
    name = filename.lower()
    if data.startswith(_ZIP_MAGIC):
        return _table_from_rows("xlsx", "", _xlsx_rows(data))
    if data.startswith(_OLE_MAGIC) or name.endswith(".xls"):
        raise ImportFileError(
            "unsupported_format",
            "this is an old Excel .xls workbook; save it as .xlsx or as CSV and upload that",
        )
    if name.endswith((".xlsx", ".xlsm")):
        raise ImportFileError(
            "unreadable_file", f"'{filename}' is not a valid .xlsx workbook (it is not a zip file)"
        )
    text, encoding = _decode(data)
    return _table_from_rows("csv", encoding, _csv_rows(text))


def _decode(data: bytes) -> tuple[str, str]:
    """Text of a CSV file: UTF-8 (with or without BOM), UTF-16 with BOM, or Shift_JIS."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]  # Excel's "Unicode text"
    else:
        # UTF-8 first: Japanese Shift_JIS text is practically never valid
        # UTF-8, while the reverse mistake would silently garble every name.
        # CP932 is Microsoft's Shift_JIS, what Japanese Excel really writes
        # (it adds ①, ㈱, NEC and IBM extensions to plain Shift_JIS).
        candidates = ["utf-8-sig", "cp932"]
    failures = []
    for encoding in candidates:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            failures.append(f"not {_ENCODING_NAMES[encoding]} (byte {exc.start + 1})")
            continue
        bad = next((char for char in text if char < " " and char not in _ALLOWED_CONTROLS), None)
        if bad is not None:
            raise ImportFileError(
                "unreadable_file",
                "the file is not a spreadsheet: it holds binary data (e.g. the control "
                f"character {bad!r}); upload a CSV file or an .xlsx workbook",
            )
        return text, _ENCODING_NAMES[encoding]
    raise ImportFileError(
        "unreadable_file",
        "the file cannot be read as text: it is "
        + " and ".join(failures)
        + "; save it from Excel as 'CSV UTF-8' or as .xlsx",
    )


_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "cp932": "Shift_JIS", "utf-16": "UTF-16"}


def _csv_rows(text: str) -> Iterator[list[Cell]]:
    first_line = text.split("\n", 1)[0]
    # Excel's "Unicode text" and many exports from other tools use tabs.
    delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            yield list(row)
    except csv.Error as exc:
        raise ImportFileError(
            "unreadable_file", f"line {reader.line_num}: the CSV is malformed ({exc})"
        ) from exc


def _xlsx_rows(data: bytes) -> Iterator[list[Cell]]:
    # openpyxl raises a zoo of exceptions for damaged or hostile files
    # (zip, XML, key and value errors); each means the same to the
    # coordinator: this workbook cannot be read. Malformed XML is a
    # ``ParseError`` (a SyntaxError, not a ValueError: it once answered 500);
    # entity declarations are refused by defusedxml (a ValueError).
    unreadable = (
        zipfile.BadZipFile,
        InvalidFileException,
        KeyError,
        ValueError,
        TypeError,
        OSError,
        ElementTree.ParseError,
        ExpatError,
    )
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except unreadable as exc:
        raise ImportFileError(
            "unreadable_file", f"the file is not a readable .xlsx workbook ({type(exc).__name__})"
        ) from exc
    try:
        if not workbook.worksheets:
            raise ImportFileError("empty_file", "the workbook has no worksheet")
        sheet = workbook.worksheets[0]
        try:
            for values in sheet.iter_rows(values_only=True):
                yield list(values)
        except unreadable as exc:
            raise ImportFileError(
                "unreadable_file",
                f"the first worksheet cannot be read ({type(exc).__name__}: {exc})",
            ) from exc
    finally:
        workbook.close()


def _table_from_rows(file_format: str, encoding: str, rows: Iterator[list[Cell]]) -> Table:
    header: list[Cell] | None = None
    table = Table(file_format=file_format, encoding=encoding, header=[])
    for number, cells in enumerate(rows, start=1):
        if all(is_blank(cell) for cell in cells):
            continue
        if header is None:
            header = cells
            table.header = cells
            continue
        if len(table.rows) == MAX_ROWS:
            raise ImportFileError(
                "too_many_rows",
                f"the file has more than {MAX_ROWS:,} data rows; split it into smaller files",
            )
        table.rows.append((number, cells))
    if header is None:
        raise ImportFileError("empty_file", "the file has no rows (a header row is required)")
    return table


# --- writing ------------------------------------------------------------------------


def _escaped(value: Cell) -> Cell:
    """Text a spreadsheet would run as a formula gets a leading quote (the import removes it)."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def _csv_text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S" if value.second else "%H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def table_write(
    *, file_format: str, title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]
) -> bytes:
    """The rows as CSV (UTF-8 with BOM, so Excel shows Japanese right) or as .xlsx."""
    if file_format == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow([_csv_text(_escaped(value)) for value in row])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    if file_format == "xlsx":
        workbook = openpyxl.Workbook(write_only=True)
        sheet = workbook.create_sheet(title=title)
        sheet.append(list(header))
        for row in rows:
            sheet.append([_escaped(value) for value in row])
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()
    raise ValueError(f"unknown file format {file_format!r} (csv or xlsx)")
