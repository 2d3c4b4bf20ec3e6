"""The cache as an optimisation only: a failure to read or write it is logged, never raised.

Cached answers here are keyed by change counters (:mod:`stamps.counters`),
so losing the cache costs time, never correctness: with Redis down, every
answer is built as if nothing were cached.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache

logger = logging.getLogger(__name__)

T = TypeVar("T")


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


def cached(key: str, seconds: int, build: Callable[[], T]) -> tuple[T, bool]:
    """``(value, True)`` from the cache, else ``(build(), False)`` kept for ``seconds``.

    ``seconds`` 0 builds every time and keeps nothing. ``key`` must name
    everything the value depends on, change counters included (read before).
    """
    if seconds > 0:
        hit = cache_read(key)
        if hit is not None:
            return hit, True
    value = build()
    if seconds > 0:
        cache_keep(key, value, seconds)
    return value, False
