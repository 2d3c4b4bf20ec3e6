"""Periodic work: beat's schedule names every task with its interval, and each task works.

The tasks are called as functions (what the worker does with a message); that beat
sends them on time is celery's job, not re-tested here.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.conf import settings
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from accounts.models import ApiToken
from accounts.tasks import purge_expired_tokens
from accounts.tokens import token_create
from config.celery import app
from dispatch.calendar_feeds import calendar_feed_create, calendar_feed_revoke
from dispatch.models import CalendarFeed, OptimizationRun, RunStatus
from dispatch.periodic import purge_revoked_calendar_feeds
from dispatch.tasks import sweep_stale_runs
from support.models import Call
from support.tasks import refresh_recurring_issues
from tests.factories import make_crew, make_plan, make_site, make_user

pytestmark = pytest.mark.django_db

DAY = 24 * 3600.0


def test_the_beat_schedule_has_each_periodic_task_with_its_interval() -> None:
    schedule = {
        entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }

    assert {
        "webhooks.sweep": 60.0,
        "dispatch.sweep_stale_runs": 15.0,
        "accounts.purge_expired_tokens": DAY / 4,
        "dispatch.purge_revoked_calendar_feeds": DAY / 4,
        "support.refresh_recurring_issues": 3600.0,
    }.items() <= schedule.items()
    assert app.conf.beat_schedule == settings.CELERY_BEAT_SCHEDULE


def test_every_scheduled_task_is_registered_with_the_worker() -> None:
    app.loader.import_default_modules()  # what a worker does at start (CELERY_IMPORTS too)

    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        assert entry["task"] in app.tasks


def test_the_sweep_fails_a_run_whose_worker_went_silent() -> None:
    run = OptimizationRun.objects.create(plan=make_plan(), status=RunStatus.RUNNING)
    silent_since = timezone.now() - dt.timedelta(seconds=settings.RUN_STALE_AFTER_SECONDS + 60)
    OptimizationRun.objects.filter(pk=run.pk).update(heartbeat_at=silent_since)

    assert sweep_stale_runs() == 1

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED


def test_the_token_purge_deletes_only_tokens_dead_for_longer_than_the_retention() -> None:
    user = make_user()
    long_ago = timezone.now() - dt.timedelta(days=settings.CREDENTIAL_PURGE_AFTER_DAYS + 1)
    lately = timezone.now() - dt.timedelta(days=1)
    token_create(user=user, name="live")
    expired_long_ago, _ = token_create(user=user, name="expired long ago")
    revoked_long_ago, _ = token_create(user=user, name="revoked long ago")
    expired_lately, _ = token_create(user=user, name="expired lately")
    ApiToken.objects.filter(pk=expired_long_ago.pk).update(expires_at=long_ago)
    ApiToken.objects.filter(pk=revoked_long_ago.pk).update(revoked_at=long_ago)
    ApiToken.objects.filter(pk=expired_lately.pk).update(expires_at=lately)

    assert purge_expired_tokens() == 2

    assert set(ApiToken.objects.values_list("name", flat=True)) == {"live", "expired lately"}


def test_the_feed_purge_deletes_only_feeds_revoked_longer_ago_than_the_retention() -> None:
    crew = make_crew()
    live, _ = calendar_feed_create(crew=crew)
    old, _ = calendar_feed_create(crew=crew)
    recent, _ = calendar_feed_create(crew=crew)
    calendar_feed_revoke(feed=old)
    calendar_feed_revoke(feed=recent)
    long_ago = timezone.now() - dt.timedelta(days=settings.CREDENTIAL_PURGE_AFTER_DAYS + 1)
    CalendarFeed.objects.filter(pk=old.pk).update(revoked_at=long_ago)

    assert purge_revoked_calendar_feeds() == 1

    assert set(CalendarFeed.objects.values_list("pk", flat=True)) == {live.pk, recent.pk}


def test_the_recurring_refresh_logs_the_sites_that_keep_calling(
    caplog: pytest.LogCaptureFixture,
) -> None:
    operator = make_user(role="support")
    again_and_again, once = make_site(), make_site()
    for site, times in ((again_and_again, 3), (once, 1)):
        for _ in range(times):
            Call.objects.create(
                site=site, operator=operator, category="no_connection", description="不通"
            )

    with caplog.at_level(logging.INFO, logger="support.tasks"):
        assert refresh_recurring_issues() == 1

    assert f"1 sites with >= 3 calls in 30 days; most: site {again_and_again.pk} (3)" in caplog.text
    assert again_and_again.name not in caplog.text  # ids only: names are customers' data


def test_the_database_scheduler_takes_the_schedule_from_the_settings() -> None:
    """CELERY_BEAT_SCHEDULER=...DatabaseScheduler: the same entries, editable in the admin.

    What the scheduler does with the settings at start (``update_from_dict``), without
    starting it: it closes the database connection, which the test database needs.
    """
    intervals = {
        name: entry
        for name, entry in settings.CELERY_BEAT_SCHEDULE.items()
        if isinstance(entry["schedule"], int | float)
    }
    for name, entry in intervals.items():
        DatabaseScheduler.Entry.from_entry(name, app=app, **entry)

    stored = {
        task.name: (task.task, task.interval.every if task.interval else None, task.enabled)
        for task in PeriodicTask.objects.filter(name__in=intervals)
    }
    assert stored == {
        name: (entry["task"], int(entry["schedule"]), True) for name, entry in intervals.items()
    }
    assert {"sweep-stale-runs", "purge-expired-api-tokens", "refresh-recurring-issues"} <= set(
        stored
    )
