"""Exports in the import's own format: export -> import finds every row unchanged."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import pytest

from delivery.imports import (
    crews_export,
    import_apply,
    import_columns,
    import_preview,
    orders_export,
)
from dispatch.models import Skill
from tests.factories import make_contract, make_customer, make_job, make_site
from tests.imports.conftest import read

pytestmark = pytest.mark.django_db


def _csv_rows(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "a BOM, so Excel shows Japanese correctly"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_orders_round_trip_unchanged(file_format: str) -> None:
    for name in ("orders_utf8.csv", "orders_sjis.csv", "orders.xlsx"):
        assert import_apply(kind="orders", file=read(name), filename=name).applied

    exported = orders_export(format=file_format)
    report = import_preview(kind="orders", file=exported, filename=f"orders.{file_format}")

    assert report.ok, [error.text for error in report.errors]
    assert report.counts == {"create": 0, "update": 0, "unchanged": 9, "invalid": 0}


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_crews_round_trip_unchanged(file_format: str, skills: list[Skill]) -> None:
    for name in ("crews.csv", "crews.xlsx"):
        assert import_apply(kind="crews", file=read(name), filename=name).applied

    exported = crews_export(format=file_format)
    report = import_preview(kind="crews", file=exported, filename=f"crews.{file_format}")

    assert report.ok, [error.text for error in report.errors]
    assert report.counts == {"create": 0, "update": 0, "unchanged": 5, "invalid": 0}


def test_orders_made_in_the_app_round_trip_too() -> None:
    """Jobs not created by an import keep their own references; sites geocoded or not."""
    contract = make_contract(
        contract_id="C-APP-1",
        customer=make_customer(name="株式会社アプリ", phone="+81 3 1111 2222"),
    )
    site = make_site(name="=SUM(A1)ビル")  # text a spreadsheet would run as a formula
    make_job(reference="J-000001", site=site, contract=contract, work_instructions="-")
    make_job(reference="J-NO-CONTRACT")  # not an order: no contract, not exported

    for file_format in ("csv", "xlsx"):
        exported = orders_export(format=file_format)
        report = import_preview(kind="orders", file=exported, filename=f"o.{file_format}")
        assert [(row.key, row.action) for row in report.rows] == [("J-000001", "unchanged")]


def test_export_headers_are_the_import_columns() -> None:
    rows = _csv_rows(orders_export(format="csv"))

    assert rows == [[column.label for column in import_columns(kind="orders")]]


def test_crews_export_in_excel_is_a_real_workbook(skills: list[Skill]) -> None:
    import_apply(kind="crews", file=read("crews.csv"), filename="crews.csv")

    workbook = openpyxl.load_workbook(io.BytesIO(crews_export(format="xlsx")))
    sheet = workbook["crews"]
    rows = list(sheet.iter_rows(values_only=True))

    assert rows[0] == tuple(column.label for column in import_columns(kind="crews"))
    assert rows[1][:4] == ("A通信工業株式会社", "A1", 2, "aerial,fibre_splicing")
    assert rows[2][9] == "Mon,Tue,Sat"


def test_formula_like_text_is_exported_quoted() -> None:
    """Opening an export must never run a formula someone typed into a name."""
    contract = make_contract(contract_id="C-APP-2")
    make_job(site=make_site(name='=HYPERLINK("x")'), contract=contract)

    rows = _csv_rows(orders_export(format="csv"))

    assert rows[1][6] == '\'=HYPERLINK("x")'
    workbook = openpyxl.load_workbook(io.BytesIO(orders_export(format="xlsx")))
    cell = workbook["orders"]["G2"]
    assert (cell.value, cell.data_type) == ('\'=HYPERLINK("x")', "s")


@pytest.mark.parametrize("kind", ["orders", "crews"])
def test_docs_list_every_column_and_every_accepted_name(kind: str) -> None:
    docs = (Path(__file__).resolve().parents[2] / "docs" / "IMPORT.md").read_text()

    for column in import_columns(kind=kind):
        line = (
            f"| `{column.label}` | {', '.join(column.names)} | {'yes' if column.required else ''} |"
        )
        assert line in docs, f"docs/IMPORT.md lacks the line: {line}"
