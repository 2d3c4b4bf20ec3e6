"""Hostile uploads to /api/v1/imports/orders/apply/: every one is a 4xx in the one error
shape, and not a single row of any table is written."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from accounts.models import User
from delivery.imports import MAX_FILE_BYTES
from dispatch.models import Job
from sites.models import Contract, Customer, Site
from tests.imports.conftest import read

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.imports.urls")]

URL = "/api/v1/imports/orders/apply/"


def _table_counts() -> tuple[int, ...]:
    return tuple(model.objects.count() for model in (Customer, Contract, Site, Job))


def _truncated_xlsx() -> bytes:
    data = read("orders.xlsx")
    return data[: len(data) // 2]


def _zip_bomb_lookalike() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"<" * 2_000_000)
    return buffer.getvalue()


def _workbook_with(part: str, prolog: str) -> bytes:
    """The good workbook with ``prolog`` inserted after the XML declaration of one part."""
    source = zipfile.ZipFile(io.BytesIO(read("orders.xlsx")))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == part:
                text = data.decode("utf-8")
                at = text.index("?>") + 2 if text.startswith("<?xml") else 0
                data = (text[:at] + prolog + text[at:]).encode("utf-8")
            archive.writestr(item, data)
    return buffer.getvalue()


LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
)
EXTERNAL = '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


def _sjis_with_a_bad_row() -> bytes:
    """The good Shift_JIS file with one impossible date in its last row."""
    lines = read("orders_sjis.csv").decode("cp932").splitlines()
    lines[-1] = lines[-1].replace("2026/12/03", "2026/13/03", 1)
    assert "2026/13/03" in lines[-1]
    return "\r\n".join(lines).encode("cp932")


HOSTILE = {
    "binary garbage": ("garbage.csv", read("garbage.csv"), "unreadable_file"),
    "missing columns": ("orders.csv", read("orders_missing_columns.csv"), "missing_columns"),
    "truncated workbook": ("orders.xlsx", _truncated_xlsx(), None),
    "a zip that is no workbook": ("orders.xlsx", _zip_bomb_lookalike(), None),
    "shift_jis with a bad row": ("orders.csv", _sjis_with_a_bad_row(), "import_rejected"),
    "NUL bytes": ("orders.csv", b"contract id,\x00\x00\x00\n\x00,\x00", None),
    "over the size limit": (
        "big.csv",
        b"contract id\n" + b"x" * (MAX_FILE_BYTES + 1),
        "file_too_large",
    ),
    "empty": ("orders.csv", b"", None),
    # Entity declarations (billion laughs, external entities) in any part: defusedxml refuses.
    "entities in the sheet": (
        "orders.xlsx",
        _workbook_with("xl/worksheets/sheet1.xml", LAUGHS),
        "unreadable_file",
    ),
    "an external entity in the workbook": (
        "orders.xlsx",
        _workbook_with("xl/workbook.xml", EXTERNAL),
        "unreadable_file",
    ),
    # Malformed XML is a ParseError, which is no ValueError: it once answered 500.
    "a broken DTD in the sheet": (
        "orders.xlsx",
        _workbook_with("xl/worksheets/sheet1.xml", "<!DOCTYPE x [<!ENTITY"),
        "unreadable_file",
    ),
    "a broken DTD in the content types": (
        "orders.xlsx",
        _workbook_with("[Content_Types].xml", "<!DOCTYPE x [<!ENTITY"),
        "unreadable_file",
    ),
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_file_is_refused_clearly_and_writes_nothing(
    name: str, client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    filename, data, code = HOSTILE[name]
    before = _table_counts()
    response = client_for(alice).post(
        URL, {"file": SimpleUploadedFile(filename, data)}, format="multipart"
    )
    assert 400 <= response.status_code < 500, response.content[:300]
    error = response.json()["error"]
    assert error["status"] == response.status_code and error["message"]
    if code is not None:
        assert error["code"] == code
    assert _table_counts() == before


def test_a_shift_jis_file_from_japanese_excel_is_imported_as_written(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    response = client_for(alice).post(
        URL, {"file": SimpleUploadedFile("orders.csv", read("orders_sjis.csv"))}, format="multipart"
    )
    assert response.status_code == 200, response.json()
    expected = read("orders_sjis.csv").decode("cp932")
    assert all(customer.name in expected for customer in Customer.objects.all())
    assert Customer.objects.exists()


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(data=st.binary(max_size=2048), as_xlsx=st.booleans())
def test_random_bytes_never_cause_a_server_error_or_a_write(
    data: bytes, as_xlsx: bool, client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    before = _table_counts()
    name = "orders.xlsx" if as_xlsx else "orders.csv"
    response = client_for(alice).post(
        URL, {"file": SimpleUploadedFile(name, data)}, format="multipart"
    )
    assert response.status_code < 500
    assert _table_counts() == before
