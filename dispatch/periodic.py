"""Periodic housekeeping of dispatch data, run by Celery beat (config/settings.py).

Kept apart from :mod:`dispatch.tasks` (the work users queue) and imported by the
worker through ``CELERY_IMPORTS``. Calendar feeds never expire on their own (a
calendar app polls the same URL for years); a revoked feed's row is only kept
for ``CREDENTIAL_PURGE_AFTER_DAYS`` so a coordinator can still see it was revoked.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import CalendarFeed


def calendar_feeds_purge(*, now: dt.datetime | None = None, after_days: int | None = None) -> int:
    """Delete feeds revoked more than ``after_days`` ago; returns how many."""
    days = settings.CREDENTIAL_PURGE_AFTER_DAYS if after_days is None else after_days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    deleted, _by_model = CalendarFeed.objects.filter(revoked_at__lt=cutoff).delete()
    return deleted


@shared_task(name="dispatch.purge_revoked_calendar_feeds", ignore_result=True)
def purge_revoked_calendar_feeds() -> int:
    """Delete calendar feeds revoked long ago (periodic, Celery beat)."""
    return calendar_feeds_purge()
