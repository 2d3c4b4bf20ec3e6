"""Issuing, checking, rotating and revoking API tokens. The secret is shown once, never stored.

Every token expires (``API_TOKEN_LIFETIME_DAYS``, or sooner if its owner asks);
an owner rotates a token before then to get a new secret with a fresh expiry.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import secrets
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from stamps.counters import bump_on_commit, counters_read

from .models import ApiToken, User

PREFIX_LENGTH = 8
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)


class TokenExpired(Exception):
    """The secret matches a live token whose ``expires_at`` has passed."""

    def __init__(self, token: ApiToken) -> None:
        super().__init__(
            _("token %(prefix)s… expired at %(expires)s")
            % {"prefix": token.prefix, "expires": token.expires_at.isoformat()}
        )
        self.token = token


class TokenRevoked(Exception):
    """A revoked token cannot be rotated: that would bring its access back."""


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def token_lifetime_days() -> int:
    """The longest a token may live, in days (``API_TOKEN_LIFETIME_DAYS``)."""
    return int(settings.API_TOKEN_LIFETIME_DAYS)


def token_create(
    *, user: User, name: str, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """A new token for ``user``; returns the row and the secret (show it once).

    It expires after ``expires_in_days`` (1 to the lifetime), by default after
    the full ``API_TOKEN_LIFETIME_DAYS``.
    """
    lifetime = token_lifetime_days()
    days = lifetime if expires_in_days is None else expires_in_days
    if not 1 <= days <= lifetime:
        raise ValueError(f"expires_in_days must be between 1 and {lifetime}, got {days}")
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=key[:PREFIX_LENGTH],
        key_hash=_hash(key),
        expires_at=timezone.now() + dt.timedelta(days=days),
    )
    return token, key


#: The change counter of what token authentication reads: tokens and their users.
CREDENTIALS_COUNTER = "credentials"
#: Tokens checked recently in this process (a partner's app polls its routes all day).
_RECENT_MAX = 10_000


@dataclass(frozen=True)
class _Checked:
    token: ApiToken
    stamp: int
    until: float


_recent: dict[str, _Checked] = {}


def credentials_changed() -> None:
    """Say, once the transaction commits, that a token or a user changed (see ``signals``)."""
    bump_on_commit([CREDENTIALS_COUNTER])


def forget_checked_tokens() -> None:
    """Empty this process's memory of checked tokens (tests; nothing else needs it)."""
    _recent.clear()


def _lookup(key_hash: str) -> ApiToken | None:
    return (
        ApiToken.objects.select_related("user", "user__partner_company")
        .filter(key_hash=key_hash, revoked_at__isnull=True, user__is_active=True)
        .first()
    )


def _checked(key_hash: str) -> ApiToken | None:
    """The token row and its user, from this process's memory while nothing changed.

    Looking a token up (three tables joined, built through the ORM) was the
    largest part of a cached route's request. A token seen recently is kept
    here with the ``credentials`` change counter it was read under; every
    write to a token or a user bumps that counter once it commits
    (:mod:`accounts.signals`), so a revoked token, a deactivated user or a
    changed role is looked up afresh on the very next request, as before.
    ``API_TOKEN_CACHE_SECONDS`` bounds how long an entry lives (0: off).
    Each request gets its own copies, so nothing one request sets on its
    user leaks into the next.
    """
    seconds = settings.API_TOKEN_CACHE_SECONDS
    if seconds <= 0:
        return _lookup(key_hash)
    (stamp,) = counters_read([CREDENTIALS_COUNTER])
    now = time.monotonic()
    seen = _recent.get(key_hash)
    if seen is None or seen.stamp != stamp or seen.until < now:
        token = _lookup(key_hash)
        if token is None:
            _recent.pop(key_hash, None)
            return None
        if len(_recent) >= _RECENT_MAX:
            _recent.clear()
        seen = _recent[key_hash] = _Checked(token=token, stamp=stamp, until=now + seconds)
    token = copy.copy(seen.token)
    token.user = copy.copy(seen.token.user)
    return token


def token_authenticate(key: str) -> ApiToken | None:
    """The active token with this secret, or None if unknown or revoked.

    Raises ``TokenExpired`` for a token past its expiry, so the client can be
    told to rotate rather than guess. Revocation takes effect on the next request.
    """
    key_hash = _hash(key)
    token = _checked(key_hash)
    if token is None:
        return None
    now = timezone.now()
    if token.expires_at <= now:
        raise TokenExpired(token)
    # Minute resolution is plenty for "when was this token last used" and
    # saves a write on nearly every request of a busy crew app.
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
        seen = _recent.get(key_hash)
        if seen is not None:
            seen.token.last_used_at = now
    return token


def token_rotate(*, token: ApiToken, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Replace ``token`` by a new one of the same name and owner; returns the new row and secret.

    The old token is revoked at once, with no grace period: a rotation is also
    what an owner does after a suspected leak, and the new secret is in the
    same answer, so a client swaps secrets in one step. An expired token can be
    rotated (that is the way out of expiry); a revoked one cannot
    (``TokenRevoked``). The new token lives ``expires_in_days`` (default: the
    full lifetime) from now.
    """
    with transaction.atomic():
        # The row lock makes two concurrent rotations of one token wait for each
        # other, so the second sees it revoked instead of issuing a second successor.
        old = ApiToken.objects.select_for_update().get(pk=token.pk)
        if old.revoked_at is not None:
            raise TokenRevoked(
                _("token %(prefix)s… is revoked; create a new one") % {"prefix": old.prefix}
            )
        new, key = token_create(user=old.user, name=old.name, expires_in_days=expires_in_days)
        old.revoked_at = timezone.now()
        old.save(update_fields=["revoked_at"])
    token.revoked_at = old.revoked_at
    return new, key


def token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token
