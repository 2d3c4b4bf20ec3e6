"""POST /api/v1/imports/{kind}/preview/: a dry run over HTTP, coordinators only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import Job
from tests.imports.conftest import read

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.imports.urls")]

URL = "/api/v1/imports/orders/preview/"


def _upload(name: str) -> dict[str, SimpleUploadedFile]:
    return {"file": SimpleUploadedFile(name, read(name))}


def test_it_works(client_for: Callable[[User | None], APIClient], alice: User) -> None:
    response = client_for(alice).post(URL, _upload("orders_utf8.csv"), format="multipart")

    assert response.status_code == 200
    body = response.json()
    assert body["dry_run"] is True and body["ok"] is True and body["applied"] is False
    assert body["counts"] == {"create": 5, "update": 0, "unchanged": 0, "invalid": 0}
    assert body["geocoding_queued"] == 3
    assert body["rows"][0] == {
        "row": 2,
        "key": "IMP-C-2026-0001-new_line",
        "action": "create",
        "changes": [],
        "notes": [],
        "errors": [],
    }
    assert not Job.objects.exists()


def test_row_errors_are_a_successful_preview(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    response = client_for(alice).post(URL, _upload("orders_with_errors.csv"), format="multipart")

    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is False
    assert body["errors"] == [
        {
            "row": 7,
            "column": "due date",
            "message": "'2026/13/01' is not a date (write it as YYYY-MM-DD, e.g. 2026-11-23)",
            "text": "row 7, due date: '2026/13/01' is not a date (write it as YYYY-MM-DD, "
            "e.g. 2026-11-23)",
        }
    ]


def test_an_unreadable_file_is_a_400_in_the_one_error_shape(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    response = client_for(alice).post(
        URL, _upload("orders_missing_columns.csv"), format="multipart"
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "missing_columns"
    assert error["message"].startswith("the header row lacks the required columns 'contract id'")
    assert error["fields"] == {"file": [error["message"]]}
    assert error["report"]["ok"] is False


def test_a_missing_file_field_is_a_400(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    response = client_for(alice).post(URL, {}, format="multipart")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"file": ["No file was submitted."]}


def test_json_instead_of_an_upload_is_a_415(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    response = client_for(alice).post(URL, {"file": "x"}, format="json")

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


def test_an_unknown_kind_is_not_found(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    response = client_for(alice).post(
        "/api/v1/imports/invoices/preview/", _upload("orders_utf8.csv"), format="multipart"
    )

    assert response.status_code == 404


@pytest.mark.parametrize("role", ["sam", "pat"])
def test_support_and_partners_are_refused(
    client_for: Callable[[User | None], APIClient], request: pytest.FixtureRequest, role: str
) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        URL, _upload("orders_utf8.csv"), format="multipart"
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_anonymous_callers_must_log_in(client_for: Callable[[User | None], APIClient]) -> None:
    response = client_for(None).post(URL, _upload("orders_utf8.csv"), format="multipart")

    assert response.status_code == 401
