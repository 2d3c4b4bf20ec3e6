"""Errors speak the request's language: Japanese with ``Accept-Language: ja``, English without.

The API's ``message`` and its field errors (ours and DRF's own), the domain's
refusals, the order page's blockers: built when raised, inside the request, so
the language LocaleMiddleware activated is the one they are written in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.utils import translation
from rest_framework.test import APIClient

from accounts.models import User
from api.errors import exception_handler
from dispatch.models import Job
from dispatch.plans import plan_create
from dispatch.states import PlanningError
from tests.api.conftest import MONDAY, Cast
from tests.factories import make_job

pytestmark = pytest.mark.django_db

Client = Callable[[User | None], APIClient]
JA = {"HTTP_ACCEPT_LANGUAGE": "ja"}


def detail_url(job: Job) -> str:
    return f"/api/v1/jobs/{job.pk}/"


def _transition(client: APIClient, cast: Cast, **headers: str):
    return client.post(
        f"{detail_url(cast.job_a)}transition/", {"status": "handed_over"}, format="json", **headers
    )


def test_an_illegal_transition_is_explained_in_japanese_when_asked(
    cast: Cast, client_for: Client
) -> None:
    response = _transition(client_for(cast.coordinator), cast, **JA)

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "illegal_transition"  # codes and values stay as they are
    assert (error["current_status"], error["requested_status"]) == ("scheduled", "handed_over")
    assert error["message"] == (
        "案件を「計画済み」から「引き渡し済み」に変更することはできません。"
        "「計画済み」から変更できる状態：キャンセル、班へ配信済み、着工可能。"
    )


def test_without_accept_language_the_same_refusal_is_in_english(
    cast: Cast, client_for: Client
) -> None:
    response = _transition(client_for(cast.coordinator), cast)

    assert response.status_code == 409
    assert response.json()["error"]["message"] == (
        "A job cannot move from 'Scheduled' to 'Handed over'. "
        "Allowed from 'Scheduled': Cancelled, Dispatched to crew, Ready to plan."
    )


def test_a_400_says_what_is_wrong_in_japanese_including_drf_s_own_messages(
    cast: Cast, client_for: Client
) -> None:
    response = client_for(cast.coordinator).post(
        "/api/v1/crews/", {"members": 2}, format="json", **JA
    )

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == "リクエストの内容に誤りがあります"
    assert error["fields"]["name"] == ["この項目は必須です。"]


def test_a_400_of_our_own_rules_is_in_japanese(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).patch(
        detail_url(cast.job_a),
        {"earliest_date": "2026-12-10", "due_date": "2026-12-01"},
        format="json",
        **JA,
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["due_date"] == [
        "earliest_date は due_date 以前にしてください。"
    ]


def test_a_400_is_in_english_by_default(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).post("/api/v1/crews/", {"members": 2}, format="json")

    error = response.json()["error"]
    assert error["message"] == "the request is not valid"
    assert error["fields"]["name"] == ["This field is required."]


def test_framework_errors_follow_the_language_too(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)

    unknown = APIClient().get("/api/v1/no-such-thing/", **JA)
    assert unknown.json()["error"]["message"] == "該当するリソースがありません"
    not_allowed = client.delete("/api/v1/plans/", **JA)
    assert not_allowed.status_code == 405
    assert not_allowed.json()["error"]["message"] == 'メソッド "DELETE" は許されていません。'


def test_api_answers_vary_with_accept_language(cast: Cast, client_for: Client) -> None:
    """A cache between client and API must not hand a Japanese answer to an English client."""
    client = client_for(cast.coordinator)
    for response in (
        client.get(detail_url(cast.job_a)),
        _transition(client, cast),
        APIClient().get("/api/v1/no-such-thing/"),
    ):
        assert "accept-language" in response.get("Vary", "").lower()


def test_a_domain_error_in_japanese_names_its_field() -> None:
    with translation.override("ja"), pytest.raises(PlanningError) as refused:
        plan_create(name="x", start_date=MONDAY, end_date=MONDAY - dt.timedelta(days=1))

    assert refused.value.field == "end_date"
    assert str(refused.value) == "計画の終了日を開始日より前にすることはできません"
    response = exception_handler(refused.value, {})
    assert response is not None
    assert response.data["error"]["fields"] == {
        "end_date": ["計画の終了日を開始日より前にすることはできません"]
    }


def test_a_role_refused_an_endpoint_reads_why_in_japanese(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)

    publish = client.post(f"/api/v1/plans/{cast.plan.pk}/publish/", {}, format="json", **JA)
    assert publish.status_code == 403
    assert publish.json()["error"]["message"] == "この役割ではこの操作を利用できません"
    preview = client.get(f"/api/v1/plans/{cast.plan.pk}/publish-preview/", **JA)
    assert preview.status_code == 403
    assert preview.json()["error"]["message"] == "この操作はコーディネーターだけが行えます"


def test_a_partner_asking_for_another_company_s_crew_or_job_reads_the_404_in_japanese(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.partner_a)

    feeds = client.get(f"/api/v1/crews/{cast.crew_b.pk}/calendar-feeds/", **JA)
    assert feeds.status_code == 404
    assert feeds.json()["error"]["message"] == "該当する班がありません"
    report = client.post(
        f"/api/v1/jobs/{cast.job_b.pk}/reports/", {"kind": "arrived"}, format="json", **JA
    )
    assert report.status_code == 404
    assert report.json()["error"]["message"] == "該当する案件がありません"
    feed = client.delete("/api/v1/calendar-feeds/999999/", **JA)
    assert feed.status_code == 404
    assert feed.json()["error"]["message"] == "該当するカレンダー配信がありません"
    ics = APIClient().get("/api/v1/calendar/" + "x" * 40 + ".ics", **JA)
    assert ics.status_code == 404
    assert ics.json()["error"]["message"] == "該当するカレンダーがありません"


def test_a_slot_booked_with_its_window_backwards_is_refused_in_japanese(
    cast: Cast, client_for: Client
) -> None:
    from support.models import Call

    call = Call.objects.create(
        site=cast.job_a.site, operator=cast.support, category="no_connection", description="x"
    )
    response = client_for(cast.support).post(
        f"/api/v1/support/calls/{call.pk}/book-slot/",
        {
            "duration_minutes": 60,
            "crew": cast.crew_a.pk,
            "date": "2026-12-10",
            "window_start": "12:00",
            "window_end": "09:00",
        },
        format="json",
        **JA,
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"]["window_end"] == [
        "window_start より後の時刻にしてください。"
    ]


def test_the_partner_report_flow_refuses_in_japanese(cast: Cast, client_for: Client) -> None:
    partner = client_for(cast.partner_a)
    no_key = partner.post(
        f"/api/v1/jobs/{cast.job_a.pk}/reports/", {"kind": "en_route"}, format="json", **JA
    )
    assert no_key.status_code == 400
    assert no_key.json()["error"]["message"] == "リクエストの内容に誤りがあります"
    assert no_key.json()["error"]["fields"]["Idempotency-Key"] == [
        "必須です。報告ごとに一意のキーを使い、再送のときは同じキーを送ってください"
    ]
    long_key = partner.post(
        f"/api/v1/jobs/{cast.job_a.pk}/reports/",
        {"kind": "en_route"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 65,
        **JA,
    )
    assert long_key.json()["error"]["fields"]["Idempotency-Key"] == ["64 文字以内にしてください"]
    other_crew = partner.get(
        "/api/v1/routes/", {"date": MONDAY.isoformat(), "crew": cast.crew_b.pk}, **JA
    )
    assert other_crew.status_code == 404
    assert other_crew.json()["error"]["message"] == "該当する班がありません"

    queued = make_job(site=cast.job_a.site, status="ready")
    not_live = client_for(cast.coordinator).post(
        f"/api/v1/jobs/{queued.pk}/reports/", {"kind": "en_route"}, format="json", **JA
    )
    assert not_live.status_code == 409
    assert not_live.json()["error"]["message"] == (
        "この案件は配信中の予定にないため、班から報告することはできません"
    )


def test_the_coordinator_s_plan_refusals_are_in_japanese(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)

    backwards = client.post(
        "/api/v1/plans/",
        {"name": "x", "start_date": "2026-12-08", "end_date": "2026-12-07"},
        format="json",
        **JA,
    )
    assert backwards.json()["error"]["fields"]["end_date"] == [
        "start_date 以降の日付にしてください"
    ]
    revision = client.post(f"/api/v1/plans/{cast.plan.pk}/revise/").json()["id"]
    twice = client.post(
        f"/api/v1/plans/{revision}/visits/",
        {"job": cast.job_a.pk, "crew": cast.crew_a.pk, "date": MONDAY.isoformat()},
        format="json",
        **JA,
    )
    assert twice.status_code in (400, 409)
    assert twice.json()["error"]["message"] == (
        "この案件はすでにこの計画にあります。訪問を移動してください"
    )
    stale = client.patch(
        detail_url(cast.job_a), {"priority": 2}, format="json", HTTP_IF_MATCH='"stale"', **JA
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["message"] == (
        "読み込んだ後に内容が変更されました。読み込み直してから、もう一度変更してください"
    )


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"bogus": 1}, "bogus", "bogus: 不明なパラメーターです"),
        (
            {"min_gap_minutes": "x"},
            "min_gap_minutes",
            "min_gap_minutes: 0〜240 の整数で入力してください",
        ),
        (
            {"max_utilization": 5},
            "max_utilization",
            "max_utilization: 0 より大きく 1 以下にしてください",
        ),
        ({"max_utilization": "x"}, "max_utilization", "max_utilization: 数値で指定してください"),
        ({"weights": 3}, "weights", "weights: 円の金額のオブジェクトで指定してください"),
        ({"weights": {"zzz": 1}}, "weights.zzz", "weights.zzz: 不明な重みです"),
    ],
)
def test_a_plan_parameter_refused_is_explained_in_japanese(
    cast: Cast, client_for: Client, params: dict, field: str, message: str
) -> None:
    response = client_for(cast.coordinator).post(
        "/api/v1/plans/",
        {"name": "x", "start_date": "2026-12-21", "end_date": "2026-12-25", "params": params},
        format="json",
        **JA,
    )

    assert response.status_code == 400
    assert response.json()["error"]["fields"][field] == [message]


def test_changing_a_plan_s_dates_or_reading_changes_wrongly_is_refused_in_japanese(
    cast: Cast, client_for: Client
) -> None:
    client = client_for(cast.coordinator)

    patch = client.patch(
        f"/api/v1/plans/{cast.plan.pk}/", {"start_date": "2026-12-21"}, format="json", **JA
    )
    assert patch.json()["error"]["message"] == "変更できるのは name と params だけです"
    assert patch.json()["error"]["fields"]["start_date"] == ["変更できません"]
    changes = client.get(f"/api/v1/plans/{cast.plan.pk}/changes/", {"version": "x"}, **JA)
    assert changes.json()["error"]["message"] == "version は整数で指定してください"
