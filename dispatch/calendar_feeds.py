"""Calendar feeds: a crew's subscription URL, whose secret is its only credential.

Calendar apps subscribe to a URL and cannot send an ``Authorization`` header,
so the URL itself is the credential: a random secret of which only the
SHA-256 is stored (a leaked database leaks no working feed). Revoking sets
``revoked_at`` and the feed is not found from then on. The iCalendar itself
is rendered by the API (``api/partner/ical.py``), in the language the URL
names (``?lang=ja``; the URL handed out names its creator's language).
"""

from __future__ import annotations

import hashlib
import secrets

from django.utils import timezone

from accounts.models import User

from .models import CalendarFeed, Crew


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_feed_create(*, crew: Crew, by: User | None = None) -> tuple[CalendarFeed, str]:
    """A new feed for ``crew``; returns the row and the secret token (show it once)."""
    token = secrets.token_urlsafe(32)
    feed = CalendarFeed.objects.create(crew=crew, token_hash=_hash(token), created_by=by)
    return feed, token


def calendar_feed_revoke(*, feed: CalendarFeed) -> CalendarFeed:
    """Revoke at once; revoking twice keeps the first revocation time."""
    CalendarFeed.objects.filter(pk=feed.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    feed.refresh_from_db(fields=["revoked_at"])
    return feed


def feed_crew_for_token(token: str) -> Crew | None:
    """The crew of the active feed with this secret, or None (unknown or revoked)."""
    feed = (
        CalendarFeed.objects.select_related("crew__company")
        .filter(token_hash=_hash(token), revoked_at__isnull=True)
        .first()
    )
    return feed.crew if feed is not None else None
