"""The support desk's normalisers: they live in :mod:`sites.normalize`.

Kept as a re-export so the indexer, the search and their tests read as they
did; the import and the order page use the same functions from ``sites``.
"""

from __future__ import annotations

from sites.normalize import (
    kana_reading,
    looks_like_id,
    looks_like_phone,
    nfkc,
    normalize_address,
    normalize_id,
    normalize_kana,
    normalize_name_key,
    normalize_phone,
    normalize_text,
    query_tokens,
)

__all__ = [
    "kana_reading",
    "looks_like_id",
    "looks_like_phone",
    "nfkc",
    "normalize_address",
    "normalize_id",
    "normalize_kana",
    "normalize_name_key",
    "normalize_phone",
    "normalize_text",
    "query_tokens",
]
