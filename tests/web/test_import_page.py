"""The Import page: a coordinator checks a spreadsheet, reads the report, then imports it."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.models import Role
from dispatch.models import Job
from sites.models import Site
from tests.factories import make_user

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parents[1] / "imports" / "files"


def _upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (FILES / name).read_bytes(), content_type="text/csv")


@pytest.fixture
def coordinator() -> Client:
    client = Client()
    client.force_login(make_user(Role.COORDINATOR))
    return client


def test_the_page_offers_the_form_and_the_exports(coordinator: Client) -> None:
    page = coordinator.get("/imports/").content.decode()
    assert 'name="file"' in page and 'value="preview"' in page
    assert "/api/v1/exports/orders.csv?encoding=cp932" in page
    # Import stays disabled until a check said every row is fine.
    assert 'id="import-apply" disabled' in page


def test_check_shows_what_would_happen_and_writes_nothing(coordinator: Client) -> None:
    response = coordinator.post(
        "/imports/", {"kind": "orders", "action": "preview", "file": _upload("orders_utf8.csv")}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Ready to import" in page
    assert 'id="import-apply" disabled' not in page
    assert not Job.objects.exists() and not Site.objects.exists()


def test_import_writes_every_row(coordinator: Client) -> None:
    response = coordinator.post(
        "/imports/", {"kind": "orders", "action": "apply", "file": _upload("orders_utf8.csv")}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Imported" in page
    assert Job.objects.count() == page.count('class="import-create"') > 0


def test_rows_with_errors_come_first_and_nothing_is_written(coordinator: Client) -> None:
    response = coordinator.post(
        "/imports/",
        {"kind": "orders", "action": "apply", "file": _upload("orders_with_errors.csv")},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert 'class="import-invalid"' in page
    assert page.index('class="import-invalid"') < page.find('class="import-create"') or (
        'class="import-create"' not in page
    )
    assert not Job.objects.exists()


def test_the_report_speaks_japanese(coordinator: Client) -> None:
    coordinator.post("/i18n/setlang/", {"language": "ja", "next": "/imports/"})
    page = coordinator.post(
        "/imports/", {"kind": "orders", "action": "preview", "file": _upload("orders_utf8.csv")}
    ).content.decode()
    assert "取り込み結果" in page or "確認結果" in page
    assert "取り込む" in page and "新規" in page


def test_a_missing_file_is_named(coordinator: Client) -> None:
    response = coordinator.post("/imports/", {"kind": "orders", "action": "preview"})
    assert response.status_code == 400
    assert 'id="id_file-error"' in response.content.decode()


def test_only_coordinators_import() -> None:
    client = Client()
    client.force_login(make_user(Role.SUPPORT))
    assert client.get("/imports/").status_code == 403
    assert Client().get("/imports/").url.startswith("/login/")
