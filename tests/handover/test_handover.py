"""Handover (line opening): only when construction, IP and billing are all done; then
the jobs are handed over, the contract is active and the as-built is archived for support.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from delivery import handover
from dispatch.models import JobStatusChange
from dispatch.states import JobKind, JobStatus
from sites.models import BillingStatus, ConstructionRecord, Contract, ContractStatus
from tests.factories import make_job, make_user

from .conftest import Line

NOT_COMPLETED = "construction not completed (job J-000777 is scheduled)"
NO_IP = "no IP address assigned"
BILLING_PENDING = "billing is pending, not ready"
BILLING_REQUESTED = "billing is requested, not ready"


def _schedule_job(line: Line) -> None:
    line.job.status = JobStatus.SCHEDULED
    line.job.save()


def _release_ip(line: Line) -> None:
    handover.ip_release(contract=line.contract)


def _billing_back_to_requested(line: Line) -> None:
    Contract.objects.filter(pk=line.contract.pk).update(
        billing_status=BillingStatus.REQUESTED, billing_ready_on=None
    )


def _blockers(line: Line) -> list[str]:
    return handover.handover_blockers(contract=Contract.objects.get(pk=line.contract.pk))


def test_a_line_with_everything_done_has_no_blockers(line: Line) -> None:
    line.make_ready()
    assert _blockers(line) == []


def test_a_fresh_contract_lists_every_missing_condition(line: Line) -> None:
    _schedule_job(line)
    assert _blockers(line) == [NOT_COMPLETED, NO_IP, BILLING_PENDING]


@pytest.mark.parametrize(
    ("undo", "blocker"),
    [
        (_schedule_job, NOT_COMPLETED),
        (_release_ip, NO_IP),
        (_billing_back_to_requested, BILLING_REQUESTED),
    ],
)
def test_each_missing_condition_alone_blocks_the_handover(
    line: Line, undo: Callable[[Line], None], blocker: str
) -> None:
    line.make_ready()
    undo(line)
    assert _blockers(line) == [blocker]
    with pytest.raises(handover.HandoverBlocked) as refused:
        handover.contract_hand_over(contract=line.contract)
    assert refused.value.code == "handover_blocked"
    assert refused.value.details == {"blockers": [blocker]}
    assert blocker in str(refused.value)


def test_a_refusal_names_every_missing_condition_and_changes_nothing(line: Line) -> None:
    _schedule_job(line)
    handover.contract_set_billing(contract=line.contract, status=BillingStatus.REQUESTED)
    with pytest.raises(handover.HandoverBlocked) as refused:
        handover.contract_hand_over(contract=line.contract)
    assert refused.value.details["blockers"] == [NOT_COMPLETED, NO_IP, BILLING_REQUESTED]
    assert str(refused.value) == (
        f"contract C-2026-000777 cannot be handed over: "
        f"{NOT_COMPLETED}; {NO_IP}; {BILLING_REQUESTED}"
    )
    line.job.refresh_from_db()
    line.record.refresh_from_db()
    line.contract.refresh_from_db()
    assert (line.job.status, line.contract.status, line.record.archived_at) == (
        JobStatus.SCHEDULED,
        ContractStatus.SIGNED,
        None,
    )


def test_every_unfinished_installation_job_is_named_in_plain_words(line: Line) -> None:
    line.make_ready()
    for reference, kind, status in [
        ("J-000778", JobKind.RELOCATION, JobStatus.IN_PROGRESS),
        ("J-000779", JobKind.PLAN_CHANGE, JobStatus.INCOMPLETE),
        ("J-000780", JobKind.MAINTENANCE, JobStatus.READY),  # visits open lines: no gate
        ("J-000781", JobKind.NEW_LINE, JobStatus.CANCELLED),  # dropped: no gate
    ]:
        make_job(
            site=line.site, contract=line.contract, reference=reference, kind=kind, status=status
        )
    assert _blockers(line) == [
        "construction not completed (job J-000778 is in progress)",
        "construction not completed (job J-000779 is not finished)",
    ]


def test_a_contract_without_construction_cannot_be_handed_over(line: Line) -> None:
    contract = line.another_contract()
    assert handover.handover_blockers(contract=contract) == [
        "construction not ordered (no installation job for this contract)",
        NO_IP,
        BILLING_PENDING,
    ]


def test_a_cancelled_contract_cannot_be_handed_over(line: Line) -> None:
    line.make_ready()
    Contract.objects.filter(pk=line.contract.pk).update(status=ContractStatus.CANCELLED)
    assert _blockers(line) == ["contract is cancelled"]


def test_handover_opens_the_line_and_archives_the_as_built_for_support(line: Line) -> None:
    line.make_ready()
    older = ConstructionRecord.objects.create(
        site=line.site,
        job=line.job,
        media_converter_location="draft: 2F",
        recorded_at=line.record.recorded_at - dt.timedelta(days=1),
    )
    alice = make_user(username="alice")
    before = timezone.now()

    contract = handover.contract_hand_over(contract=line.contract, by=alice)

    assert contract.status == ContractStatus.ACTIVE
    assert contract.handed_over_at is not None and contract.handed_over_at >= before
    line.job.refresh_from_db()
    assert line.job.status == JobStatus.HANDED_OVER
    step = JobStatusChange.objects.get(job=line.job)
    assert (step.from_status, step.to_status, step.changed_by) == (
        JobStatus.COMPLETED,
        JobStatus.HANDED_OVER,
        alice,
    )
    line.record.refresh_from_db()
    older.refresh_from_db()
    assert (line.record.archived_at, older.archived_at) == (contract.handed_over_at, None)


def test_after_handover_there_is_nothing_left_to_hand_over(line: Line) -> None:
    line.make_ready()
    handover.contract_hand_over(contract=line.contract)
    with pytest.raises(handover.HandoverBlocked) as refused:
        handover.contract_hand_over(contract=line.contract)
    assert refused.value.details["blockers"] == [
        "nothing to hand over: no installation job is open"
    ]


def test_a_relocation_of_an_open_line_is_handed_over_like_the_first_line(line: Line) -> None:
    line.make_ready()
    first = handover.contract_hand_over(contract=line.contract).handed_over_at
    relocation = make_job(
        site=line.site, contract=line.contract, kind=JobKind.RELOCATION, status=JobStatus.COMPLETED
    )
    contract = handover.contract_hand_over(contract=line.contract)
    relocation.refresh_from_db()
    assert relocation.status == JobStatus.HANDED_OVER
    assert first is not None and contract.handed_over_at is not None
    assert contract.handed_over_at >= first


def test_blockers_cost_no_query_when_the_caller_prefetched(
    line: Line, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """The order status view asks for every open order at once: no query per row."""
    contracts = list(Contract.objects.select_related("ip_assignment").prefetch_related("jobs"))
    with django_assert_num_queries(0):
        assert [handover.handover_blockers(contract=c) for c in contracts] == [
            [NO_IP, BILLING_PENDING]
        ]
