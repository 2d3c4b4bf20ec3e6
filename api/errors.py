"""One error shape for the whole API.

Every error answers::

    {"error": {"status": 409, "code": "plan_busy", "message": "...", "fields": {...}}}

``fields`` maps each offending input field to its messages (400s); a broken
planning rule adds ``rule`` and ``violations`` (409s). Clients switch on
``code``, people read ``message``.

Every refusal of the domain is a :class:`core.errors.DomainError` and is rendered
by one branch from what it carries (status, code, field, details); only
framework and database exceptions are mapped here one by one.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError, InterfaceError, OperationalError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import page_not_found, server_error
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError

logger = logging.getLogger(__name__)


class ApiError(exceptions.APIException):
    """An error with an explicit status, code and optional extra members."""

    def __init__(
        self,
        status_code: int,
        code: str,
        message: str,
        *,
        fields: dict[str, list[str]] | None = None,
        **extra: Any,
    ) -> None:
        self.status_code = status_code
        self.code = code
        self.message = message
        self.fields = fields or {}
        self.extra = extra
        super().__init__(detail=message, code=code)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"field.sub": [messages]}``."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "non_field_errors" if key == "non_field_errors" and not prefix else key
            out.update(_flatten(value, f"{prefix}.{name}" if prefix else str(name)))
        return out
    if isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            return {prefix or "non_field_errors": [str(item) for item in detail]}
        out = {}
        for index, item in enumerate(detail):
            out.update(_flatten(item, f"{prefix}[{index}]"))
        return out
    return {prefix or "non_field_errors": [str(detail)]}


def error_body(status_code: int, code: str, message: str, **members: Any) -> dict[str, Any]:
    return {"error": {"status": status_code, "code": code, "message": message, **members}}


def _as_api_error(exc: Exception) -> ApiError | None:
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, DomainError):
        # Every refusal of the domain, whatever its class: the class states its
        # status and code, ``details`` become extra members (``rule``, ``blockers``...).
        fields = {exc.field: [str(exc)]} if exc.field else None
        return ApiError(exc.status, exc.code, str(exc), fields=fields, **exc.details)
    if isinstance(exc, OverflowError | DataError):
        # A number in the query string too large for the database's integers
        # (SQLite raises OverflowError, PostgreSQL a DataError): the caller's input.
        return ApiError(400, "invalid", _("a value in the request is out of range"))
    if isinstance(exc, OperationalError | InterfaceError):
        # The database is unreachable or restarting: retryable, and Django opens a
        # fresh connection on the next request (docs/RELIABILITY.md, "PostgreSQL restart").
        # The cause goes to the log: the caller's 503 says nothing about it.
        logger.warning("database error answered with 503: %r", exc)
        return ApiError(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "database_unavailable",
            _("the database is unavailable for a moment; try again shortly"),
        )
    if isinstance(exc, RequestDataTooBig):
        return ApiError(413, "payload_too_large", _("the request body is too large"))
    if isinstance(exc, DjangoValidationError):
        fields = (
            {k: [str(m) for m in v] for k, v in exc.message_dict.items()}
            if hasattr(exc, "error_dict")
            else {"non_field_errors": [str(m) for m in exc.messages]}
        )
        return ApiError(400, "invalid", _("the request is not valid"), fields=fields)
    if isinstance(exc, ProtectedError | RestrictedError):
        return ApiError(
            status.HTTP_409_CONFLICT,
            "in_use",
            _("other records still refer to this one; remove or reassign them first"),
        )
    if isinstance(exc, IntegrityError):
        # The database caught an invariant the serializers did not: still the
        # caller's input, and nothing was written (the request's transaction
        # rolled back).
        return ApiError(
            status.HTTP_409_CONFLICT,
            "constraint_violated",
            _("rejected by the database: %(reason)s") % {"reason": exc},
        )
    return None


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler with every error rewritten into the one shape."""
    mapped = _as_api_error(exc)
    if mapped is not None:
        body = error_body(mapped.status_code, mapped.code, mapped.message, **mapped.extra)
        if mapped.fields:
            body["error"]["fields"] = mapped.fields
        return Response(body, status=mapped.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = getattr(exc, "default_code", "error")
    if isinstance(exc, exceptions.ValidationError):
        body = error_body(
            response.status_code,
            "invalid",
            _("the request is not valid"),
            fields=_flatten(exc.detail),
        )
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        message = str(detail.get("detail", detail)) if isinstance(detail, dict) else str(detail)
        body = error_body(response.status_code, str(code), message)
    response.data = body
    return response


def json_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Unknown URLs under /api/ answer in the API's error shape; pages keep Django's."""
    if not request.path.startswith("/api/"):
        return page_not_found(request, exception or Http404())
    return JsonResponse(error_body(404, "not_found", _("no such resource")), status=404)


def json_500(request: HttpRequest) -> HttpResponse:
    if not request.path.startswith("/api/"):
        return server_error(request)
    # Called inside Django's ``except`` block: a database outage met by a middleware
    # (sessions, axes) rather than the view is the same 503 as in a view.
    error = sys.exc_info()[1]
    if isinstance(error, OperationalError | InterfaceError):
        mapped = _as_api_error(error)
        if mapped is not None:
            body = error_body(mapped.status_code, mapped.code, mapped.message)
            return JsonResponse(body, status=mapped.status_code)
    return JsonResponse(
        error_body(500, "server_error", _("internal error; it was logged")), status=500
    )
