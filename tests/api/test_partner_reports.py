"""POST/GET /api/v1/jobs/{id}/reports/: field reports, safe to retry, moving the job's status."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

import dispatch.reports
from accounts.models import User
from dispatch.models import IncompleteReason, JobReport, JobStatusChange, PlanStatus
from dispatch.states import JobStatus
from tests.api.conftest import JST, Cast
from tests.factories import make_job, make_plan, make_visit

Client = Callable[[User | None], APIClient]


def url(job_id: int) -> str:
    return f"/api/v1/jobs/{job_id}/reports/"


def report(
    client: APIClient,
    job_id: int,
    body: dict[str, Any],
    key: str | None = "k-1",
    **headers: str,
) -> Any:
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url(job_id), body, format="json", **headers)


def history(job_id: int) -> list[tuple[str, str]]:
    return list(
        JobStatusChange.objects.filter(job_id=job_id)
        .order_by("id")
        .values_list("from_status", "to_status")
    )


def status_of(cast: Cast) -> str:
    cast.job_a.refresh_from_db()
    return cast.job_a.status


def test_it_works(cast: Cast, client_for: Client) -> None:
    response = report(client_for(cast.partner_a), cast.job_a.pk, {"kind": "en_route"})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["job"], body["crew"], body["visit"]) == (
        cast.job_a.pk,
        cast.crew_a.pk,
        cast.visit_a.pk,
    )
    assert (body["kind"], body["idempotency_key"]) == ("en_route", "k-1")
    assert body["reported_by"] == cast.partner_a.pk
    assert status_of(cast) == JobStatus.DISPATCHED


def test_arrived_after_en_route_is_recorded_without_a_status_change(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.partner_a)
    report(client, cast.job_a.pk, {"kind": "en_route"}, key="k-1")

    response = report(client, cast.job_a.pk, {"kind": "arrived"}, key="k-2")

    assert response.status_code == 201
    assert status_of(cast) == JobStatus.DISPATCHED
    assert history(cast.job_a.pk) == [("scheduled", "dispatched")]


def test_started_on_a_scheduled_job_goes_through_dispatched(cast: Cast, client_for: Client) -> None:
    response = report(client_for(cast.partner_a), cast.job_a.pk, {"kind": "started"})

    assert response.status_code == 201
    assert history(cast.job_a.pk) == [("scheduled", "dispatched"), ("dispatched", "in_progress")]


def test_completed_after_started_completes_the_job(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    report(client, cast.job_a.pk, {"kind": "started"}, key="k-1")

    finished = (timezone.now() - dt.timedelta(minutes=3)).replace(microsecond=0).astimezone(JST)

    response = report(
        client, cast.job_a.pk, {"kind": "completed", "occurred_at": finished.isoformat()}, key="k-2"
    )

    assert response.status_code == 201
    assert response.json()["occurred_at"] == finished.isoformat()  # the field's time, local
    assert status_of(cast) == JobStatus.COMPLETED


def test_incomplete_records_the_reason_and_sends_the_job_back_to_the_queue(
    cast: Cast, client_for: Client
) -> None:
    response = report(
        client_for(cast.partner_a),
        cast.job_a.pk,
        {"kind": "incomplete", "reason_code": "customer_absent", "reason_text": "不在、再訪要"},
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["reason_code"], body["reason_text"]) == ("customer_absent", "不在、再訪要")
    assert body["idempotency_key"] == "k-1"
    assert status_of(cast) == JobStatus.READY
    assert history(cast.job_a.pk) == [
        ("scheduled", "dispatched"),
        ("dispatched", "incomplete"),
        ("incomplete", "ready"),
    ]


def test_incomplete_without_a_reason_is_refused_and_nothing_is_written(
    cast: Cast, client_for: Client
) -> None:
    response = report(client_for(cast.partner_a), cast.job_a.pk, {"kind": "incomplete"})

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["reason_code"]
    assert not JobReport.objects.exists()
    assert status_of(cast) == JobStatus.SCHEDULED
    assert history(cast.job_a.pk) == []


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "started", "reason_code": "weather"}, "reason_code"),
        ({"kind": "incomplete", "reason_code": "gremlins"}, "reason_code"),
        ({"kind": "teleported"}, "kind"),
        ({}, "kind"),
        ({"kind": "arrived", "occurred_at": "yesterday"}, "occurred_at"),
        ({"kind": "arrived", "occurred_at": "2099-01-01T09:00:00+09:00"}, "occurred_at"),
        ({"kind": "arrived", "reason_text": "x" * 2001}, "reason_text"),
    ],
)
def test_bad_bodies_answer_400_naming_the_field(
    cast: Cast, client_for: Client, body: dict[str, Any], field: str
) -> None:
    response = report(client_for(cast.partner_a), cast.job_a.pk, body)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not JobReport.objects.exists()


# --- when it happened: on the visit's day (Asia/Tokyo) or later, and not in the future ---

#: One minute before the visit's Monday begins in Tokyo (still Sunday in UTC too).
SUNDAY_NIGHT = "2026-11-29T23:59:00+09:00"
#: Monday just begun in Tokyo, while it is still Sunday in UTC.
MONDAY_AT_DAWN = "2026-11-30T00:30:00+09:00"


@pytest.mark.parametrize(
    ("language", "message"),
    [
        (
            "en",
            "2026-11-29 23:59 is before this visit's day (2026-11-30, Asia/Tokyo): "
            "send the time it happened on site",
        ),
        (
            "ja",
            "2026-11-29 23:59 はこの訪問の日（2026-11-30、Asia/Tokyo）より前です。"
            "現場で起きた日時を送ってください",
        ),
    ],
    ids=["en", "ja"],
)
def test_a_report_that_happened_before_the_visits_day_is_refused_naming_occurred_at(
    cast: Cast, client_for: Client, language: str, message: str
) -> None:
    """It used to be stored, and a 'not finished' one became the job's return time."""
    client = client_for(cast.partner_a)
    body = {"kind": "incomplete", "reason_code": "no_access", "occurred_at": SUNDAY_NIGHT}

    response = report(client, cast.job_a.pk, body, HTTP_ACCEPT_LANGUAGE=language)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error["fields"]) == ("invalid", {"occurred_at": [message]})
    assert not JobReport.objects.exists()
    cast.job_a.refresh_from_db()
    assert (cast.job_a.status, cast.job_a.returned_from_field_at) == (JobStatus.SCHEDULED, None)


