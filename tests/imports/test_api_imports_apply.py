"""POST /api/v1/imports/{kind}/apply/: every row or none, coordinators only."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import User
from delivery.imports import MAX_FILE_BYTES
from dispatch.models import Crew, Job, Skill
from tests.imports.conftest import read

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.imports.urls")]

URL = "/api/v1/imports/orders/apply/"


def _upload(name: str, data: bytes | None = None) -> dict[str, SimpleUploadedFile]:
    return {"file": SimpleUploadedFile(name, read(name) if data is None else data)}


def test_it_works(client_for: Callable[[User | None], APIClient], alice: User) -> None:
    response = client_for(alice).post(URL, _upload("orders.xlsx"), format="multipart")

    assert response.status_code == 200
    body = response.json()
    assert body["applied"] is True and body["dry_run"] is False
    assert body["counts"]["create"] == 2
    assert body["geocoding_queued"] == 1
    assert body["summary"] == "Imported 2 rows: 2 created, 0 updated, 0 unchanged."
    assert Job.objects.count() == 2


def test_crews_too(
    client_for: Callable[[User | None], APIClient], alice: User, skills: list[Skill]
) -> None:
    response = client_for(alice).post(
        "/api/v1/imports/crews/apply/", _upload("crews.csv"), format="multipart"
    )

    assert response.status_code == 200
    assert Crew.objects.count() == 3


def test_a_file_with_one_bad_row_answers_400_with_the_report_and_writes_nothing(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    response = client_for(alice).post(URL, _upload("orders_with_errors.csv"), format="multipart")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["status"] == 400
    assert error["code"] == "import_rejected"
    assert error["message"] == "1 of 6 rows have errors, so nothing was imported."
    assert error["fields"] == {
        "file": [
            "row 7, due date: '2026/13/01' is not a date (write it as YYYY-MM-DD, e.g. 2026-11-23)"
        ]
    }
    assert error["report"]["applied"] is False
    assert error["report"]["counts"]["invalid"] == 1
    assert not Job.objects.exists()


def test_a_garbage_file_answers_400_saying_why(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    response = client_for(alice).post(URL, _upload("garbage.csv"), format="multipart")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "unreadable_file"
    assert "cannot be read as text" in error["message"]


def test_a_file_over_5_mb_answers_413(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    data = b"contract id\n" + b"x" * (MAX_FILE_BYTES + 1)

    response = client_for(alice).post(URL, _upload("big.csv", data), format="multipart")

    assert response.status_code == 413
    assert response.json()["error"]["code"] == "file_too_large"


def test_importing_twice_creates_nothing_the_second_time(
    client_for: Callable[[User | None], APIClient], alice: User
) -> None:
    client = client_for(alice)
    client.post(URL, _upload("orders_utf8.csv"), format="multipart")

    response = client.post(URL, _upload("orders_utf8.csv"), format="multipart")

    assert response.json()["counts"] == {"create": 0, "update": 0, "unchanged": 5, "invalid": 0}
    assert Job.objects.count() == 5


@pytest.mark.parametrize("role", ["sam", "pat"])
def test_support_and_partners_are_refused(
    client_for: Callable[[User | None], APIClient], request: pytest.FixtureRequest, role: str
) -> None:
    response = client_for(request.getfixturevalue(role)).post(
        URL, _upload("orders_utf8.csv"), format="multipart"
    )

    assert response.status_code == 403
    assert not Job.objects.exists()


def test_anonymous_callers_must_log_in(client_for: Callable[[User | None], APIClient]) -> None:
    response = client_for(None).post(URL, _upload("orders_utf8.csv"), format="multipart")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
