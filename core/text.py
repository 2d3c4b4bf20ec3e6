"""Small helpers for messages people read, in the active language."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import pgettext


def join_list(items: Iterable[object]) -> str:
    """``items`` as one list in a sentence: "a, b, c" in English, "a、b、c" in Japanese."""
    return pgettext("list separator", ", ").join(str(item) for item in items)
