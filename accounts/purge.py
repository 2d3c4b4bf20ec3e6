"""Deleting API tokens that no longer work, some time after they stopped working.

A revoked or expired token authenticates nobody, but its row still tells the
client "expired" (not "unknown") and shows its owner when it was last used; after
``CREDENTIAL_PURGE_AFTER_DAYS`` that help is stale and the row only grows the
table the authentication lookup reads. Run periodically by Celery beat.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from .models import ApiToken


def tokens_purge(*, now: dt.datetime | None = None, after_days: int | None = None) -> int:
    """Delete tokens revoked or expired more than ``after_days`` ago; returns how many."""
    days = settings.CREDENTIAL_PURGE_AFTER_DAYS if after_days is None else after_days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _by_model = ApiToken.objects.filter(
        Q(revoked_at__lt=cutoff) | Q(expires_at__lt=cutoff)
    ).delete()
    return deleted
