"""IP allocation: the lowest free address of the region's pool, once per contract."""

from __future__ import annotations

import ipaddress

import pytest
from django.core.exceptions import ValidationError

from delivery import handover
from sites.models import ContractStatus, IpAssignment, IpPool, Region
from tests.factories import make_contract, make_site

from .conftest import Line


def _addresses(network: str) -> list[str]:
    return [str(a) for a in handover.usable_hosts(ipaddress.ip_network(network))]


def test_the_network_broadcast_and_gateway_addresses_are_never_handed_out() -> None:
    assert _addresses("192.0.2.0/29") == [f"192.0.2.{n}" for n in range(2, 7)]
    assert _addresses("192.0.2.0/30") == ["192.0.2.2"]
    assert _addresses("2001:db8::/126") == ["2001:db8::2", "2001:db8::3"]


def test_allocation_picks_the_lowest_free_address_of_the_pool(line: Line) -> None:
    first = handover.ip_allocate(contract=line.contract)
    second = handover.ip_allocate(contract=line.another_contract())
    assert (first.pool, first.address, second.address) == (line.pool, "192.0.2.2", "192.0.2.3")


def test_allocation_fills_the_gap_a_release_left(line: Line) -> None:
    handover.ip_allocate(contract=line.contract)
    handover.ip_allocate(contract=line.another_contract())
    handover.ip_release(contract=line.contract)
    assert handover.ip_allocate(contract=line.another_contract()).address == "192.0.2.2"


def test_allocation_is_idempotent_per_contract(line: Line) -> None:
    first, created_first = handover.ip_get_or_allocate(contract=line.contract)
    again, created_again = handover.ip_get_or_allocate(contract=line.contract)
    assert (again.pk, again.address, created_first, created_again) == (
        first.pk,
        "192.0.2.2",
        True,
        False,
    )
    assert IpAssignment.objects.count() == 1


def test_an_exhausted_pool_is_a_clear_error_naming_the_pool(line: Line) -> None:
    for _ in range(5):
        handover.ip_allocate(contract=line.another_contract())
    with pytest.raises(handover.IpPoolExhausted) as refused:
        handover.ip_allocate(contract=line.contract)
    assert refused.value.code == "ip_pool_exhausted"
    assert "no free address left in IP pool 'Tokyo bay /29' (192.0.2.0/29)" in str(refused.value)
    assert not IpAssignment.objects.filter(contract=line.contract).exists()


def test_the_pool_is_chosen_by_the_sites_region(line: Line) -> None:
    elsewhere = Region.objects.create(code="osaka", name="Osaka")
    handover.ip_pool_create(name="Osaka /29", network="198.51.100.0/29", region=elsewhere)
    osaka_contract = make_contract()
    osaka_contract.sites.add(make_site(region=elsewhere))
    assert handover.ip_allocate(contract=osaka_contract).address == "198.51.100.2"
    assert handover.ip_allocate(contract=line.contract).address == "192.0.2.2"


def test_when_the_regions_first_pool_is_full_the_next_one_is_used(line: Line) -> None:
    handover.ip_pool_create(name="Tokyo bay /30", network="203.0.113.0/30", region=line.region)
    # Pools are tried by name: "Tokyo bay /29" then "Tokyo bay /30".
    for _ in range(5):
        handover.ip_allocate(contract=line.another_contract())
    assert handover.ip_allocate(contract=line.contract).address == "203.0.113.2"


def test_inactive_pools_are_not_used(line: Line) -> None:
    IpPool.objects.filter(pk=line.pool.pk).update(is_active=False)
    with pytest.raises(handover.NoIpPool, match="no active IP pool serves the region"):
        handover.ip_allocate(contract=line.contract)
    line.pool.refresh_from_db()
    with pytest.raises(handover.NoIpPool, match="is not active"):
        handover.ip_allocate(contract=line.contract, pool=line.pool)


def test_an_explicit_pool_overrides_the_region(line: Line) -> None:
    other = handover.ip_pool_create(name="Spare", network="2001:db8:1::/64")
    assignment = handover.ip_allocate(contract=line.contract, pool=other)
    assert (assignment.pool, assignment.address) == (other, "2001:db8:1::2")


def test_a_cancelled_contract_gets_no_address(line: Line) -> None:
    line.contract.status = ContractStatus.CANCELLED
    line.contract.save()
    with pytest.raises(handover.ContractCancelled):
        handover.ip_allocate(contract=line.contract)


def test_release_frees_the_address_and_is_idempotent(line: Line) -> None:
    handover.ip_allocate(contract=line.contract)
    assert handover.ip_release(contract=line.contract) == "192.0.2.2"
    assert handover.ip_release(contract=line.contract) is None
    assert not IpAssignment.objects.exists()


def test_an_open_lines_address_is_not_released(line: Line) -> None:
    """Customers are on it: the contract must be cancelled first."""
    handover.ip_allocate(contract=line.contract)
    line.contract.status = ContractStatus.ACTIVE
    line.contract.save()
    with pytest.raises(handover.IpInUse):
        handover.ip_release(contract=line.contract)
    line.contract.status = ContractStatus.CANCELLED
    line.contract.save()
    assert handover.ip_release(contract=line.contract) == "192.0.2.2"


def test_losing_an_address_to_another_allocation_retries_with_the_next_one(line: Line) -> None:
    """A legacy pool overlapping ours already gave .2 away: the insert fails, .3 is taken."""
    legacy = IpPool.objects.create(name="Legacy", network="192.0.2.0/28")
    IpAssignment.objects.create(pool=legacy, address="192.0.2.2", contract=make_contract())
    assert handover.ip_allocate(contract=line.contract).address == "192.0.2.3"


def test_losing_every_retry_fails_cleanly_and_assigns_nothing(line: Line) -> None:
    legacy = IpPool.objects.create(name="Legacy", network="192.0.2.0/28")
    for n in range(2, 7):
        IpAssignment.objects.create(pool=legacy, address=f"192.0.2.{n}", contract=make_contract())
    with pytest.raises(handover.IpAllocationContended) as refused:
        handover.ip_allocate(contract=line.contract)
    assert refused.value.code == "ip_allocation_contended"
    assert not IpAssignment.objects.filter(contract=line.contract).exists()


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ("192.0.2.0/33", "not a network in CIDR notation"),
        ("192.0.2.1/29", "not a network in CIDR notation"),
        ("pool", "not a network in CIDR notation"),
        ("192.0.2.8/32", "leaves no address once the gateway is reserved"),
        ("192.0.2.0/28", "overlaps pool 'Tokyo bay /29' (192.0.2.0/29)"),
        ("192.0.2.4/30", "overlaps pool 'Tokyo bay /29' (192.0.2.0/29)"),
    ],
)
def test_a_pool_must_be_a_usable_network_overlapping_no_other(
    line: Line, network: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        handover.ip_pool_create(name="New", network=network)
    assert message in refused.value.message_dict["network"][0]
    assert IpPool.objects.count() == 1
