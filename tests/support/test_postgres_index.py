"""On PostgreSQL the substring step is answered by the pg_trgm GIN index, not by a scan."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q

from support.db import TRIGRAM_INDEX_NAME
from support.models import SiteSearchEntry, SiteSearchKey
from tests.support.conftest import Desk

pytestmark = pytest.mark.postgres


def test_the_trigram_extension_and_index_exist(db: None) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() == (1,)
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [TRIGRAM_INDEX_NAME])
        [(definition,)] = cursor.fetchall()
    assert "gin" in definition and "gin_trgm_ops" in definition


def test_a_substring_query_can_use_the_trigram_index(desk: Desk) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned anyway
    plan = SiteSearchEntry.objects.filter(Q(document__contains="ヤマダ")).explain()
    assert TRIGRAM_INDEX_NAME in plan


def test_a_key_prefix_query_can_use_a_pattern_index(desk: Desk) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = SiteSearchKey.objects.filter(value__startswith="KN2024").explain()
    assert "_like" in plan  # Django's varchar_pattern_ops index on value


def test_the_database_ctype_classifies_kanji_as_word_characters(db: None) -> None:
    """pg_trgm needs a UTF-8 LC_CTYPE (C.UTF-8, ja_JP.UTF-8…); under plain C there are none."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT show_trgm('芝浦')")
        (trigrams,) = cursor.fetchone()
    assert trigrams, "the database's LC_CTYPE does not see kanji as letters: see docs/SUPPORT.md"
