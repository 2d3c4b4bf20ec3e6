"""Celery tasks of the support desk, run by beat (config/settings.py).

The recurring-issues page (:mod:`support.recurring`) is computed live from one
aggregate query, so there is no stored copy to rebuild. What beat refreshes is the
operators' view of it: each run logs the default view (sites with at least
``DEFAULT_MIN_CALLS`` calls in ``DEFAULT_DAYS`` days), so a log-based alert sees a
place that starts calling again and again without anyone opening the page.
"""

from __future__ import annotations

import logging

from celery import shared_task

from .recurring import DEFAULT_DAYS, DEFAULT_MIN_CALLS
from .selectors import Grouping, recurring_issues

logger = logging.getLogger(__name__)

#: Places named in the log line; the page has the rest.
LOGGED_PLACES = 5


@shared_task(name="support.refresh_recurring_issues", ignore_result=True)
def refresh_recurring_issues() -> int:
    """Log the sites that keep calling; returns how many there are."""
    issues = recurring_issues(days=DEFAULT_DAYS, min_calls=DEFAULT_MIN_CALLS, group=Grouping.SITE)
    logger.info(
        "recurring issues: %d sites with >= %d calls in %d days; most: %s",
        len(issues),
        DEFAULT_MIN_CALLS,
        DEFAULT_DAYS,
        # Site ids, not names: a site's name is often its customer's, and logs are shipped.
        ", ".join(f"site {issue.key} ({issue.call_count})" for issue in issues[:LOGGED_PLACES])
        or "none",
    )
    return len(issues)
