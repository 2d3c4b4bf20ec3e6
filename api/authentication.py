"""Token authentication for partners' machine clients (``Authorization: Bearer <token>``).

An unknown or revoked token answers 401 ``authentication_failed``; an expired
one 401 ``token_expired``, so a client knows to have its token rotated.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from accounts.tokens import TokenExpired, token_authenticate


class ExpiredToken(exceptions.AuthenticationFailed):
    """A 401 of its own code (still ``AuthenticationFailed``, so DRF adds ``WWW-Authenticate``)."""

    default_code = "token_expired"


class BearerTokenAuthentication(authentication.BaseAuthentication):
    keywords = ("bearer", "token")

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower().decode() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                "the Authorization header must be 'Bearer <token>'"
            )
        try:
            token = token_authenticate(header[1].decode(errors="replace"))
        except TokenExpired as exc:
            raise ExpiredToken(
                f"the token expired at {exc.token.expires_at.isoformat()}; its owner can "
                f"rotate it (POST /api/v1/auth/tokens/{exc.token.pk}/rotate/, signed in) "
                "or create a new one"
            ) from exc
        if token is None:
            raise exceptions.AuthenticationFailed("unknown or revoked token")
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """Documents the token scheme in the OpenAPI schema."""

    target_class = "api.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An API token (auth/tokens/)."}
