"""Webhooks (issue 25): events for a partner's own crews, signed, retried, logged, replayable."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import Plan, PlanStatus, Visit
from dispatch.plans import plan_publish, plan_revise
from dispatch.reports import job_report_record
from dispatch.services import job_transition
from dispatch.states import JobStatus
from tests.api.conftest import Cast
from tests.factories import make_job
from webhooks.delivery import backoff_s, deliveries_due, delivery_attempt
from webhooks.models import (
    DeliveryStatus,
    EventType,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from webhooks.services import endpoint_create
from webhooks.signing import verify
from webhooks.urls import InvalidWebhookUrl, check_url

from .conftest import Receiver

pytestmark = pytest.mark.django_db

Client = Callable[[User | None], APIClient]


def _register(client: APIClient, url: str) -> dict:
    response = client.post("/api/v1/webhooks/", {"url": url, "description": "ours"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _deliver_all() -> None:
    """What the worker does, here in the test's thread: attempt every due delivery."""
    for pk in WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).values_list(
        "pk", flat=True
    ):
        delivery_attempt(pk)


def _revise_moving(cast: Cast, hours: int = 1) -> None:
    """Publish a revision of the cast's plan in which A's visit starts ``hours`` later."""
    revision = plan_revise(plan=cast.plan, by=cast.coordinator)
    delta = dt.timedelta(hours=hours)
    visit = Visit.objects.get(plan=revision, job=cast.job_a)
    Visit.objects.filter(pk=visit.pk).update(
        planned_start=visit.planned_start + delta, planned_end=visit.planned_end + delta
    )
    plan_publish(plan=revision, by=cast.coordinator)


def test_a_plan_change_reaches_only_the_partner_whose_crew_it_is(
    cast: Cast, client_for: Client, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    created = _register(client_for(cast.partner_a), receiver.url)
    assert created["secret"].startswith("whsec_")
    with django_capture_on_commit_callbacks() as callbacks:
        _revise_moving(cast)
    assert callbacks, "the delivery is queued on commit"
    events = list(WebhookEvent.objects.order_by("type"))
    assert [e.type for e in events] == [EventType.PLAN_CHANGED, EventType.VISIT_MOVED]
    assert {e.company_id for e in events} == {cast.company_a.pk}
    _deliver_all()

    (plan_changed, moved) = sorted(receiver.delivered(), key=lambda r: r.document["type"])
    data = plan_changed.document["data"]
    assert data["counts"] == {"added": 0, "removed": 0, "moved": 1}
    (line,) = data["changes"]
    assert line["crew"]["id"] == cast.crew_a.pk and line["job"]["reference"] == cast.job_a.reference
    assert line["kind"] == "moved" and line["before"] != line["after"]
    assert data["plan"]["revises"] == cast.plan.pk
    assert moved.document["type"] == "visit.moved"
    # Nothing of B's crew in A's events.
    assert cast.job_b.reference not in plan_changed.body.decode()


def test_the_signature_verifies_with_the_secret_and_the_timestamp(
    cast: Cast, client_for: Client, receiver: Receiver
) -> None:
    secret = _register(client_for(cast.partner_a), receiver.url)["secret"]
    job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED, by=cast.coordinator)
    _deliver_all()
    (request,) = receiver.delivered()
    headers = request.headers
    assert request.document["type"] == "visit.cancelled"
    assert request.document["data"]["visit"]["id"] == cast.visit_a.pk
    assert headers["X-Dispatch-Event-Id"] == request.document["id"]
    timestamp = headers["X-Dispatch-Timestamp"]
    assert verify(secret, timestamp, request.body, headers["X-Dispatch-Signature"])
    assert not verify("whsec_other", timestamp, request.body, headers["X-Dispatch-Signature"])
    assert not verify(
        secret, str(int(timestamp) + 1), request.body, headers["X-Dispatch-Signature"]
    )
    assert not verify(secret, timestamp, request.body + b" ", headers["X-Dispatch-Signature"])


