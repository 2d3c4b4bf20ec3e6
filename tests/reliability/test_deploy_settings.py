"""Production settings: `check --deploy` is clean, secrets come only from the environment,
and no debug page ever reaches a client."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.urls import path

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "kN3v9-q2Zr8xWm4tLp7sYb1cHd6fJg0aEu5iOw2yTq9rVx3zMn8kBj4hGf7dSa1P",
    "ALLOWED_HOSTS": "dispatch.example.jp",
    "CSRF_TRUSTED_ORIGINS": "https://dispatch.example.jp",
}


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    keep = {
        k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "SESSION_", "CSRF_"))
    }
    keep.pop("DJANGO_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**keep, "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings() -> None:
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_no_date_field_has_a_fixed_default() -> None:
    """What Django's fields.W161 is for, kept although the check is silenced for times of day.

    A ``default=date(...)`` or ``datetime(...)`` is evaluated once, when the
    module loads: every row would get the day the server started.
    """
    import datetime as dt

    from django.apps import apps
    from django.db import models

    fixed = [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.DateField)  # DateTimeField is a DateField
        and field.has_default()
        and isinstance(field.default, dt.date)
    ]
    assert fixed == []


def test_production_refuses_to_start_without_a_secret_key_from_the_environment() -> None:
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_defaults_are_the_secure_ones() -> None:
    script = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
        "s.SECURE_HSTS_SECONDS >= 31536000, s.SECURE_HSTS_INCLUDE_SUBDOMAINS, "
        "s.SESSION_COOKIE_HTTPONLY, s.X_FRAME_OPTIONS, 'corsheaders' in str(s.MIDDLEWARE))"
    )
    result = _manage("shell", "--no-imports", "-c", script, **PRODUCTION_ENV)
    assert result.stdout.split() == ["True"] * 6 + ["DENY", "False"], result.stderr


def test_development_keeps_plain_http_working() -> None:
    """`make run` serves http://127.0.0.1:8000 with DEBUG=1: no redirect, no secure-only cookies."""
    script = (
        "from django.conf import settings as s; "
        "print(s.SESSION_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS)"
    )
    result = _manage("shell", "--no-imports", "-c", script, DEBUG="1", SECRET_KEY="")
    assert result.stdout.split() == ["False", "False", "0"], result.stderr


def _boom(request: object) -> None:
    raise RuntimeError("secret internals: password=hunter2")


urlpatterns = [
    path("api/v1/boom/", _boom),
    path("boom/", _boom),
]
handler500 = "api.errors.json_500"  # the real handlers (config/urls.py) next to a failing view
handler404 = "api.errors.json_404"


@override_settings(ROOT_URLCONF=__name__, DEBUG=False)
@pytest.mark.parametrize("url", ["/api/v1/boom/", "/boom/"])
def test_a_server_error_shows_no_traceback(url: str) -> None:
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code == 500
    body = response.content.decode()
    assert "hunter2" not in body and "Traceback" not in body and "RuntimeError" not in body
    if url.startswith("/api/"):
        assert response.json()["error"]["code"] == "server_error"


@override_settings(DEBUG=False)
@pytest.mark.parametrize("url", ["/api/v1/no-such-thing/", "/no-such-page/"])
def test_an_unknown_url_is_a_plain_404(url: str, db: None) -> None:
    response = Client().get(url)
    assert response.status_code in (302, 404)  # web pages may send anonymous users to sign in
    body = response.content.decode()
    assert "URLconf" not in body and "Traceback" not in body
    if url.startswith("/api/"):
        assert response.json()["error"] == {
            "status": 404,
            "code": "not_found",
            "message": "no such resource",
        }


def test_the_api_sends_no_cors_headers_so_browsers_keep_it_same_origin(db: None) -> None:
    response = Client().options(
        "/api/v1/health/",
        HTTP_ORIGIN="https://evil.example",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="GET",
    )
    assert "Access-Control-Allow-Origin" not in response.headers
    response = Client().get("/api/v1/health/", HTTP_ORIGIN="https://evil.example")
    assert "Access-Control-Allow-Origin" not in response.headers


def test_responses_carry_the_security_headers(db: None) -> None:
    response = Client().get("/api/v1/health/", secure=True)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]
