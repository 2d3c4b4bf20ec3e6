"""The order page's blockers are sentences for people: in Japanese when the user chose it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import translation

from accounts.models import Role
from delivery.orders import order_status
from dispatch.states import JobStatus
from sites.models import Permission, PermissionStatus
from tests.factories import make_contract, make_job, make_site, make_survey, make_user

pytestmark = pytest.mark.django_db


def _refused_by_the_owner():
    contract = make_contract()
    site = make_site(name="丸の内テストビル")
    contract.sites.add(site)
    job = make_job(site=site, contract=contract, status=JobStatus.AWAITING_PERMISSION)
    make_survey(site, needed_parties=["owner"], surveyed_on=dt.date(2026, 1, 5))
    Permission.objects.create(
        site=site,
        party="owner",
        requested_on=dt.date(2026, 1, 6),
        status=PermissionStatus.REFUSED,
        decided_on=dt.date(2026, 1, 9),
    )
    return contract, job


def test_the_order_page_shows_a_blocker_in_japanese() -> None:
    contract, _ = _refused_by_the_owner()
    client = Client()
    client.force_login(make_user(Role.COORDINATOR))
    client.post("/i18n/setlang/", {"language": "ja", "next": "/orders/"})

    page = client.get("/orders/").content.decode()

    assert contract.contract_id in page
    assert "建物オーナー：許可が得られませんでした" in page
    assert "Building owner: permission refused" not in page


def test_the_same_blocker_in_english_by_default() -> None:
    _refused_by_the_owner()
    client = Client()
    client.force_login(make_user(Role.COORDINATOR))

    assert "Building owner: permission refused" in client.get("/orders/").content.decode()


@pytest.mark.parametrize(
    ("status", "english", "japanese"),
    [
        (JobStatus.READY, "ready, waiting for a plan", "着工可能、計画待ち"),
        (
            JobStatus.SURVEYED,
            "gates clear: mark the job ready to plan",
            "条件はそろっています：案件を「着工可能」にしてください",
        ),
    ],
)
def test_each_stage_s_sentence_is_translated(status: str, english: str, japanese: str) -> None:
    contract = make_contract()
    site = make_site()
    contract.sites.add(site)
    make_job(site=site, contract=contract, status=status)

    assert order_status(contract).blocker == english
    with translation.override("ja"):
        assert order_status(contract).blocker == japanese