def test_a_failing_then_slow_receiver_gets_each_event_once_it_recovers(
    cast: Cast, client_for: Client, receiver: Receiver
) -> None:
    """500, then a timeout, then 200: delivered once; later retries send nothing."""
    _register(client_for(cast.partner_a), receiver.url)
    receiver.script = ["fail", "slow"]
    job_report_record(
        job=cast.job_a,
        visit=cast.visit_a,
        kind="incomplete",
        reason_code="customer_absent",
        idempotency_key="k1",
        by=cast.partner_a,
    )
    delivery = WebhookDelivery.objects.get()
    assert delivery.event.type == EventType.JOB_RETURNED

    first = delivery_attempt(delivery.pk)
    assert first.status == DeliveryStatus.PENDING and first.retry_in == backoff_s(1)
    second = delivery_attempt(delivery.pk)
    assert second.status == DeliveryStatus.PENDING
    receiver.release.set()  # the slow handler may finish now: its client gave up long ago
    third = delivery_attempt(delivery.pk)
    assert third.status == DeliveryStatus.SUCCEEDED
    # A duplicate message, a late retry: the succeeded delivery is not sent again.
    assert delivery_attempt(delivery.pk).sent is False
    assert delivery_attempt(delivery.pk).sent is False

    assert len(receiver.received) == 3
    assert Counter(r.event_id for r in receiver.delivered()) == {str(delivery.event_id): 1}
    log = list(WebhookDelivery.objects.get(pk=delivery.pk).attempt_log.all())
    assert [a.status_code for a in log] == [500, None, 200]
    assert "timed out" in log[1].error
    assert [a.succeeded for a in log] == [False, False, True]
    assert log[0].next_retry_at is not None and log[2].next_retry_at is None
    assert [int(r.headers["X-Dispatch-Delivery-Attempt"]) for r in receiver.received] == [1, 2, 3]


def test_a_delivery_gives_up_after_the_bounded_attempts(
    cast: Cast, client_for: Client, receiver: Receiver
) -> None:
    _register(client_for(cast.partner_a), receiver.url)
    receiver.script = ["fail"] * 10
    job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED)
    delivery = WebhookDelivery.objects.get()
    outcomes = [delivery_attempt(delivery.pk) for _ in range(6)]
    assert [o.status for o in outcomes[:4]] == ["pending"] * 3 + ["failed"]
    assert [o.sent for o in outcomes[4:]] == [False, False]
    assert len(receiver.received) == 4


def test_backoff_doubles_up_to_its_cap() -> None:
    with override_settings(WEBHOOK_BACKOFF_BASE_S=30, WEBHOOK_BACKOFF_MAX_S=100):
        assert [backoff_s(n) for n in (1, 2, 3, 4)] == [30, 60, 100, 100]


def test_replay_sends_a_logged_delivery_again_with_the_same_event_id(
    cast: Cast, client_for: Client, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    client = client_for(cast.partner_a)
    endpoint = _register(client, receiver.url)
    job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED)
    _deliver_all()
    log = client.get(f"/api/v1/webhooks/{endpoint['id']}/deliveries/").json()["results"]
    (entry,) = log
    assert entry["status"] == "succeeded" and entry["attempt_log"][0]["status_code"] == 200
    assert entry["attempt_log"][0]["duration_ms"] >= 0

    with django_capture_on_commit_callbacks() as callbacks:
        answer = client.post(f"/api/v1/webhook-deliveries/{entry['id']}/replay/")
    assert answer.status_code == 202 and answer.json()["status"] == "pending"
    assert len(callbacks) == 1
    _deliver_all()
    assert [r.event_id for r in receiver.delivered()] == [entry["event_id"]] * 2
    assert WebhookDelivery.objects.get(pk=entry["id"]).attempt_log.count() == 2


def test_partners_see_and_change_only_their_own_endpoints_and_deliveries(
    cast: Cast, client_for: Client, receiver: Receiver
) -> None:
    a, b = client_for(cast.partner_a), client_for(cast.partner_b)
    endpoint_a = _register(a, receiver.url)
    endpoint_b = _register(b, receiver.url + "/b")
    job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED)
    (delivery,) = WebhookDelivery.objects.all()
    assert delivery.endpoint_id == endpoint_a["id"]  # B's endpoint hears nothing of A's crew

    assert [e["id"] for e in b.get("/api/v1/webhooks/").json()["results"]] == [endpoint_b["id"]]
    assert "secret" not in b.get("/api/v1/webhooks/").json()["results"][0]
    base = f"/api/v1/webhooks/{endpoint_a['id']}"
    for response in (
        b.get(f"{base}/"),
        b.patch(f"{base}/", {"is_active": False}, format="json"),
        b.delete(f"{base}/"),
        b.post(f"{base}/rotate-secret/"),
        b.get(f"{base}/deliveries/"),
        b.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/"),
    ):
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "not_found"
    assert WebhookEndpoint.objects.get(pk=endpoint_a["id"]).is_active
    assert b.get(f"/api/v1/webhooks/{endpoint_b['id']}/deliveries/").json()["results"] == []
    # Coordinators read every company's log (support) but change nothing; support nothing.
    coordinator = client_for(cast.coordinator)
    listed = coordinator.get("/api/v1/webhooks/").json()["results"]
    assert {e["id"] for e in listed} == {endpoint_a["id"], endpoint_b["id"]}
    assert coordinator.get(f"{base}/deliveries/").status_code == 200
    assert coordinator.post(f"{base}/rotate-secret/").status_code == 403
    assert coordinator.post(f"/api/v1/webhook-deliveries/{delivery.pk}/replay/").status_code == 403
    assert client_for(cast.support).get("/api/v1/webhooks/").status_code == 403


