"""Celery tasks of accounts: thin wrappers over services, run by beat (config/settings.py)."""

from __future__ import annotations

from celery import shared_task

from .purge import tokens_purge


@shared_task(name="accounts.purge_expired_tokens", ignore_result=True)
def purge_expired_tokens() -> int:
    """Delete API tokens that stopped working long ago (periodic, Celery beat)."""
    return tokens_purge()
