"""Billing set-up (direct debit): pending → requested → ready, with the day it became ready."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from delivery import handover
from sites.models import BillingStatus, ContractStatus

from .conftest import Line

PENDING, REQUESTED, READY = BillingStatus.PENDING, BillingStatus.REQUESTED, BillingStatus.READY


def test_billing_goes_from_pending_through_requested_to_ready_today(line: Line) -> None:
    handover.contract_set_billing(contract=line.contract, status=REQUESTED)
    assert (line.contract.billing_status, line.contract.billing_ready_on) == (REQUESTED, None)
    handover.contract_set_billing(contract=line.contract, status=READY)
    line.contract.refresh_from_db()
    assert (line.contract.billing_status, line.contract.billing_ready_on) == (
        READY,
        timezone.localdate(),
    )


def test_ready_records_the_day_given(line: Line) -> None:
    handover.contract_set_billing(contract=line.contract, status=REQUESTED)
    day = timezone.localdate() - dt.timedelta(days=3)
    contract = handover.contract_set_billing(contract=line.contract, status=READY, on=day)
    assert contract.billing_ready_on == day


def test_a_rejected_request_goes_back_to_pending(line: Line) -> None:
    handover.contract_set_billing(contract=line.contract, status=REQUESTED)
    assert handover.contract_set_billing(contract=line.contract, status=PENDING).billing_status == (
        PENDING
    )


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], READY),  # nobody asked the bank yet
        ([REQUESTED, READY], REQUESTED),  # ready is final here
        ([REQUESTED, READY], PENDING),
    ],
)
def test_billing_cannot_skip_or_undo_steps(line: Line, path: list[str], refused: str) -> None:
    for status in path:
        handover.contract_set_billing(contract=line.contract, status=status)
    before = line.contract.billing_status
    with pytest.raises(handover.BillingTransitionError) as error:
        handover.contract_set_billing(contract=line.contract, status=refused)
    assert error.value.code == "billing_transition"
    labels = BillingStatus(before).label, BillingStatus(refused).label
    assert "cannot go from '{}' to '{}'".format(*labels) in str(error.value)
    line.contract.refresh_from_db()
    assert line.contract.billing_status == before


def test_setting_the_current_status_again_changes_nothing(line: Line) -> None:
    """An API client retrying its request must not get an error or move the ready date."""
    handover.contract_set_billing(contract=line.contract, status=REQUESTED)
    day = timezone.localdate() - dt.timedelta(days=3)
    handover.contract_set_billing(contract=line.contract, status=READY, on=day)
    again = handover.contract_set_billing(contract=line.contract, status=READY)
    assert (again.billing_status, again.billing_ready_on) == (READY, day)


def test_a_cancelled_contracts_billing_is_not_set_up(line: Line) -> None:
    line.contract.status = ContractStatus.CANCELLED
    line.contract.save()
    with pytest.raises(handover.ContractCancelled):
        handover.contract_set_billing(contract=line.contract, status=REQUESTED)


def test_a_date_only_goes_with_ready_and_never_in_the_future(line: Line) -> None:
    with pytest.raises(ValueError, match="only goes with status 'ready'"):
        handover.contract_set_billing(
            contract=line.contract, status=REQUESTED, on=timezone.localdate()
        )
    with pytest.raises(ValueError, match="future"):
        handover.contract_set_billing(
            contract=line.contract, status=READY, on=timezone.localdate() + dt.timedelta(days=1)
        )