def test_rotating_the_secret_signs_later_attempts_with_the_new_one(
    cast: Cast, client_for: Client, receiver: Receiver
) -> None:
    client = client_for(cast.partner_a)
    endpoint = _register(client, receiver.url)
    rotated = client.post(f"/api/v1/webhooks/{endpoint['id']}/rotate-secret/").json()
    assert rotated["secret"] != endpoint["secret"] and rotated["secret_rotated_at"]
    assert "secret" not in client.get(f"/api/v1/webhooks/{endpoint['id']}/").json()
    job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED)
    _deliver_all()
    (request,) = receiver.delivered()
    headers = request.headers
    stamp, sig = headers["X-Dispatch-Timestamp"], headers["X-Dispatch-Signature"]
    assert verify(rotated["secret"], stamp, request.body, sig)
    assert not verify(endpoint["secret"], stamp, request.body, sig)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://partner.example/hooks",
        "http://partner.example/hooks",
        "javascript:alert(1)",
        "https://user:pw@partner.example/hooks",
        "not a url",
        "",
    ],
)
def test_a_bad_url_is_refused_with_a_400_naming_the_field(
    cast: Cast, client_for: Client, url: str
) -> None:
    response = client_for(cast.partner_a).post("/api/v1/webhooks/", {"url": url}, format="json")
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["url"]
    assert not WebhookEndpoint.objects.exists()


def test_a_url_change_is_checked_too(cast: Cast, client_for: Client, receiver: Receiver) -> None:
    client = client_for(cast.partner_a)
    endpoint = _register(client, receiver.url)
    response = client.patch(
        f"/api/v1/webhooks/{endpoint['id']}/", {"url": "http://partner.example/"}, format="json"
    )
    assert response.status_code == 400 and "url" in response.json()["error"]["fields"]


def test_local_http_and_internal_hosts_only_when_allowed() -> None:
    with override_settings(WEBHOOK_ALLOW_LOCAL_HTTP=False):
        for url in ("http://127.0.0.1:8000/", "https://10.0.0.5/", "https://localhost/"):
            with pytest.raises(InvalidWebhookUrl):
                check_url(url)
        assert check_url(" https://partner.example/hooks ") == "https://partner.example/hooks"
    assert check_url("http://localhost:9000/x") == "http://localhost:9000/x"


def test_a_rolled_back_change_records_and_sends_nothing(
    cast: Cast, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    endpoint_create(company=cast.company_a, url=receiver.url)
    with (
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED)
        raise RuntimeError("something later in the same transaction failed")
    assert callbacks == []
    assert not WebhookEvent.objects.exists() and not WebhookDelivery.objects.exists()


def test_no_endpoint_no_event(cast: Cast) -> None:
    """Companies without endpoints, the common case, cost no rows."""
    _revise_moving(cast)
    job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED)
    assert not WebhookEvent.objects.exists()


def test_a_disabled_endpoint_gets_no_new_events_and_fails_what_was_pending(
    cast: Cast, client_for: Client, receiver: Receiver
) -> None:
    client = client_for(cast.partner_a)
    endpoint = _register(client, receiver.url)
    _revise_moving(cast)
    pending = list(WebhookDelivery.objects.values_list("pk", flat=True))
    assert len(pending) == 2  # plan.changed and visit.moved
    answer = client.patch(
        f"/api/v1/webhooks/{endpoint['id']}/", {"is_active": False}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["is_active"] is False
    job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED)
    assert WebhookDelivery.objects.count() == 2
    assert {delivery_attempt(pk).status for pk in pending} == {DeliveryStatus.FAILED}
    assert receiver.received == []


