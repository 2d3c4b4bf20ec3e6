"""Issuing, checking and revoking API tokens. The secret is returned once and never stored."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.utils import timezone

from .models import ApiToken, User

PREFIX_LENGTH = 8
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the secret (show it once)."""
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=key[:PREFIX_LENGTH], key_hash=_hash(key)
    )
    return token, key


def token_authenticate(key: str) -> ApiToken | None:
    """The active token with this secret, or None. Revocation takes effect on the next request."""
    token = (
        ApiToken.objects.select_related("user", "user__partner_company")
        .filter(key_hash=_hash(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is not None:
        # Minute resolution is plenty for "when was this token last used" and
        # saves a write on nearly every request of a busy crew app.
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
