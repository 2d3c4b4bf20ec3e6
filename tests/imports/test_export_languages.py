"""Exports in Japanese and in Shift_JIS: what a Japanese coordinator opens in Excel reads back.

The headers follow the request's language (``Accept-Language`` or ``?lang=``),
the CSV's encoding ``?encoding=`` (UTF-8 with BOM by default, CP932 for
Japanese Excel). Whatever the language and encoding, importing the export
unchanged finds every row unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import User
from delivery.imports import (
    crews_export,
    import_apply,
    import_columns,
    import_preview,
    orders_export,
)
from delivery.imports.tables import ExportEncodingError
from dispatch.models import Skill
from dispatch.states import JobKind
from tests.factories import make_contract, make_customer, make_job, make_site
from tests.imports.conftest import read

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.imports.urls")]

Client = Callable[[User | None], APIClient]
ORDER_FILES = ("orders_utf8.csv", "orders_sjis.csv", "orders.xlsx")
UNCHANGED_ORDERS = {"create": 0, "update": 0, "unchanged": 9, "invalid": 0}


def _orders_imported() -> None:
    for name in ORDER_FILES:
        assert import_apply(kind="orders", file=read(name), filename=name).applied


def _crews_imported() -> None:
    for name in ("crews.csv", "crews.xlsx"):
        assert import_apply(kind="crews", file=read(name), filename=name).applied


def _rows(data: bytes, file_format: str, encoding: str = "utf-8-sig") -> list[list[str]]:
    if file_format == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(data), read_only=True).worksheets[0]
        return [
            ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
        ]
    return list(csv.reader(io.StringIO(data.decode(encoding), newline="")))


def _japanese_header(kind: str) -> list[str]:
    return [column.japanese for column in import_columns(kind=kind)]


# --- the service ----------------------------------------------------------------------


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_japanese_orders_export_has_japanese_headers_and_reads_back_unchanged(
    file_format: str,
) -> None:
    _orders_imported()

    exported = orders_export(format=file_format, language="ja")

    header, *rows = _rows(exported, file_format)
    assert header == _japanese_header("orders")
    assert header[:3] == ["案件番号", "契約ID", "回線ID"]
    kinds = {row[header.index("作業種別")] for row in rows}
    assert kinds <= {"新規", "コース変更", "移転", "保守"}
    report = import_preview(kind="orders", file=exported, filename=f"orders.{file_format}")
    assert report.ok, [error.text for error in report.errors]
    assert report.counts == UNCHANGED_ORDERS
    assert report.warnings == []  # every Japanese header was recognised


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_japanese_crews_export_writes_weekdays_in_japanese_and_reads_back_unchanged(
    file_format: str, skills: list[Skill]
) -> None:
    _crews_imported()

    exported = crews_export(format=file_format, language="ja")

    header, *rows = _rows(exported, file_format)
    assert header == _japanese_header("crews")
    weekdays = [row[header.index("稼働曜日")] for row in rows]
    assert "月-金" in weekdays and "月,火,土" in weekdays
    assert not any(day in text for text in weekdays for day in ("Mon", "Fri"))
    report = import_preview(kind="crews", file=exported, filename=f"crews.{file_format}")
    assert report.ok, [error.text for error in report.errors]
    assert report.counts == {"create": 0, "update": 0, "unchanged": 5, "invalid": 0}


def test_kinds_and_time_slots_are_written_as_the_import_reads_them_in_both_languages() -> None:
    contract = make_contract(contract_id="C-SLOT-1", customer=make_customer(name="株式会社時間帯"))
    site = make_site(name="時間帯ビル")
    am, pm = (dt.time(9), dt.time(12)), (dt.time(13), dt.time(17))
    for reference, kind, (start, end) in (
        ("J-AM", JobKind.RELOCATION, am),
        ("J-PM", JobKind.MAINTENANCE, pm),
    ):
        make_job(
            reference=reference,
            kind=kind,
            site=site,
            contract=contract,
            window_start=start,
            window_end=end,
            preferred_dates=["2026-12-01"],
        )

    english = _rows(orders_export(format="csv", language="en"), "csv")
    japanese = _rows(orders_export(format="csv", language="ja"), "csv")

    def cells(rows: list[list[str]], *headers: str) -> list[tuple[str, ...]]:
        return [tuple(row[rows[0].index(h)] for h in headers) for row in rows[1:]]

    assert cells(english, "job kind", "time slot") == [("relocation", "AM"), ("maintenance", "PM")]
    assert cells(japanese, "作業種別", "希望時間帯") == [("移転", "午前"), ("保守", "午後")]
    for language in ("en", "ja"):
        exported = orders_export(format="csv", language=language)
        report = import_preview(kind="orders", file=exported, filename="orders.csv")
        assert [(r.key, r.action) for r in report.rows] == [
            ("J-AM", "unchanged"),
            ("J-PM", "unchanged"),
        ], [e.text for e in report.errors]


def test_a_cp932_export_decodes_as_cp932_and_reads_back_unchanged() -> None:
    _orders_imported()

    exported = orders_export(format="csv", language="ja", encoding="cp932")

    assert not exported.startswith(b"\xef\xbb\xbf")  # no UTF-8 BOM in a Shift_JIS file
    with pytest.raises(UnicodeDecodeError):
        exported.decode("utf-8")
    header, *_ = _rows(exported, "csv", encoding="cp932")
    assert header == _japanese_header("orders")
    report = import_preview(kind="orders", file=exported, filename="orders.csv")
    assert report.encoding == "Shift_JIS"
    assert report.counts == UNCHANGED_ORDERS, [error.text for error in report.errors]


def test_access_hours_with_a_wave_dash_survive_cp932() -> None:
    """CP932 writes 〜 (U+301C) as ～ (U+FF5E), which the access-hours parser reads the same."""
    contract = make_contract(contract_id="C-ACCESS", customer=make_customer(name="入館株式会社"))
    site = make_site(
        name="入館ビル",
        access_hours=[{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"}],
    )
    make_job(reference="J-ACCESS", site=site, contract=contract)

    exported = orders_export(format="csv", language="ja", encoding="cp932")

    assert "平日 9:00～17:00" in exported.decode("cp932")
    report = import_preview(kind="orders", file=exported, filename="orders.csv")
    assert [(r.key, r.action) for r in report.rows] == [("J-ACCESS", "unchanged")], [
        e.text for e in report.errors
    ]


def test_the_default_export_stays_english_utf8_with_bom() -> None:
    _orders_imported()

    exported = orders_export(format="csv")

    assert exported.startswith(b"\xef\xbb\xbf")
    header, *_ = _rows(exported, "csv")
    assert header == [column.label for column in import_columns(kind="orders")]


def test_a_character_cp932_cannot_write_is_refused_with_its_row_and_column() -> None:
    """Never replaced: a '?' in a name would be imported back as the customer's new name."""
    first = make_contract(contract_id="C-1", customer=make_customer(name="株式会社一番"))
    second = make_contract(contract_id="C-2", customer=make_customer(name="𠮷野家商店"))
    make_job(reference="J-1", contract=first)
    make_job(reference="J-2", contract=second)

    with pytest.raises(ExportEncodingError) as raised:
        orders_export(format="csv", language="ja", encoding="cp932")

    error = raised.value
    assert error.field == "encoding"
    assert error.details == {"row": 3, "column": "顧客名", "character": "𠮷"}
    assert "U+20BB7" in error.message
    # UTF-8 and Excel hold every character.
    assert "𠮷野家商店" in orders_export(format="csv", language="ja").decode("utf-8-sig")