def test_a_first_publication_is_plan_published_with_every_visit_added(
    cast: Cast, receiver: Receiver
) -> None:
    endpoint_create(company=cast.company_b, url=receiver.url)
    tuesday = cast.visit_b.date + dt.timedelta(days=1)
    plan = Plan.objects.create(
        name="Tuesday", start_date=tuesday, end_date=tuesday, status=PlanStatus.PROPOSED
    )
    job = make_job(status=JobStatus.READY)
    start = cast.visit_b.planned_start + dt.timedelta(days=1)
    Visit.objects.create(
        plan=plan,
        job=job,
        crew=cast.crew_b,
        date=tuesday,
        sequence=1,
        planned_start=start,
        planned_end=start + dt.timedelta(hours=2),
    )
    plan_publish(plan=plan, by=cast.coordinator)
    _deliver_all()
    (request,) = receiver.delivered()
    assert request.document["type"] == "plan.published"
    data = request.document["data"]
    assert data["plan"]["revises"] is None and data["counts"]["added"] == 1
    assert data["changes"][0]["job"]["reference"] == job.reference


def test_a_delivery_held_by_another_sender_is_left_alone_until_its_lease_ends(
    cast: Cast, receiver: Receiver
) -> None:
    endpoint_create(company=cast.company_a, url=receiver.url)
    job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED)
    delivery = WebhookDelivery.objects.get()
    now = timezone.now()
    held = WebhookDelivery.objects.filter(pk=delivery.pk)
    held.update(status=DeliveryStatus.DELIVERING, claimed_until=now + dt.timedelta(minutes=1))
    assert delivery_attempt(delivery.pk).sent is False
    assert deliveries_due() == []
    held.update(claimed_until=now - dt.timedelta(seconds=1))  # that sender died
    assert deliveries_due() == [delivery.pk]
    assert delivery_attempt(delivery.pk).status == DeliveryStatus.SUCCEEDED
    assert len(receiver.delivered()) == 1


def test_without_local_http_a_delivery_to_an_internal_address_is_refused(
    cast: Cast, receiver: Receiver
) -> None:
    """A host that turns internal after registration is not called (no request leaves)."""
    endpoint_create(company=cast.company_a, url=receiver.url)
    job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED)
    delivery = WebhookDelivery.objects.get()
    with override_settings(WEBHOOK_ALLOW_LOCAL_HTTP=False):
        assert delivery_attempt(delivery.pk).status == DeliveryStatus.PENDING
    assert receiver.received == []
    (attempt,) = WebhookDelivery.objects.get(pk=delivery.pk).attempt_log.all()
    assert "internal address" in attempt.error


@pytest.mark.parametrize("model", ["webhookendpoint", "webhookevent", "webhookdelivery"])
def test_the_admin_shows_webhooks_read_only(
    cast: Cast, receiver: Receiver, client, model: str
) -> None:  # type: ignore[no-untyped-def]
    endpoint_create(company=cast.company_a, url=receiver.url)
    job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED)
    admin_user = User.objects.create_superuser("root", password="pw")
    client.force_login(admin_user)
    assert client.get(f"/admin/webhooks/{model}/").status_code == 200
    assert client.get(f"/admin/webhooks/{model}/add/").status_code == 403
    endpoint = WebhookEndpoint.objects.get()
    for url in (
        "/admin/webhooks/webhookendpoint/",
        f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/",
    ):
        page = client.get(url)
        assert page.status_code == 200 and endpoint.secret not in page.content.decode()


def test_the_times_a_partner_is_sent_are_tokyo_times(
    cast: Cast, client_for: Client, receiver: Receiver, django_capture_on_commit_callbacks
) -> None:
    """Like the routes API: a visit at nine reads 09:00+09:00, never 00:00+00:00."""
    _register(client_for(cast.partner_a), receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        _revise_moving(cast)
        job_transition(job=cast.job_a, to_status=JobStatus.CANCELLED, by=cast.coordinator)
    _deliver_all()

    documents = {r.document["type"]: r.document["data"] for r in receiver.delivered()}
    (line,) = documents["plan.changed"]["changes"]
    assert line["before"]["planned_start"] == "2026-11-30T09:00:00+09:00"
    assert line["after"]["planned_start"] == "2026-11-30T10:00:00+09:00"
    assert documents["plan.changed"]["plan"]["published_at"].endswith("+09:00")
    assert documents["visit.cancelled"]["visit"]["planned_start"] == "2026-11-30T10:00:00+09:00"
