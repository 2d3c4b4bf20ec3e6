"""JSON log lines: their shape, the access line's fields, and no personal data in them."""

from __future__ import annotations

import logging

import pytest
import structlog
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Role
from observability.logs import REDACTED, logging_config
from tests.factories import make_user

from .conftest import Lines

REQUIRED = {"timestamp", "level", "logger", "event", "request_id"}

CUSTOMER = {
    "name": "山田太郎商店",
    "name_kana": "ヤマダタロウショウテン",
    "contact_person": "山田太郎",
    "phone": "03-1234-5678",
    "email": "taro.yamada@example.jp",
}


def test_tests_run_with_json_lines_like_production() -> None:
    from django.conf import settings

    assert settings.LOG_FORMAT == "json"
    assert settings.LOGGING["root"]["handlers"] == ["console"]


def test_console_format_is_available_for_developers() -> None:
    config = logging_config(json_format=False, level="DEBUG")
    assert config["root"]["level"] == "DEBUG"
    formatter_config = dict(config["formatters"]["structured"])
    formatter = formatter_config.pop("()")(**formatter_config)
    record = logging.LogRecord("dispatch.runs", logging.INFO, __file__, 1, "run %s", (7,), None)
    text = formatter.format(record)
    assert "run 7" in text and "dispatch.runs" in text
    assert not text.startswith("{")


def test_stdlib_and_structlog_lines_have_the_same_shape(log_lines: Lines) -> None:
    logging.getLogger("dispatch.runs").warning("run %s failed", 42)
    structlog.get_logger("observability.test").info("thing happened", run_id=42)
    lines = log_lines()
    assert len(lines) == 2
    for line in lines:
        assert line.keys() >= REQUIRED
        assert line["request_id"] is None  # outside any request or task
    assert lines[0]["event"] == "run 42 failed"
    assert (lines[0]["level"], lines[0]["logger"]) == ("warning", "dispatch.runs")
    assert lines[1]["run_id"] == 42
    assert lines[0]["timestamp"].endswith("Z")


def test_exceptions_are_one_line_with_the_traceback_as_a_field(log_lines: Lines) -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("dispatch.runs").exception("run failed")
    (line,) = log_lines()
    assert "ValueError: boom" in line["exception"]


def test_personal_fields_are_redacted(log_lines: Lines) -> None:
    structlog.get_logger("x").info("lookup", customer_id=7, phone="03-1234-5678", email="a@b.jp")
    (line,) = log_lines()
    assert line["customer_id"] == 7
    assert line["phone"] == line["email"] == REDACTED


@pytest.mark.django_db
def test_a_request_about_a_customer_logs_ids_only(log_lines: Lines) -> None:
    coordinator = make_user(Role.COORDINATOR)
    client = APIClient()
    client.force_authenticate(user=coordinator)
    created = client.post("/api/v1/customers/", CUSTOMER, format="json")
    assert created.status_code == 201, created.content
    customer_id = created.json()["id"]
    assert client.get(f"/api/v1/customers/{customer_id}/").status_code == 200
    assert client.get("/api/v1/customers/", {"search": CUSTOMER["phone"]}).status_code == 200
    refused = client.post("/api/v1/customers/", {**CUSTOMER, "email": "not-an-email"})
    assert refused.status_code == 400
    client.get("/api/v1/customers/999999/")  # 404: Django logs "Not Found: <path>"

    lines = log_lines()
    access = [line for line in lines if line["logger"] == "observability.request"]
    assert len(access) == 5
    for line in lines:
        assert line.keys() >= REQUIRED
        for value in CUSTOMER.values():
            assert value not in str(line)
    for line in access:
        assert {"method", "path", "status", "duration_ms", "user_id"} <= line.keys()
        assert line["user_id"] == coordinator.pk
        assert "?" not in line["path"]
    assert [line["status"] for line in access] == [201, 200, 200, 400, 404]
    assert access[1]["path"] == f"/api/v1/customers/{customer_id}/"
    assert len({line["request_id"] for line in access}) == 5


@pytest.mark.django_db
def test_every_line_of_a_request_carries_its_id(log_lines: Lines) -> None:
    response = Client().get("/no/such/page/", HTTP_X_REQUEST_ID="proxy-id-12345678")
    assert response.status_code == 404
    lines = log_lines()
    assert {line["logger"] for line in lines} >= {"observability.request", "django.request"}
    assert {line["request_id"] for line in lines} == {"proxy-id-12345678"}
    (access,) = [line for line in lines if line["logger"] == "observability.request"]
    assert (access["status"], access["user_id"]) == (404, None)
    # Once the response is closed, the thread's lines belong to no request again.
    logging.getLogger("after").warning("later")
    assert log_lines()[-1]["request_id"] is None
