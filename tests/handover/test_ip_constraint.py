"""The database itself refuses a second assignment of one address, even to another contract.

The allocation service relies on it when two allocations race (see
``delivery.handover.ip_get_or_allocate``); these tests prove the constraint holds
on SQLite and, with real threads and connections, on PostgreSQL.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import IntegrityError, connections, transaction

from delivery import handover
from sites.models import Contract, IpAssignment, IpPool

from .conftest import Line

Outcome = handover.IpAssignment | Exception


def test_a_second_assignment_of_the_same_address_is_refused(line: Line) -> None:
    IpAssignment.objects.create(pool=line.pool, address="192.0.2.2", contract=line.contract)
    with pytest.raises(IntegrityError), transaction.atomic():
        IpAssignment.objects.create(
            pool=line.pool, address="192.0.2.2", contract=line.another_contract()
        )
    assert IpAssignment.objects.count() == 1


def _allocate_at_once(contracts: list[Contract], pool: IpPool | None = None) -> list[Outcome]:
    """Allocate for every contract in its own thread (own connection), all released together."""
    start = threading.Barrier(len(contracts), timeout=10)
    outcomes: list[Outcome | None] = [None] * len(contracts)

    def allocate(index: int, contract: Contract) -> None:
        try:
            start.wait()
            outcomes[index] = handover.ip_allocate(contract=contract, pool=pool)
        except Exception as exc:  # the test inspects every outcome, errors included
            outcomes[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=allocate, args=(i, c)) for i, c in enumerate(contracts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(outcome is not None for outcome in outcomes), "a thread did not finish"
    return [outcome for outcome in outcomes if outcome is not None]


def _both_pick_the_same_address_first(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Hold each thread's first pick until both have picked, so both pick the same address."""
    picks: list[str] = []
    both_picked = threading.Barrier(2, timeout=10)
    lowest_free: Callable[..., handover.IpAddress | None] = handover._lowest_free
    seen = threading.local()

    def racing_lowest_free(
        pool: IpPool, skip: set[handover.IpAddress]
    ) -> handover.IpAddress | None:
        address = lowest_free(pool, skip)
        picks.append(str(address))
        if not getattr(seen, "picked", False):
            seen.picked = True
            both_picked.wait()
        return address

    monkeypatch.setattr(handover, "_lowest_free", racing_lowest_free)
    return picks


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_allocations_racing_for_one_address_both_get_distinct_addresses(
    line: Line, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both pick .2; the database lets one commit, the loser retries and takes .3."""
    picks = _both_pick_the_same_address_first(monkeypatch)
    outcomes = _allocate_at_once([line.contract, line.another_contract()])
    assert all(isinstance(o, IpAssignment) for o in outcomes), outcomes
    assert sorted(IpAssignment.objects.values_list("address", flat=True)) == [
        "192.0.2.2",
        "192.0.2.3",
    ]
    assert picks == ["192.0.2.2", "192.0.2.2", "192.0.2.3"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_for_the_last_address_one_wins_and_the_other_fails_cleanly(
    line: Line, monkeypatch: pytest.MonkeyPatch
) -> None:
    last = handover.ip_pool_create(name="Last one", network="203.0.113.0/30")
    _both_pick_the_same_address_first(monkeypatch)
    first, second = line.another_contract(), line.another_contract()
    outcomes = [
        o for o in _allocate_at_once([first, second], pool=last) if not isinstance(o, IpAssignment)
    ]
    assert [type(o) for o in outcomes] == [handover.IpPoolExhausted]
    assert list(IpAssignment.objects.values_list("address", flat=True)) == ["203.0.113.2"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_concurrent_allocations_never_share_an_address(line: Line) -> None:
    handover.ip_pool_create(name="Tokyo bay /28", network="203.0.113.0/28", region=line.region)
    contracts = [line.another_contract() for _ in range(8)]
    outcomes = _allocate_at_once(contracts)
    addresses = [o.address for o in outcomes if isinstance(o, IpAssignment)]
    errors = [o for o in outcomes if not isinstance(o, IpAssignment)]
    assert all(isinstance(e, handover.IpAllocationContended) for e in errors), errors
    assert len(addresses) == len(set(addresses)) == IpAssignment.objects.count()
    assert len(addresses) + len(errors) == 8
