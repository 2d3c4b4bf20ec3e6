"""Change counters: read in one query, bumped only once the write they follow has committed."""

from __future__ import annotations

import pytest
from django.db import transaction

from stamps.counters import bump_on_commit, counters_bump, counters_read
from stamps.models import ChangeCounter


@pytest.mark.django_db
def test_a_counter_never_bumped_reads_zero() -> None:
    assert counters_read(["never", "nor-this"]) == (0, 0)


@pytest.mark.django_db
def test_a_bump_creates_then_increments_each_name_once() -> None:
    counters_bump(["a", "b", "a"])
    counters_bump(["a"])

    assert counters_read(["a", "b", "c"]) == (2, 1, 0)


@pytest.mark.django_db
def test_a_first_bump_racing_another_still_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our UPDATE found no row; another process created it before our INSERT."""
    ChangeCounter.objects.create(name="raced", value=1)  # the other process's first bump
    real_filter = ChangeCounter.objects.filter
    missed: list[bool] = []

    class NoRowYet:
        def update(self, **fields: object) -> int:
            return 0

    def filter_missing_once(**lookups: object) -> object:
        if not missed:
            missed.append(True)
            return NoRowYet()
        return real_filter(**lookups)

    monkeypatch.setattr(ChangeCounter.objects, "filter", filter_missing_once)
    counters_bump(["raced"])

    assert missed == [True]
    assert counters_read(["raced"]) == (2,)


@pytest.mark.django_db(transaction=True)
def test_inside_a_transaction_the_bump_waits_for_the_commit() -> None:
    with transaction.atomic():
        bump_on_commit(["routes"])
        assert counters_read(["routes"]) == (0,)

    assert counters_read(["routes"]) == (1,)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_bumps_nothing() -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        bump_on_commit(["routes"])
        raise RuntimeError("the write failed")

    assert counters_read(["routes"]) == (0,)
    # The names wait for the next commit: one needless bump, never a missing one.
    bump_on_commit(["site-search"])
    assert counters_read(["routes", "site-search"]) == (1, 1)


@pytest.mark.django_db(transaction=True)
def test_many_writes_in_one_transaction_bump_each_counter_once() -> None:
    with transaction.atomic():
        for _ in range(10):
            bump_on_commit(["routes", "routes:2026-12-07"])
        bump_on_commit(["site-search"])

    assert counters_read(["routes", "routes:2026-12-07", "site-search"]) == (1, 1, 1)


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_bump_is_immediate() -> None:
    bump_on_commit(["routes", "site-search"])

    assert counters_read(["routes", "site-search"]) == (1, 1)


@pytest.mark.django_db
def test_a_total_sums_the_counters_under_a_prefix_and_only_those() -> None:
    counters_bump(["routes:2026-12-07:c1", "routes:2026-12-07:c2", "routes:2026-12-08:c1"])
    counters_bump(["routes:2026-12-07:c2", "routes_2026-12-07:c9", "routes"])

    assert counters_read(["routes"], total_of="routes:2026-12-07:c") == (1, 3)
    assert counters_read([], total_of="routes:2026-12-09:c") == (0,)
    # "_" in a prefix is a character, not LIKE's any-character.
    assert counters_read([], total_of="routes_2026") == (1,)
