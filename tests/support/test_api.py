"""The support API: search, card, calls, amendments, maintenance booking, recurring issues.

Sam (support) searches, reads and logs; Alice (coordinator) reads; Pat
(partner) is turned away everywhere. Bad input answers 400 in the API's one
error shape, naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import Job
from dispatch.states import JobKind, JobStatus
from support.models import Call, MaintenanceBooking
from support.services import call_log
from tests.support.conftest import Desk, a_job

API = "/api/v1/support"


def client(user: User | None) -> APIClient:
    api = APIClient()
    if user is not None:
        api.force_authenticate(user=user)
    return api


def a_call(desk: Desk) -> Call:
    return call_log(
        site=desk.shibaura, operator=desk.support, category="no_connection",
        fault_isolation="carrier_side", description="MC の LOS 赤点灯",
    )  # fmt: skip


def assert_field_error(response: object, field: str) -> None:
    assert response.status_code == 400, response.content  # type: ignore[attr-defined]
    error = response.json()["error"]  # type: ignore[attr-defined]
    assert error["code"] == "invalid" and field in error["fields"], error


# --- search ---------------------------------------------------------------


def test_search_answers_ranked_hits_with_context(desk: Desk) -> None:
    response = client(desk.support).get(f"{API}/search/", {"q": "０３－１２３４－５６７８"})
    assert response.status_code == 200
    body = response.json()
    assert body["truncated"] is False
    hit = body["results"][0]
    assert hit["site"] == desk.shibaura.pk
    assert hit["matched"] == "phone"
    assert hit["customers"] == "株式会社山田商事" and hit["contracts"] == "KN-2024-000123"


def test_coordinators_may_search_too(desk: Desk) -> None:
    response = client(desk.coordinator).get(f"{API}/search/", {"q": "KN-2024-000456"})
    assert response.json()["results"][0]["site"] == desk.marunouchi.pk


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": "  "}, "q"),
        ({"q": "x" * 201}, "q"),
        ({"q": "山田", "limit": "0"}, "limit"),
    ],
)
def test_search_without_a_usable_query_is_a_400_naming_the_field(
    desk: Desk, params: dict, field: str
) -> None:
    assert_field_error(client(desk.support).get(f"{API}/search/", params), field)


# --- site card ------------------------------------------------------------


def test_the_site_card_starts_with_the_as_built_notes(desk: Desk) -> None:
    from sites.models import ConstructionRecord

    ConstructionRecord.objects.create(
        site=desk.shibaura, media_converter_location="3F EPS", port="LAN1", riser="EPS配管"
    )
    a_call(desk)
    body = client(desk.support).get(f"{API}/sites/{desk.shibaura.pk}/card/").json()
    assert list(body)[:4] == ["id", "name", "name_kana", "address"]
    assert body["construction_records"][0]["media_converter_location"] == "3F EPS"
    assert body["contracts"][0]["phone"] == "03-1234-5678"
    assert body["calls"][0]["current"]["fault_isolation"] == "carrier_side"


def test_an_unknown_site_has_no_card(desk: Desk) -> None:
    response = client(desk.support).get(f"{API}/sites/999999/card/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# --- calls ------------------------------------------------------------------


def call_payload(desk: Desk, **fields: object) -> dict:
    return {
        "site": desk.shibaura.pk,
        "contract": desk.yamada.pk,
        "caller_name": "山田 太郎",
        "caller_phone": "03-1234-5678",
        "category": "no_connection",
        "fault_isolation": "carrier_side",
        "description": "MC の LOS ランプ赤。再起動で改善せず。",
        "handoff_team": "field_maintenance",
        "follow_up_needed": True,
        "follow_up_due": "2030-01-10",
        **fields,
    }


def test_support_logs_a_call_as_themselves(desk: Desk) -> None:
    response = client(desk.support).post(f"{API}/calls/", call_payload(desk), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["operator"] == desk.support.pk
    assert body["current"] == body["original"]
    assert body["booking"] is None
    assert Call.objects.get(pk=body["id"]).operator == desk.support


def test_coordinators_read_calls_but_may_not_log_them(desk: Desk) -> None:
    call = a_call(desk)
    coordinator = client(desk.coordinator)
    assert coordinator.get(f"{API}/calls/{call.pk}/").status_code == 200
    response = coordinator.post(f"{API}/calls/", call_payload(desk), format="json")
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"category": "weather"}, "category"),
        ({"fault_isolation": "both"}, "fault_isolation"),
        ({"description": ""}, "description"),
        ({"site": 999999}, "site"),
        ({"contract": 999999}, "contract"),
        ({"follow_up_needed": False}, "follow_up_due"),
        ({"started_at": "2999-01-01T09:00:00+09:00"}, "started_at"),
        ({"handoff_user": 999999}, "handoff_user"),
    ],
)
def test_a_bad_call_is_a_400_naming_the_field(desk: Desk, fields: dict, field: str) -> None:
    response = client(desk.support).post(
        f"{API}/calls/", call_payload(desk, **fields), format="json"
    )
    assert_field_error(response, field)
    assert not Call.objects.exists()


def test_the_call_log_filters_by_site_and_by_operator(desk: Desk) -> None:
    mine = a_call(desk)
    call_log(site=desk.marunouchi, operator=desk.coordinator, category="slow", description="遅い")
    api = client(desk.coordinator)
    by_site = api.get(f"{API}/calls/", {"site": desk.shibaura.pk}).json()
    assert [c["id"] for c in by_site["results"]] == [mine.pk]
    by_operator = api.get(f"{API}/calls/", {"operator": desk.support.pk}).json()
    assert [c["id"] for c in by_operator["results"]] == [mine.pk]
    assert api.get(f"{API}/calls/").json()["count"] == 2


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"site": "abc"}, "site"),
        ({"since": "yesterday"}, "since"),
        ({"category": "weather"}, "category"),
        ({"follow_up_needed": "maybe"}, "follow_up_needed"),
    ],
)
def test_bad_call_filters_are_a_400_naming_the_field(desk: Desk, params: dict, field: str) -> None:
    assert_field_error(client(desk.support).get(f"{API}/calls/", params), field)


def test_an_amendment_shows_in_current_while_original_stays(desk: Desk) -> None:
    call = a_call(desk)
    response = client(desk.support).post(
        f"{API}/calls/{call.pk}/amendments/",
        {"text": "切り分け訂正", "corrections": {"fault_isolation": "customer_side"}},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["current"]["fault_isolation"] == "customer_side"
    assert body["original"]["fault_isolation"] == "carrier_side"
    assert body["amendments"][0]["text"] == "切り分け訂正"


def test_an_amendment_of_a_field_a_call_does_not_have_is_a_400(desk: Desk) -> None:
    response = client(desk.support).post(
        f"{API}/calls/{a_call(desk).pk}/amendments/",
        {"text": "x", "corrections": {"operator": 1}},
        format="json",
    )
    assert_field_error(response, "corrections.operator")


def test_calls_cannot_be_edited_or_deleted_through_the_api(desk: Desk) -> None:
    call = a_call(desk)
    api = client(desk.support)
    # There is no edit operation at all; the read-only role table answers first.
    edited = api.patch(f"{API}/calls/{call.pk}/", {"description": "x"}, format="json")
    assert edited.status_code in (403, 405)
    assert api.delete(f"{API}/calls/{call.pk}/").status_code in (403, 405)
    call.refresh_from_db()
    assert call.description == "MC の LOS 赤点灯"


# --- maintenance booking -----------------------------------------------------


def test_booking_a_visit_creates_a_ready_maintenance_job(desk: Desk) -> None:
    call = a_call(desk)
    due = timezone.localdate() + dt.timedelta(days=2)
    response = client(desk.support).post(
        f"{API}/calls/{call.pk}/maintenance/", {"priority": 4, "due_date": due.isoformat()}
    )
    assert response.status_code == 201, response.content
    assert (response.json()["decision"], response.json()["reason"]) == ("created", "")
    job = Job.objects.get(pk=response.json()["job"])
    assert (job.kind, job.status, job.priority, job.due_date) == (
        JobKind.MAINTENANCE, JobStatus.READY, 4, due,
    )  # fmt: skip
    detail = client(desk.support).get(f"{API}/calls/{call.pk}/").json()
    assert detail["booking"]["job_reference"] == job.reference


def test_a_second_booking_of_the_same_call_is_a_409_naming_the_job(desk: Desk) -> None:
    call = a_call(desk)
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    api = client(desk.support)
    first = api.post(f"{API}/calls/{call.pk}/maintenance/", {"priority": 4, "due_date": due})
    again = api.post(f"{API}/calls/{call.pk}/maintenance/", {"priority": 4, "due_date": due})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_booked"
    assert again.json()["error"]["job_id"] == first.json()["job"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [({"priority": 9, "due_date": "2030-01-01"}, "priority"), ({"priority": 3}, "due_date"),
     ({"priority": 3, "due_date": "2001-01-01"}, "due_date")],
)  # fmt: skip
def test_a_bad_booking_is_a_400_naming_the_field(desk: Desk, payload: dict, field: str) -> None:
    response = client(desk.support).post(f"{API}/calls/{a_call(desk).pk}/maintenance/", payload)
    assert_field_error(response, field)


# --- open jobs: attach the call, or a new job anyway --------------------------


def book(desk: Desk, call: Call, **fields: object) -> Any:
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    payload = {"priority": 4, "due_date": due, **fields}
    return client(desk.support).post(f"{API}/calls/{call.pk}/maintenance/", payload, format="json")


def test_booking_beside_an_open_job_is_a_409_listing_it(desk: Desk) -> None:
    open_job = a_job(desk.shibaura, reference="MNT-000001", status=JobStatus.SCHEDULED)
    response = book(desk, a_call(desk))
    assert response.status_code == 409, response.content
    error = response.json()["error"]
    assert (error["status"], error["code"], error["matched_by"]) == (
        409, "open_job_exists", "site",
    )  # fmt: skip
    assert "MNT-000001" in error["message"]
    assert error["open_jobs"] == [
        {"id": open_job.pk, "reference": "MNT-000001", "kind": "maintenance",
         "status": "scheduled", "scheduled_date": None},
    ]  # fmt: skip
    assert Job.objects.count() == 1 and not MaintenanceBooking.objects.exists()


def test_attaching_the_call_to_the_open_job_creates_no_job(desk: Desk) -> None:
    open_job = a_job(desk.shibaura)
    call = a_call(desk)
    response = client(desk.support).post(
        f"{API}/calls/{call.pk}/maintenance/", {"attach_to_job": open_job.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert (response.json()["job"], response.json()["decision"]) == (open_job.pk, "attached")
    assert Job.objects.count() == 1
    detail = client(desk.coordinator).get(f"{API}/calls/{call.pk}/").json()
    assert detail["booking"]["job_reference"] == open_job.reference
    assert detail["booking"]["booked_by"] == "sam"


def test_creating_anyway_with_a_reason_books_a_second_job_and_records_why(desk: Desk) -> None:
    open_job = a_job(desk.shibaura)
    call = a_call(desk)
    response = book(desk, call, create_anyway=True, reason="別回線 (2F) の障害")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["job"] != open_job.pk and Job.objects.count() == 2
    assert (body["decision"], body["reason"]) == ("created_anyway", "別回線 (2F) の障害")
    detail = client(desk.support).get(f"{API}/calls/{call.pk}/").json()
    assert detail["booking"]["reason"] == "別回線 (2F) の障害"


@pytest.mark.parametrize(
    "fields", [{"create_anyway": True}, {"create_anyway": True, "reason": " "}]
)
def test_creating_anyway_without_a_reason_is_a_400_naming_reason(desk: Desk, fields: dict) -> None:
    a_job(desk.shibaura)
    assert_field_error(book(desk, a_call(desk), **fields), "reason")
    assert Job.objects.count() == 1


def test_attaching_to_a_job_of_another_site_is_a_400_naming_attach_to_job(desk: Desk) -> None:
    a_job(desk.shibaura)
    elsewhere = a_job(desk.marunouchi, contract=desk.sato)
    assert_field_error(book(desk, a_call(desk), attach_to_job=elsewhere.pk), "attach_to_job")
    assert not MaintenanceBooking.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"attach_to_job": 1, "create_anyway": True, "reason": "x"}, "attach_to_job"),
     ({"attach_to_job": "MNT-1"}, "attach_to_job"), ({"reason": "x" * 201}, "reason"),
     ({"reason": "念のため"}, "reason")],
)  # fmt: skip
def test_a_muddled_choice_is_a_400_naming_the_field(desk: Desk, fields: dict, field: str) -> None:
    a_job(desk.shibaura)
    assert_field_error(book(desk, a_call(desk), **fields), field)


@pytest.mark.parametrize("status", ["completed", "handed_over", "cancelled"])
def test_a_closed_job_does_not_stop_the_booking(desk: Desk, status: str) -> None:
    a_job(desk.shibaura, status=status)
    response = book(desk, a_call(desk))
    assert response.status_code == 201, response.content
    assert response.json()["decision"] == "created"


# --- recurring issues --------------------------------------------------------


def test_recurring_issues_list_the_sites_that_keep_calling(desk: Desk) -> None:
    for _ in range(3):
        a_call(desk)
    body = client(desk.coordinator).get(f"{API}/recurring-issues/", {"min_calls": 3}).json()
    assert [(row["site"], row["call_count"]) for row in body] == [(desk.shibaura.pk, 3)]


@pytest.mark.parametrize(
    ("params", "field"),
    [({"group": "planet"}, "group"), ({"days": "-1"}, "days"), ({"min_calls": "1"}, "min_calls")],
)
def test_bad_recurring_issue_filters_are_a_400(desk: Desk, params: dict, field: str) -> None:
    assert_field_error(client(desk.support).get(f"{API}/recurring-issues/", params), field)


# --- who may -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/search/?q=山田"),
        ("get", "/sites/{site}/card/"),
        ("get", "/calls/"),
        ("post", "/calls/"),
        ("get", "/calls/{call}/"),
        ("post", "/calls/{call}/amendments/"),
        ("post", "/calls/{call}/maintenance/"),
        ("get", "/recurring-issues/"),
    ],
)
def test_partners_reach_no_support_endpoint(desk: Desk, method: str, path: str) -> None:
    url = API + path.format(site=desk.shibaura.pk, call=a_call(desk).pk)
    response = getattr(client(desk.partner), method)(url, {}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    assert getattr(client(None), method)(url, {}, format="json").status_code == 401


def test_support_reads_sites_but_cannot_edit_them(desk: Desk) -> None:
    api = client(desk.support)
    url = f"/api/v1/sites/{desk.shibaura.pk}/"
    assert api.get(url).status_code == 200
    assert api.patch(url, {"name": "改名"}, format="json").status_code == 403
    assert api.delete(url).status_code == 403
    assert (
        api.post("/api/v1/sites/", {"name": "新", "address": "東京都"}, format="json").status_code
        == 403
    )
    desk.shibaura.refresh_from_db()
    assert desk.shibaura.name == "芝浦シーサイドビル"


def test_support_cannot_see_or_touch_plans(desk: Desk) -> None:
    api = client(desk.support)
    assert api.get("/api/v1/plans/").status_code == 403
    plan = {"name": "W1", "start_date": "2030-01-07", "end_date": "2030-01-11"}
    assert api.post("/api/v1/plans/", plan, format="json").status_code == 403
