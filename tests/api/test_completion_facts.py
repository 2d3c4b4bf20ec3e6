"""Completion facts: the crew records them on 'done', delivery confirms them into the as-built.

POST /api/v1/jobs/{id}/reports/ with ``facts``; GET /api/v1/completion-facts/,
POST /api/v1/completion-facts/{id}/confirm/ and /reject/; the support card.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client as PageClient
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from delivery.handover import contract_hand_over, handover_blockers
from dispatch.models import CompletionFacts, FactsStatus, JobReport
from dispatch.states import JobStatus
from sites.models import BillingStatus, ConstructionRecord, IpAssignment, IpPool
from tests.api.conftest import Cast
from tests.factories import make_contract

Client = Callable[[User | None], APIClient]

#: A serial typed on a phone: full-width letters and digits, lower case, spaces around.
TYPED_SERIAL = " \uff4d\uff43-\uff11\uff12ab "
FACTS = {"mc_serial": TYPED_SERIAL, "port": "P-3", "light_level_dbm": "-18.5", "note": "3F EPS"}


def url(job_id: int) -> str:
    return f"/api/v1/jobs/{job_id}/reports/"


def post(client: APIClient, job_id: int, body: dict[str, Any], key: str) -> Any:
    return client.post(url(job_id), body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def done_with_facts(cast: Cast, client_for: Client, facts: dict[str, Any] | None = None) -> Any:
    client = client_for(cast.partner_a)
    assert post(client, cast.job_a.pk, {"kind": "started"}, "k-start").status_code == 201
    return post(client, cast.job_a.pk, {"kind": "completed", "facts": facts or FACTS}, "k-done")


def as_built(cast: Cast, **values: Any) -> ConstructionRecord:
    return ConstructionRecord.objects.create(
        site=cast.job_a.site,
        job=cast.job_a,
        media_converter_location="1F MDF",
        port="P-1",
        notes="first notes",
        **values,
    )


# --- the crew proposes ---------------------------------------------------------------------


def test_facts_on_done_are_stored_normalised_as_a_proposal(cast: Cast, client_for: Client) -> None:
    response = done_with_facts(cast, client_for)

    assert response.status_code == 201, response.content
    facts = CompletionFacts.objects.get()
    assert (facts.mc_serial, facts.port, facts.light_level_dbm, facts.note) == (
        "MC-12AB",
        "P-3",
        Decimal("-18.5"),
        "3F EPS",
    )
    assert facts.status == FactsStatus.PROPOSED
    assert (facts.job, facts.site, facts.crew, facts.company) == (
        cast.job_a,
        cast.job_a.site,
        cast.crew_a,
        cast.company_a,
    )
    assert facts.report == JobReport.objects.get(kind="completed")
    body = response.json()["facts"]
    assert (body["mc_serial"], body["light_level_dbm"], body["status"]) == (
        "MC-12AB",
        "-18.5",
        "proposed",
    )


def test_a_done_report_without_facts_stores_none(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    post(client, cast.job_a.pk, {"kind": "started"}, "k-start")

    response = post(client, cast.job_a.pk, {"kind": "completed", "facts": {}}, "k-done")

    assert response.status_code == 201
    assert response.json()["facts"] is None
    assert not CompletionFacts.objects.exists()


@pytest.mark.parametrize("kind", ["en_route", "arrived", "started"])
def test_facts_on_another_kind_are_refused_naming_facts(
    cast: Cast, client_for: Client, kind: str
) -> None:
    response = post(client_for(cast.partner_a), cast.job_a.pk, {"kind": kind, "facts": FACTS}, "k")

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["facts"]
    assert not JobReport.objects.exists()


@pytest.mark.parametrize(
    ("facts", "field"),
    [
        ({"light_level_dbm": "-40.1"}, "light_level_dbm"),
        ({"light_level_dbm": "5.1"}, "light_level_dbm"),
        ({"light_level_dbm": "-12.34"}, "light_level_dbm"),
        ({"light_level_dbm": "bright"}, "light_level_dbm"),
        ({"mc_serial": "X" * 65}, "mc_serial"),
        ({"port": "P" * 65}, "port"),
        ({"note": "n" * 1001}, "note"),
    ],
)
def test_bad_facts_answer_400_naming_the_field(
    cast: Cast, client_for: Client, facts: dict[str, Any], field: str
) -> None:
    response = done_with_facts(cast, client_for, facts)

    assert response.status_code == 400
    fields = response.json()["error"]["fields"]
    assert list(fields) == [f"facts.{field}"]
    assert not CompletionFacts.objects.exists()
    assert not JobReport.objects.filter(kind="completed").exists()


def test_the_range_ends_are_accepted(cast: Cast, client_for: Client) -> None:
    response = done_with_facts(cast, client_for, {"light_level_dbm": -40})

    assert response.status_code == 201
    assert CompletionFacts.objects.get().light_level_dbm == Decimal("-40.0")


def test_a_retry_with_the_same_facts_answers_the_original(cast: Cast, client_for: Client) -> None:
    first = done_with_facts(cast, client_for)
    client = client_for(cast.partner_a)

    again = post(client, cast.job_a.pk, {"kind": "completed", "facts": FACTS}, "k-done")

    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert CompletionFacts.objects.count() == 1


def test_the_same_key_with_other_facts_is_a_conflict(cast: Cast, client_for: Client) -> None:
    done_with_facts(cast, client_for)
    client = client_for(cast.partner_a)

    other = post(
        client, cast.job_a.pk, {"kind": "completed", "facts": {**FACTS, "port": "P-4"}}, "k-done"
    )
    without = post(client, cast.job_a.pk, {"kind": "completed"}, "k-done")

    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert without.status_code == 409
    assert CompletionFacts.objects.get().port == "P-3"


def test_partners_see_their_facts_on_their_report_and_no_one_elses(
    cast: Cast, client_for: Client
) -> None:
    done_with_facts(cast, client_for)

    own = client_for(cast.partner_a).get(url(cast.job_a.pk))
    other = client_for(cast.partner_b).get(url(cast.job_a.pk))
    listing = client_for(cast.partner_a).get("/api/v1/completion-facts/")

    (completed,) = [r for r in own.json()["results"] if r["kind"] == "completed"]
    assert completed["facts"]["mc_serial"] == "MC-12AB"
    assert other.status_code == 404
    assert listing.status_code == 403


# --- delivery decides ------------------------------------------------------------------------


def test_confirming_writes_a_new_as_built_version_and_keeps_the_old_one(
    cast: Cast, client_for: Client
) -> None:
    first = as_built(cast)
    done_with_facts(cast, client_for)
    facts = CompletionFacts.objects.get()

    response = client_for(cast.coordinator).post(f"/api/v1/completion-facts/{facts.pk}/confirm/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["facts"]["status"] == "confirmed"
    assert body["facts"]["decided_by"] == cast.coordinator.pk
    new = ConstructionRecord.objects.get(pk=body["record"]["id"])
    assert (new.media_converter_location, new.port, new.media_converter_serial) == (
        "1F MDF",
        "P-3",
        "MC-12AB",
    )
    assert new.light_level_dbm == Decimal("-18.5")
    assert new.notes == "first notes\n3F EPS"
    first.refresh_from_db()
    assert (first.port, first.notes, first.media_converter_serial) == ("P-1", "first notes", "")
    facts.refresh_from_db()
    assert facts.record == new


def test_confirming_without_an_as_built_record_is_a_conflict(
    cast: Cast, client_for: Client
) -> None:
    done_with_facts(cast, client_for)
    facts = CompletionFacts.objects.get()

    response = client_for(cast.coordinator).post(f"/api/v1/completion-facts/{facts.pk}/confirm/")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_construction_record"
    facts.refresh_from_db()
    assert facts.status == FactsStatus.PROPOSED


def test_rejecting_needs_a_reason_and_leaves_the_record_alone(
    cast: Cast, client_for: Client
) -> None:
    as_built(cast)
    done_with_facts(cast, client_for)
    facts = CompletionFacts.objects.get()
    client = client_for(cast.coordinator)

    blank = client.post(f"/api/v1/completion-facts/{facts.pk}/reject/", {}, format="json")
    response = client.post(
        f"/api/v1/completion-facts/{facts.pk}/reject/",
        {"reason": "serial belongs to the neighbour's unit"},
        format="json",
    )

    assert blank.status_code == 400
    assert list(blank.json()["error"]["fields"]) == ["reason"]
    assert response.status_code == 200
    assert response.json()["record"] is None
    facts.refresh_from_db()
    assert (facts.status, facts.decision_reason) == (
        FactsStatus.REJECTED,
        "serial belongs to the neighbour's unit",
    )
    assert ConstructionRecord.objects.count() == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [("confirm", "confirm"), ("confirm", "reject"), ("reject", "confirm"), ("reject", "reject")],
)
def test_a_second_decision_is_a_conflict(
    cast: Cast, client_for: Client, first: str, second: str
) -> None:
    as_built(cast)
    done_with_facts(cast, client_for)
    facts = CompletionFacts.objects.get()
    client = client_for(cast.coordinator)
    body = {"reason": "wrong unit"}

    client.post(f"/api/v1/completion-facts/{facts.pk}/{first}/", body, format="json")
    again = client.post(f"/api/v1/completion-facts/{facts.pk}/{second}/", body, format="json")

    assert again.status_code == 409
    assert again.json()["error"]["code"] == "facts_already_decided"
    assert ConstructionRecord.objects.count() == (2 if first == "confirm" else 1)


@pytest.mark.parametrize("who", ["partner_a", "partner_b", "support"])
def test_only_coordinators_decide(cast: Cast, client_for: Client, who: str) -> None:
    as_built(cast)
    done_with_facts(cast, client_for)
    facts = CompletionFacts.objects.get()
    client = client_for(getattr(cast, who))

    confirm = client.post(f"/api/v1/completion-facts/{facts.pk}/confirm/")
    reject = client.post(
        f"/api/v1/completion-facts/{facts.pk}/reject/", {"reason": "x"}, format="json"
    )

    assert (confirm.status_code, reject.status_code) == (403, 403)
    facts.refresh_from_db()
    assert facts.status == FactsStatus.PROPOSED


def test_support_and_coordinators_read_the_proposals(cast: Cast, client_for: Client) -> None:
    done_with_facts(cast, client_for)
    facts = CompletionFacts.objects.get()

    for user in (cast.support, cast.coordinator):
        client = client_for(user)
        listing = client.get("/api/v1/completion-facts/", {"status": "proposed"})
        detail = client.get(f"/api/v1/completion-facts/{facts.pk}/")
        assert [row["id"] for row in listing.json()["results"]] == [facts.pk]
        assert detail.json()["company_name"] == cast.company_a.name
    assert client_for(cast.support).get("/api/v1/completion-facts/?status=x").status_code == 400


# --- at handover -------------------------------------------------------------------------------


def ready_contract(cast: Cast) -> Any:
    contract = make_contract(billing_status=BillingStatus.READY)
    contract.sites.add(cast.job_a.site)
    cast.job_a.refresh_from_db()
    cast.job_a.contract = contract
    cast.job_a.save(update_fields=["contract"])
    pool = IpPool.objects.create(name="p", network="203.0.113.0/29", region=cast.region)
    IpAssignment.objects.create(pool=pool, address="203.0.113.2", contract=contract)
    return contract


def test_pending_facts_do_not_block_the_handover_and_are_listed_there(
    cast: Cast, client_for: Client
) -> None:
    first = as_built(cast)
    done_with_facts(cast, client_for)
    contract = ready_contract(cast)
    client = client_for(cast.coordinator)

    status = client.get(f"/api/v1/contracts/{contract.pk}/handover/").json()
    assert status["ready"] is True, status
    assert [row["mc_serial"] for row in status["pending_facts"]] == ["MC-12AB"]
    assert handover_blockers(contract=contract) == []

    contract_hand_over(contract=contract, by=cast.coordinator)
    first.refresh_from_db()
    assert first.archived_at is not None
    facts = CompletionFacts.objects.get()
    confirmed = client.post(f"/api/v1/completion-facts/{facts.pk}/confirm/").json()

    # After handover the new version is archived too: it is what support reads now.
    assert confirmed["record"]["archived_at"] is not None
    cast.job_a.refresh_from_db()
    assert cast.job_a.status == JobStatus.HANDED_OVER
    after = client.get(f"/api/v1/contracts/{contract.pk}/handover/").json()
    assert after["pending_facts"] == []


# --- the support card -----------------------------------------------------------------------


def card(cast: Cast, language: str = "en") -> str:
    page = PageClient(HTTP_ACCEPT_LANGUAGE=language)
    page.force_login(cast.support)
    response = page.get(reverse("support:card", args=[cast.job_a.site_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_support_card_shows_pending_facts_as_not_yet_confirmed(
    cast: Cast, client_for: Client
) -> None:
    as_built(cast)
    done_with_facts(cast, client_for)

    html = card(cast)

    assert "asbuilt-proposed" in html
    assert f"proposed by {cast.company_a.name} on" in html
    assert "not yet confirmed" in html
    assert "MC-12AB" in html


def test_the_support_card_shows_confirmed_facts_in_the_record(
    cast: Cast, client_for: Client
) -> None:
    as_built(cast)
    done_with_facts(cast, client_for)
    facts = CompletionFacts.objects.get()
    client_for(cast.coordinator).post(f"/api/v1/completion-facts/{facts.pk}/confirm/")

    html = card(cast)

    assert "asbuilt-proposed" not in html
    assert "not yet confirmed" not in html
    assert 'class="asbuilt-mc-serial">MC-12AB<' in html
    assert "-18.5" in html
    assert "confirmed at handover" in html


def test_the_support_card_says_it_in_japanese(cast: Cast, client_for: Client) -> None:
    as_built(cast)
    done_with_facts(cast, client_for)

    html = card(cast, "ja")

    assert f"{cast.company_a.name} が" in html
    assert "未確認" in html
    assert "MC シリアル番号" in html


# --- the database holds the rules ----------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"status": FactsStatus.REJECTED, "decision_reason": ""},  # no decision time, no reason
        {"status": FactsStatus.CONFIRMED},  # confirmed without the record it wrote
        {"light_level_dbm": Decimal("-41.0")},
        {"mc_serial": "", "port": "", "note": "", "light_level_dbm": None},
    ],
)
def test_the_database_refuses_facts_that_break_the_rules(
    cast: Cast, client_for: Client, change: dict[str, Any]
) -> None:
    done_with_facts(cast, client_for)

    with pytest.raises(IntegrityError), transaction.atomic():
        CompletionFacts.objects.filter(pk=CompletionFacts.objects.get().pk).update(**change)


# --- delivery decides on its page ----------------------------------------------------------


def page_client(user: User) -> PageClient:
    client = PageClient()
    client.force_login(user)
    return client


def test_delivery_sees_the_waiting_facts_and_confirms_them_on_its_page(
    cast: Cast, client_for: Client
) -> None:
    done_with_facts(cast, client_for)
    as_built(cast)
    page = page_client(cast.coordinator)

    orders = page.get("/orders/").content.decode()
    assert 'id="facts-waiting"' in orders and "/facts/" in orders
    listed = page.get("/facts/").content.decode()
    [facts] = CompletionFacts.objects.all()
    assert f'id="facts-{facts.pk}"' in listed and "MC-12AB" in listed and "-18.5" in listed

    response = page.post(f"/facts/{facts.pk}/decide/", {"decision": "confirm"})
    assert response.status_code == 302
    facts.refresh_from_db()
    assert facts.status == FactsStatus.CONFIRMED and facts.decided_by == cast.coordinator
    latest = ConstructionRecord.objects.filter(site=cast.job_a.site).order_by("-pk").first()
    assert latest is not None and latest.media_converter_serial == "MC-12AB"
    # Decided once: a second press is refused with the reason, nothing changes.
    page.post(f"/facts/{facts.pk}/decide/", {"decision": "reject", "reason": "typo"})
    facts.refresh_from_db()
    assert facts.status == FactsStatus.CONFIRMED
    assert 'id="facts-waiting"' not in page.get("/orders/").content.decode()


def test_a_rejection_on_the_page_needs_a_reason(cast: Cast, client_for: Client) -> None:
    done_with_facts(cast, client_for)
    [facts] = CompletionFacts.objects.all()
    page = page_client(cast.coordinator)

    page.post(f"/facts/{facts.pk}/decide/", {"decision": "reject", "reason": " "})
    facts.refresh_from_db()
    assert facts.status == FactsStatus.PROPOSED
    page.post(f"/facts/{facts.pk}/decide/", {"decision": "reject", "reason": "ポート番号が違う"})
    facts.refresh_from_db()
    assert (facts.status, facts.decision_reason) == (FactsStatus.REJECTED, "ポート番号が違う")


@pytest.mark.parametrize("who", ["support", "partner_a"])
def test_only_coordinators_open_the_facts_page(cast: Cast, client_for: Client, who: str) -> None:
    done_with_facts(cast, client_for)
    [facts] = CompletionFacts.objects.all()
    page = page_client(getattr(cast, who))
    assert page.get("/facts/").status_code == 403
    assert page.post(f"/facts/{facts.pk}/decide/", {"decision": "confirm"}).status_code == 403
    facts.refresh_from_db()
    assert facts.status == FactsStatus.PROPOSED
