"""Files to rows and rows to files: CSV (UTF-8 or Shift_JIS) and Excel .xlsx, one shape.

Everything above this module sees a :class:`Table` of numbered rows of cells
and never asks which format it came from. Any way a file can be unreadable
becomes an :class:`~delivery.imports.report.ImportFileError` saying what to do.

Writing (the exports) goes the other way: :func:`export_in_language` gives the
rows Japanese headers and Japanese spellings of the coded values (which the
import reads back), and :func:`table_write` writes CSV in UTF-8 with BOM or in
CP932 (Shift_JIS as Japanese Excel reads it), or .xlsx. A character CP932
cannot encode is refused with its row and column (:class:`ExportEncodingError`),
never replaced: a ``?`` in a customer's name would be imported back as the
new name.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from xml.etree import ElementTree
from xml.parsers.expat import ExpatError

import openpyxl
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from openpyxl.utils.exceptions import InvalidFileException

from core.errors import INVALID_INPUT, DomainError
from dispatch.states import JobKind

from .cells import FORMULA_TRIGGERS, WEEKDAY_NAMES, Cell, Column, is_blank
from .report import ImportFileError

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_ROWS = 10_000

CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
#: What Japanese Excel opens without an import dialog: Microsoft's Shift_JIS.
CSV_CP932_CONTENT_TYPE = "text/csv; charset=shift_jis"
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
        raise ImportFileError("empty_file", _("the file is empty"))
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(
            "file_too_large",
            _("the file is %(size)s MB; at most %(limit)s MB can be imported at once (split it)")
            % {"size": f"{len(data) / 1024 / 1024:.1f}", "limit": MAX_FILE_BYTES // 1024 // 1024},
        )
    name = filename.lower()
    if data.startswith(_ZIP_MAGIC):
        return _table_from_rows("xlsx", "", _xlsx_rows(data))
    if data.startswith(_OLE_MAGIC) or name.endswith(".xls"):
        raise ImportFileError(
            "unsupported_format",
            _("this is an old Excel .xls workbook; save it as .xlsx or as CSV and upload that"),
        )
    if name.endswith((".xlsx", ".xlsm")):
        raise ImportFileError(
            "unreadable_file",
            _("'%(name)s' is not a valid .xlsx workbook (it is not a zip file)")
            % {"name": filename},
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
            failures.append(
                _("not %(encoding)s (byte %(byte)s)")
                % {"encoding": _ENCODING_NAMES[encoding], "byte": exc.start + 1}
            )
            continue
        bad = next((char for char in text if char < " " and char not in _ALLOWED_CONTROLS), None)
        if bad is not None:
            raise ImportFileError(
                "unreadable_file",
                _(
                    "the file is not a spreadsheet: it holds binary data (e.g. the control "
                    "character %(character)s); upload a CSV file or an .xlsx workbook"
                )
                % {"character": repr(bad)},
            )
        return text, _ENCODING_NAMES[encoding]
    raise ImportFileError(
        "unreadable_file",
        _(
            "the file cannot be read as text: it is %(failures)s; "
            "save it from Excel as 'CSV UTF-8' or as .xlsx"
        )
        % {"failures": pgettext("list separator", " and ").join(failures)},
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
            "unreadable_file",
            _("line %(line)s: the CSV is malformed (%(reason)s)")
            % {"line": reader.line_num, "reason": exc},
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
            "unreadable_file",
            _("the file is not a readable .xlsx workbook (%(error)s)")
            % {"error": type(exc).__name__},
        ) from exc
    try:
        if not workbook.worksheets:
            raise ImportFileError("empty_file", _("the workbook has no worksheet"))
        sheet = workbook.worksheets[0]
        try:
            for values in sheet.iter_rows(values_only=True):
                yield list(values)
        except unreadable as exc:
            raise ImportFileError(
                "unreadable_file",
                _("the first worksheet cannot be read (%(error)s: %(reason)s)")
                % {"error": type(exc).__name__, "reason": exc},
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
                _("the file has more than %(limit)s data rows; split it into smaller files")
                % {"limit": f"{MAX_ROWS:,}"},
            )
        table.rows.append((number, cells))
    if header is None:
        raise ImportFileError("empty_file", _("the file has no rows (a header row is required)"))
    return table


# --- writing ------------------------------------------------------------------------

#: The encodings a CSV export can be written in: ``utf-8`` (with BOM) or ``cp932``.
EXPORT_ENCODINGS = ("utf-8", "cp932")
#: The languages of an export's headers and coded values.
EXPORT_LANGUAGES = ("en", "ja")

#: A job kind as the Japanese export writes it (the import's own Japanese names).
_KIND_JA = {
    JobKind.NEW_LINE.value: "新規",
    JobKind.PLAN_CHANGE.value: "コース変更",
    JobKind.RELOCATION.value: "移転",
    JobKind.MAINTENANCE.value: "保守",
}
_WEEKDAY_JA = dict(zip(WEEKDAY_NAMES, "月火水木金土日", strict=True))
_WEEKDAY_NAME = re.compile("|".join(WEEKDAY_NAMES))
_SLOT_JA = {"AM": "午前", "PM": "午後"}


def _weekdays_ja(value: Cell) -> Cell:
    """``Mon-Fri`` → ``月-金``, ``Mon,Wed`` → ``月,水`` (the import reads both)."""
    if not isinstance(value, str):
        return value
    return _WEEKDAY_NAME.sub(lambda match: _WEEKDAY_JA[match.group(0)], value)


#: Per column (by field), a coded value as the Japanese export writes it; the
#: import accepts either spelling, so an export in either language reads back the same.
_JAPANESE_VALUES: dict[str, Callable[[Cell], Cell]] = {
    "kind": lambda value: _KIND_JA.get(value, value) if isinstance(value, str) else value,
    "time_slot": lambda value: _SLOT_JA.get(value, value) if isinstance(value, str) else value,
    "working_weekdays": _weekdays_ja,
}


def export_in_language(
    columns: Sequence[Column], rows: Sequence[Sequence[Cell]], language: str
) -> tuple[list[str], list[list[Cell]]]:
    """The header and rows of an export of ``columns`` in ``language`` (``en`` or ``ja``).

    English: each column's ``label`` and the rows as given. Japanese: each
    column's first Japanese name (``契約ID``, ``班名``...) and the coded values
    the import also accepts in Japanese (job kind 新規, time slot 午前, working
    weekdays 月-金). Any other language is English.
    """
    if not language.lower().startswith("ja"):
        return [column.label for column in columns], [list(row) for row in rows]
    header = [column.japanese for column in columns]
    spell = [_JAPANESE_VALUES.get(column.field) for column in columns]
    localised = [
        [
            value if convert is None else convert(value)
            for convert, value in zip(spell, row, strict=True)
        ]
        for row in rows
    ]
    return header, localised


class ExportEncodingError(DomainError):
    """A cell holds a character the chosen encoding cannot write (CP932 lacks 𠮷, é, ©, emoji)."""

    code = "unencodable_character"
    status = INVALID_INPUT

    def __init__(self, *, row: int, column: str, character: str, encoding: str) -> None:
        message = _(
            "row %(row)s, %(column)s: the character '%(character)s' (U+%(codepoint)04X) "
            "cannot be written in %(encoding)s; export as UTF-8 CSV or Excel instead, or "
            "change that character"
        ) % {
            "row": row,
            "column": column,
            "character": character,
            "codepoint": ord(character),
            "encoding": _ENCODING_NAMES.get(encoding, encoding),
        }
        super().__init__(message, field="encoding", row=row, column=column, character=character)


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


def _encodable(cells: list[str], *, number: int, header: Sequence[str], encoding: str) -> list[str]:
    """``cells`` (spreadsheet row ``number``) when ``encoding`` can write each of them."""
    for position, text in enumerate(cells):
        try:
            text.encode(encoding)
        except UnicodeEncodeError as exc:
            column = header[position] if position < len(header) else str(position + 1)
            raise ExportEncodingError(
                row=number, column=column, character=text[exc.start], encoding=encoding
            ) from exc
    return cells


def table_write(
    *,
    file_format: str,
    title: str,
    header: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    encoding: str = "utf-8",
) -> bytes:
    """The rows as CSV or as .xlsx.

    CSV is UTF-8 with BOM (so Excel shows Japanese right) or, with
    ``encoding="cp932"``, Shift_JIS as Japanese Excel writes it (no BOM).
    Row numbers in an :class:`ExportEncodingError` are the spreadsheet's
    (the header is row 1). ``encoding`` does not apply to .xlsx.

    Raises
    ------
    ExportEncodingError
        A cell holds a character CP932 cannot encode.
    """
    if encoding not in EXPORT_ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r} ({' or '.join(EXPORT_ENCODINGS)})")
    if file_format == "csv":
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(header)
        for number, row in enumerate(rows, start=2):
            cells = [_csv_text(_escaped(value)) for value in row]
            if encoding != "utf-8":
                cells = _encodable(cells, number=number, header=header, encoding=encoding)
            writer.writerow(cells)
        if encoding != "utf-8":
            return buffer.getvalue().encode(encoding)
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