def test_a_report_early_on_the_visits_day_in_tokyo_is_taken(cast: Cast, client_for: Client) -> None:
    """The day is Tokyo's: 00:30 on Monday there is still Sunday in UTC."""
    body = {"kind": "incomplete", "reason_code": "no_access", "occurred_at": MONDAY_AT_DAWN}

    response = report(client_for(cast.partner_a), cast.job_a.pk, body)

    assert response.status_code == 201, response.content
    cast.job_a.refresh_from_db()
    assert cast.job_a.returned_from_field_at == dt.datetime.fromisoformat(MONDAY_AT_DAWN)


def test_a_report_that_happens_in_the_future_is_refused_by_the_service(cast: Cast) -> None:
    """The rule is the service's, whichever interface records the report."""
    later = timezone.now() + dt.timedelta(hours=1)

    with pytest.raises(dispatch.reports.OccurredAtRefused) as refused:
        dispatch.reports.job_report_record(
            job=cast.job_a, visit=cast.visit_a, kind="started", occurred_at=later
        )

    assert (refused.value.field, refused.value.status) == ("occurred_at", 400)
    assert "is in the future" in str(refused.value)
    assert not JobReport.objects.exists()
    assert status_of(cast) == JobStatus.SCHEDULED


def test_a_phone_clock_a_little_ahead_is_forgiven(cast: Cast, client_for: Client) -> None:
    ahead = (timezone.now() + dt.timedelta(minutes=2)).replace(microsecond=0).astimezone(JST)

    response = report(
        client_for(cast.partner_a),
        cast.job_a.pk,
        {"kind": "started", "occurred_at": ahead.isoformat()},
    )

    assert response.status_code == 201, response.content


def test_the_same_key_ten_times_makes_one_report_and_returns_the_original(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.partner_a)
    first = report(client, cast.job_a.pk, {"kind": "started"}, key="retry-me")

    retries = [report(client, cast.job_a.pk, {"kind": "started"}, key="retry-me") for _ in range(9)]

    assert first.status_code == 201
    assert {r.status_code for r in retries} == {200}
    assert all(r.json() == first.json() for r in retries)
    assert retries[0]["Idempotent-Replayed"] == "true"
    assert JobReport.objects.count() == 1
    assert status_of(cast) == JobStatus.IN_PROGRESS  # not a 409 for "already started"