# --- the API --------------------------------------------------------------------------


def _preview(client: APIClient, kind: str, data: bytes, name: str) -> dict[str, object]:
    upload = SimpleUploadedFile(name, data)
    response = client.post(f"/api/v1/imports/{kind}/preview/", {"file": upload}, format="multipart")
    assert response.status_code == 200, response.content
    body: dict[str, object] = response.json()
    return body


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_japanese_coordinator_gets_japanese_headers_that_preview_unchanged(
    client_for: Client, alice: User, file_format: str
) -> None:
    _orders_imported()
    client = client_for(alice)

    response = client.get(f"/api/v1/exports/orders.{file_format}", HTTP_ACCEPT_LANGUAGE="ja")

    assert response.status_code == 200
    header, *_ = _rows(response.content, file_format)
    assert header == _japanese_header("orders")
    report = _preview(client, "orders", response.content, f"orders.{file_format}")
    assert report["counts"] == UNCHANGED_ORDERS


def test_lang_chooses_the_headers_whatever_accept_language_says(
    client_for: Client, alice: User
) -> None:
    client = client_for(alice)

    english = client.get("/api/v1/exports/crews.csv?lang=en", HTTP_ACCEPT_LANGUAGE="ja")
    japanese = client.get("/api/v1/exports/crews.csv?lang=ja")

    assert _rows(english.content, "csv")[0][:2] == ["company name", "crew name"]
    assert _rows(japanese.content, "csv")[0][:2] == ["会社名", "班名"]


def test_encoding_cp932_answers_shift_jis_with_japanese_headers(
    client_for: Client, alice: User
) -> None:
    _orders_imported()
    client = client_for(alice)

    response = client.get("/api/v1/exports/orders.csv?encoding=cp932", HTTP_ACCEPT_LANGUAGE="ja")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=shift_jis"
    text = response.content.decode("cp932")
    assert text.startswith("案件番号,契約ID,回線ID,顧客名")
    assert "株式会社芝浦商事" in text
    report = _preview(client, "orders", response.content, "orders.csv")
    assert report["encoding"] == "Shift_JIS"
    assert report["counts"] == UNCHANGED_ORDERS


def test_an_unencodable_character_answers_400_naming_row_and_column(
    client_for: Client, alice: User
) -> None:
    contract = make_contract(contract_id="C-1", customer=make_customer(name="髙橋 ©"))
    make_job(reference="J-1", contract=contract)

    response = client_for(alice).get(
        "/api/v1/exports/orders.csv?encoding=cp932&lang=en", HTTP_ACCEPT="text/csv"
    )

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert error["code"] == "unencodable_character"
    assert (error["row"], error["column"], error["character"]) == (2, "customer name", "©")
    assert error["fields"]["encoding"] == [error["message"]]
    assert error["message"].startswith("row 2, customer name: the character '©' (U+00A9)")


def test_the_unencodable_message_follows_the_language(client_for: Client, alice: User) -> None:
    contract = make_contract(contract_id="C-1", customer=make_customer(name="Café Ange"))
    make_job(reference="J-1", contract=contract)

    response = client_for(alice).get("/api/v1/exports/orders.csv?encoding=cp932&lang=ja")

    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith("2行目、顧客名: 文字「é」")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("lang=xx", "lang"),
        ("encoding=latin-1", "encoding"),
        ("encoding=utf-16", "encoding"),
    ],
)
def test_unknown_parameters_answer_400_naming_them(
    client_for: Client, alice: User, query: str, field: str
) -> None:
    response = client_for(alice).get(f"/api/v1/exports/orders.csv?{query}")

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (400, "invalid")
    assert list(error["fields"]) == [field]


def test_an_encoding_for_an_xlsx_file_is_refused(client_for: Client, alice: User) -> None:
    response = client_for(alice).get("/api/v1/exports/orders.xlsx?encoding=cp932")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["encoding"]
