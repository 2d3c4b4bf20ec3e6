"""The cache as an optimisation only: a failure to read or write it is logged, never raised.

Cached answers here are keyed by change counters (:mod:`stamps.counters`),
so losing the cache costs time, never correctness: with Redis down, every
answer is built as if nothing were cached.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache

logger = logging.getLogger(__name__)


def cache_read(key: str) -> Any:
    """The value under ``key``, or None when missing or when the cache cannot be read."""
    try:
        return cache.get(key)
    except Exception:  # any failure of the cache's server: build the answer instead
        logger.warning("cache unreachable on read", exc_info=True)
        return None


def cache_keep(key: str, value: Any, seconds: int) -> None:
    """Store ``value`` for ``seconds``; a failure only costs the next reader a build."""
    try:
        cache.set(key, value, seconds)
    except Exception:
        logger.warning("cache unreachable on write", exc_info=True)
