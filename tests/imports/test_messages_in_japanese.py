"""An import's report is read by a coordinator: in Japanese when the request asks for it."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import User
from delivery.imports import import_preview
from tests.imports.conftest import read

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.imports.urls")]

URL = "/api/v1/imports/orders/preview/"
JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}


def _upload(name: str) -> dict[str, SimpleUploadedFile]:
    return {"file": SimpleUploadedFile(name, read(name))}


def test_a_preview_with_a_bad_row_explains_it_in_japanese(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    response = client_for(alice).post(
        URL, _upload("orders_with_errors.csv"), format="multipart", **JA
    )

    assert response.status_code == 200
    body = response.json()
    assert body["errors"] == [
        {
            "row": 7,
            "column": "due date",
            "message": "「2026/13/01」は日付ではありません"
            "（YYYY-MM-DD の形式で入力してください。例：2026-11-23）",
            "text": "7 行目・納期：「2026/13/01」は日付ではありません"
            "（YYYY-MM-DD の形式で入力してください。例：2026-11-23）",
        }
    ]
    assert body["summary"] == "6 行中 1 行にエラーがあるため、何も取り込まれません。"


def test_an_unreadable_file_is_refused_in_japanese(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    response = client_for(alice).post(
        URL, _upload("orders_missing_columns.csv"), format="multipart", **JA
    )

    assert response.status_code == 400
    message = response.json()["error"]["message"]
    assert message.startswith("見出し行に必須の列 'contract id' (契約ID)")


def test_the_summary_counts_rows_in_the_active_language(alice: User) -> None:
    with translation.override("ja"):
        report = import_preview(kind="orders", file=read("orders_utf8.csv"), filename="o.csv")

        assert report.summary == ("5 行を取り込めます：新規 5 件、更新 0 件、変更なし 0 件。")
    assert report.summary == "Ready to import 5 rows: 5 to create, 0 to update, 0 unchanged."
