"""One line on its way to opening: a building in Tokyo bay, its contract, the new-line job
(completed), the construction record the crew left, and a /29 pool for the region.

A /29 is small on purpose: 192.0.2.0 is the network, .1 the gateway, .7 the
broadcast, so exactly five addresses (.2 to .6) can be handed out.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from delivery import handover
from dispatch.models import Job
from dispatch.states import JobStatus
from sites.models import BillingStatus, ConstructionRecord, Contract, IpPool, Region, Site
from tests.api.conftest import (  # noqa: F401 - the API tests' cast and clients, reused here
    _fresh_throttle_counters,
    cast,
    client_for,
)
from tests.factories import make_contract, make_job, make_site


@dataclass
class Line:
    region: Region
    site: Site
    contract: Contract
    job: Job
    record: ConstructionRecord
    pool: IpPool

    def another_contract(self) -> Contract:
        """A second customer's contract for another building in the same region."""
        contract = make_contract()
        contract.sites.add(make_site(region=self.region))
        return contract

    def make_ready(self) -> None:
        """Everything the handover needs besides the completed job: an address, billing ready."""
        handover.ip_allocate(contract=self.contract)
        handover.contract_set_billing(contract=self.contract, status=BillingStatus.REQUESTED)
        handover.contract_set_billing(contract=self.contract, status=BillingStatus.READY)
        self.contract.refresh_from_db()


@pytest.fixture
def line(db: None) -> Line:
    region = Region.objects.create(code="tokyo-bay", name="Tokyo bay")
    site = make_site(region=region, name="芝浦ベイビル")
    contract = make_contract(contract_id="C-2026-000777")
    contract.sites.add(site)
    job = make_job(site=site, contract=contract, status=JobStatus.COMPLETED, reference="J-000777")
    record = ConstructionRecord.objects.create(
        site=site, job=job, media_converter_location="3F EPS, rack 2", port="ONU port 1"
    )
    pool = handover.ip_pool_create(name="Tokyo bay /29", network="192.0.2.0/29", region=region)
    return Line(region=region, site=site, contract=contract, job=job, record=record, pool=pool)
