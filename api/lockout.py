"""What a locked-out sign-in gets back (django-axes' ``AXES_LOCKOUT_CALLABLE``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

from .errors import error_body

MESSAGE = (
    "too many failed sign-ins for this username from this address; try again in {minutes} minutes"
)


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: Any
) -> HttpResponse:
    minutes = round(settings.AXES_COOLOFF_TIME * 60)
    message = MESSAGE.format(minutes=minutes)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse(error_body(429, "locked_out", message), status=429)
    else:
        response = HttpResponse(message, status=429, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = str(minutes * 60)
    return response
