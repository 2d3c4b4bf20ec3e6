"""Which files an import can read, and what it says about the ones it cannot."""

from __future__ import annotations

import io

import openpyxl
import pytest

from delivery.imports import MAX_FILE_BYTES, MAX_ROWS, import_apply, import_preview
from sites.models import Customer
from tests.imports.conftest import csv_bytes, read

pytestmark = pytest.mark.django_db

HEADER = "contract id,customer name,site name,site address,job kind"


def test_utf8_csv_with_bom_is_read() -> None:
    report = import_preview(kind="orders", file=read("orders_utf8.csv"), filename="orders.csv")

    assert report.ok, [error.text for error in report.errors]
    assert (report.file_format, report.encoding) == ("csv", "UTF-8")
    assert report.counts["create"] == 5


def test_utf8_csv_without_bom_is_read() -> None:
    data = csv_bytes(f"{HEADER}\nC-1,株式会社テスト,テストビル,東京都港区芝浦3丁目4-1,新規")

    report = import_preview(kind="orders", file=data, filename="orders.csv")

    assert report.ok and report.encoding == "UTF-8"


def test_shift_jis_csv_from_japanese_excel_is_decoded() -> None:
    """CP932, Japanese Excel's Shift_JIS: its extra characters such as ㈱ come through."""
    report = import_preview(kind="orders", file=read("orders_sjis.csv"), filename="受注.csv")

    assert report.ok, [error.text for error in report.errors]
    assert report.encoding == "Shift_JIS"
    assert report.counts["create"] == 2


def test_shift_jis_names_are_stored_correctly() -> None:
    import_apply(kind="orders", file=read("orders_sjis.csv"), filename="受注.csv")

    assert Customer.objects.filter(name="㈱大阪通信", name_kana="オオサカツウシン").exists()


def test_xlsx_with_date_and_number_cells_is_read() -> None:
    report = import_preview(kind="orders", file=read("orders.xlsx"), filename="orders.xlsx")

    assert report.ok, [error.text for error in report.errors]
    assert report.file_format == "xlsx"
    assert report.counts["create"] == 2


def test_binary_garbage_is_refused_with_a_clear_error() -> None:
    report = import_preview(kind="orders", file=read("garbage.csv"), filename="garbage.csv")

    assert not report.ok and report.rows == []
    assert report.file_error_code == "unreadable_file"
    message = report.file_errors[0].message
    assert "cannot be read as text" in message
    assert "UTF-8" in message and "Shift_JIS" in message
    assert "save it from Excel as 'CSV UTF-8' or as .xlsx" in message


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    report = import_preview(kind="orders", file=b"PK\x03\x04broken", filename="orders.xlsx")

    assert report.file_error_code == "unreadable_file"
    assert "not a readable .xlsx workbook" in report.file_errors[0].message


def test_an_old_xls_workbook_is_refused_with_what_to_do() -> None:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512

    report = import_preview(kind="orders", file=data, filename="orders.xls")

    assert report.file_error_code == "unsupported_format"
    assert "save it as .xlsx or as CSV" in report.file_errors[0].message


def test_an_empty_file_is_refused() -> None:
    report = import_preview(kind="orders", file=b"", filename="orders.csv")

    assert report.file_errors[0].message == "the file is empty"


def test_missing_required_columns_are_named() -> None:
    report = import_preview(
        kind="orders", file=read("orders_missing_columns.csv"), filename="orders.csv"
    )

    assert report.file_error_code == "missing_columns"
    assert report.file_errors[0].message == (
        "the header row lacks the required columns 'contract id' (契約ID), 'site address' (住所)"
    )


def test_a_file_without_a_header_row_is_told_so() -> None:
    data = csv_bytes("C-1,株式会社テスト,テストビル,東京都港区芝浦3丁目4-1,新規")

    report = import_preview(kind="orders", file=data, filename="orders.csv")

    assert report.file_error_code == "missing_columns"
    assert "(is the first row the header?)" in report.file_errors[0].message


def test_too_many_rows_are_refused() -> None:
    row = "C-{n},株式会社テスト,テストビル,東京都港区芝浦3丁目4-{n},新規"
    lines = [HEADER, *(row.format(n=n) for n in range(MAX_ROWS + 1))]

    report = import_preview(kind="orders", file=csv_bytes("\n".join(lines)), filename="big.csv")

    assert report.file_error_code == "too_many_rows"
    assert report.file_errors[0].message == (
        "the file has more than 10,000 data rows; split it into smaller files"
    )


def test_exactly_the_row_limit_is_fine() -> None:
    """The limit counts data rows; blank lines and the header do not count."""
    row = "C-{n},株式会社テスト{n},テストビル,東京都港区芝浦3丁目4-{n},新規"
    lines = [HEADER, "", *(row.format(n=n) for n in range(MAX_ROWS))]

    report = import_preview(kind="orders", file=csv_bytes("\n".join(lines)), filename="big.csv")

    assert report.ok and len(report.rows) == MAX_ROWS


def test_a_file_over_5_mb_is_refused_before_it_is_parsed() -> None:
    data = csv_bytes(HEADER) + b"x" * MAX_FILE_BYTES

    report = import_preview(kind="orders", file=data, filename="big.csv")

    assert report.file_error_code == "file_too_large"
    assert "at most 5 MB" in report.file_errors[0].message


def test_japanese_headers_are_accepted() -> None:
    data = csv_bytes(
        "契約ID,顧客名,建物名,住所,作業種別\nC-1,株式会社テスト,テストビル,東京都港区1-1,移転"
    )

    report = import_preview(kind="orders", file=data, filename="orders.csv")

    assert report.ok, [error.text for error in report.errors]


def test_unknown_columns_are_ignored_with_a_warning() -> None:
    data = csv_bytes(f"{HEADER},営業担当\nC-1,株式会社テスト,テストビル,東京都港区1-1,新規,佐藤")

    report = import_preview(kind="orders", file=data, filename="orders.csv")

    assert report.ok
    assert report.warnings == ["ignored columns: '営業担当'"]


def test_two_columns_meaning_the_same_are_refused() -> None:
    data = csv_bytes(
        f"{HEADER},住所\nC-1,株式会社テスト,テストビル,東京都港区1-1,新規,東京都港区1-1"
    )

    report = import_preview(kind="orders", file=data, filename="orders.csv")

    assert report.file_error_code == "duplicate_columns"
    assert "'site address' and '住所' both mean 'site address'" in report.file_errors[0].message


def test_the_first_worksheet_of_a_workbook_is_read() -> None:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER.split(","))
    sheet.append(["C-1", "株式会社テスト", "テストビル", "東京都港区1-1", "保守"])
    workbook.create_sheet("メモ").append(["not", "this", "one"])
    output = io.BytesIO()
    workbook.save(output)

    report = import_preview(kind="orders", file=output.getvalue(), filename="orders.xlsx")

    assert report.ok and report.counts["create"] == 1