def test_a_retried_incomplete_report_is_not_recorded_twice(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    body = {"kind": "incomplete", "reason_code": IncompleteReason.NO_ACCESS}

    first = report(client, cast.job_a.pk, body, key="gone")
    again = report(client, cast.job_a.pk, body, key="gone")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert JobReport.objects.count() == 1
    assert len(history(cast.job_a.pk)) == 3


def test_a_key_reused_with_another_body_is_a_conflict(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    report(client, cast.job_a.pk, {"kind": "en_route"}, key="k-1")

    response = report(client, cast.job_a.pk, {"kind": "arrived"}, key="k-1")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert JobReport.objects.count() == 1


def test_a_concurrent_duplicate_that_slips_past_the_lookup_gets_the_original(
    cast: Cast, client_for: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The unique index on (crew, key) is the referee when two requests race."""
    client = client_for(cast.partner_a)
    first = report(client, cast.job_a.pk, {"kind": "started"}, key="race")
    real_lookup = dispatch.reports.earlier_report
    calls: list[str] = []

    def lookup_that_misses_once(**kwargs: Any) -> JobReport | None:
        # The racing request looked before the first one committed.
        calls.append("lookup")
        return None if len(calls) == 1 else real_lookup(**kwargs)

    monkeypatch.setattr(dispatch.reports, "earlier_report", lookup_that_misses_once)
    # The job is back to dispatched, so the late request's own insert is what fails.
    cast.job_a.status = JobStatus.DISPATCHED
    cast.job_a.save()

    second = report(client, cast.job_a.pk, {"kind": "started"}, key="race")

    assert second.status_code == 200
    assert second.json() == first.json()
    assert JobReport.objects.count() == 1
    assert status_of(cast) == JobStatus.DISPATCHED  # the loser's transition rolled back
    assert calls == ["lookup", "lookup"]  # missed, then found after the unique index refused


def test_a_report_out_of_order_is_refused_in_report_kinds(cast: Cast, client_for: Client) -> None:
    response = report(client_for(cast.partner_a), cast.job_a.pk, {"kind": "completed"})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "report_refused"
    assert error["message"].startswith("report 'started' before 'completed'")
    assert error["report_kind"] == "completed"
    assert set(error["accepted"]) == {"en_route", "arrived", "started", "incomplete"}
    assert "scheduled" not in error["message"]  # crews think in reports, not job statuses
    assert not JobReport.objects.exists()
    assert status_of(cast) == JobStatus.SCHEDULED


def test_en_route_to_a_finished_job_is_a_conflict(cast: Cast, client_for: Client) -> None:
    cast.job_a.status = JobStatus.COMPLETED
    cast.job_a.save()

    response = report(client_for(cast.partner_a), cast.job_a.pk, {"kind": "en_route"})

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "report_refused"
    assert "already completed" in error["message"]
    assert error["accepted"] == []


def test_partner_b_cannot_report_on_or_read_partner_as_job(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_b)

    assert report(client, cast.job_a.pk, {"kind": "started"}).status_code == 404
    assert client.get(url(cast.job_a.pk)).status_code == 404
    assert not JobReport.objects.exists()


def test_a_partner_cannot_report_on_a_job_of_an_unpublished_plan(
    cast: Cast, client_for: Client
) -> None:
    draft_visit = make_visit(plan=make_plan(status=PlanStatus.DRAFT), crew=cast.crew_a)

    response = report(client_for(cast.partner_a), draft_visit.job_id, {"kind": "started"})

    assert response.status_code == 404


def test_partners_must_send_an_idempotency_key(cast: Cast, client_for: Client) -> None:
    response = report(client_for(cast.partner_a), cast.job_a.pk, {"kind": "started"}, key=None)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["Idempotency-Key"]
    assert not JobReport.objects.exists()


def test_an_idempotency_key_longer_than_64_characters_is_refused(
    cast: Cast, client_for: Client
) -> None:
    response = report(client_for(cast.partner_a), cast.job_a.pk, {"kind": "started"}, key="k" * 65)

    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["Idempotency-Key"]


def test_a_coordinator_may_report_for_the_crew_without_a_key(
    cast: Cast, client_for: Client
) -> None:
    response = report(client_for(cast.coordinator), cast.job_b.pk, {"kind": "arrived"}, key=None)

    assert response.status_code == 201
    assert response.json()["crew"] == cast.crew_b.pk
    assert response.json()["idempotency_key"] is None


def test_a_coordinator_cannot_report_on_a_job_nobody_was_sent_to(
    cast: Cast, client_for: Client
) -> None:
    job = make_job(status=JobStatus.READY)

    response = report(client_for(cast.coordinator), job.pk, {"kind": "arrived"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_dispatched"


def test_support_may_read_the_reports_but_not_write_them(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.support)

    assert client.get(url(cast.job_a.pk)).status_code == 200
    assert report(client, cast.job_a.pk, {"kind": "started"}).status_code == 403


def test_anonymous_is_unauthorized(cast: Cast, client_for: Client) -> None:
    client = client_for(None)

    assert client.get(url(cast.job_a.pk)).status_code == 401
    assert report(client, cast.job_a.pk, {"kind": "started"}).status_code == 401


def test_the_list_shows_the_jobs_reports_oldest_first(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    report(client, cast.job_a.pk, {"kind": "en_route"}, key="k-1")
    report(client, cast.job_a.pk, {"kind": "started"}, key="k-2")
    report(client_for(cast.partner_b), cast.job_b.pk, {"kind": "en_route"}, key="k-1")

    body = client.get(url(cast.job_a.pk)).json()

    assert body["count"] == 2
    assert [r["kind"] for r in body["results"]] == ["en_route", "started"]


def test_a_partner_does_not_see_another_partners_earlier_reports_on_the_job(
    cast: Cast, client_for: Client
) -> None:
    """Re-planned from B to A: B's old report stays B's business."""
    JobReport.objects.create(job=cast.job_a, crew=cast.crew_b, kind="en_route")

    body = client_for(cast.partner_a).get(url(cast.job_a.pk)).json()

    assert body["count"] == 0
    assert client_for(cast.coordinator).get(url(cast.job_a.pk)).json()["count"] == 1
