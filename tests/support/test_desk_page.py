"""The support desk page: open for support (and coordinators), closed to partners."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from dispatch.models import Job
from dispatch.states import JobKind, JobStatus
from sites.models import ConstructionRecord
from support.models import Call
from support.services import call_log
from tests.support.conftest import Desk, a_job


def browser(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_desk_opens_with_the_focus_in_the_search_box(desk: Desk) -> None:
    response = browser(desk.support).get(reverse("support:desk"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="desk-q"' in html and "autofocus" in html
    assert '<label for="desk-q">' in html


def test_coordinators_may_open_the_desk_and_partners_may_not(desk: Desk) -> None:
    assert browser(desk.coordinator).get(reverse("support:desk")).status_code == 200
    assert browser(desk.partner).get(reverse("support:desk")).status_code == 403
    assert browser(desk.partner).get(reverse("support:search"), {"q": "山田"}).status_code == 403
    assert (
        browser(desk.partner).get(reverse("support:card", args=[desk.shibaura.pk])).status_code
        == 403
    )
    anonymous = browser(None).get(reverse("support:desk"))
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]


def test_the_result_fragment_lists_hits_as_options(desk: Desk) -> None:
    response = browser(desk.support).get(reverse("support:search"), {"q": "やまだ"})
    html = response.content.decode()
    assert 'role="option"' in html and "芝浦シーサイドビル" in html


def test_the_card_shows_the_as_built_notes_before_the_call_history(desk: Desk) -> None:
    ConstructionRecord.objects.create(site=desk.shibaura, media_converter_location="3F EPS 内 壁面")
    call_log(site=desk.shibaura, operator=desk.support, category="slow", description="夜間に遅い")
    html = (
        browser(desk.support).get(reverse("support:card", args=[desk.shibaura.pk])).content.decode()
    )
    assert html.index("3F EPS 内 壁面") < html.index("夜間に遅い")
    assert 'action="/support/sites/' in html  # the call form


def test_coordinators_see_the_card_without_the_forms(desk: Desk) -> None:
    html = browser(desk.coordinator).get(f"/support/?site={desk.shibaura.pk}").content.decode()
    assert "芝浦シーサイドビル" in html and "call-caller_name" not in html


def test_logging_a_call_from_the_page_redirects_back_to_the_card(desk: Desk) -> None:
    response = browser(desk.support).post(
        reverse("support:log-call", args=[desk.shibaura.pk]),
        {"call-category": "no_connection", "call-fault_isolation": "carrier_side",
         "call-description": "LOS 赤", "call-contract": desk.yamada.pk, "q": "やまだ"},
    )  # fmt: skip
    call = Call.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(
        f"?q=%E3%82%84%E3%81%BE%E3%81%A0&site={desk.shibaura.pk}#call-{call.pk}"
    )
    assert call.operator == desk.support and call.contract == desk.yamada


def test_a_call_without_a_description_comes_back_with_the_error_next_to_the_field(
    desk: Desk,
) -> None:
    response = browser(desk.support).post(
        reverse("support:log-call", args=[desk.shibaura.pk]),
        {
            "call-category": "no_connection",
            "call-fault_isolation": "unknown",
            "call-description": "",
        },
    )
    assert response.status_code == 400
    assert 'class="field has-error"' in response.content.decode()
    assert not Call.objects.exists()


def test_coordinators_cannot_log_calls_from_the_page(desk: Desk) -> None:
    response = browser(desk.coordinator).post(
        reverse("support:log-call", args=[desk.shibaura.pk]),
        {"call-category": "slow", "call-fault_isolation": "unknown", "call-description": "x"},
    )
    assert response.status_code == 403


def test_amending_and_booking_from_the_page(desk: Desk) -> None:
    call = call_log(site=desk.shibaura, operator=desk.support, category="slow", description="遅い")
    page = browser(desk.support)
    prefix = f"amend-{call.pk}"
    amend = page.post(
        reverse("support:amend-call", args=[call.pk]),
        {f"{prefix}-text": "顧客側と判明", f"{prefix}-fault_isolation": "customer_side"},
    )
    assert amend.status_code == 302
    assert call.amendments.get().corrections == {"fault_isolation": "customer_side"}
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    book = page.post(reverse("support:book-visit", args=[call.pk]),
                     {f"book-{call.pk}-priority": "5", f"book-{call.pk}-due_date": due,
                      f"book-{call.pk}-duration_minutes": "60"})  # fmt: skip
    assert book.status_code == 302
    job = call.booking.job
    assert (job.kind, job.status, job.priority) == (JobKind.MAINTENANCE, JobStatus.READY, 5)
    html = page.get(f"/support/?site={desk.shibaura.pk}").content.decode()
    assert job.reference in html


@pytest.mark.parametrize("language", ["en", "ja"])
def test_the_desk_speaks_english_and_japanese(desk: Desk, language: str) -> None:
    page = browser(desk.support)
    page.cookies["django_language"] = language
    html = page.get(f"/support/?site={desk.shibaura.pk}").content.decode()
    expected = {"en": "As-built construction notes", "ja": "竣工時の施工メモ"}[language]
    assert expected in html


# --- open jobs: the desk shows them and asks ------------------------------------


def post_booking(desk: Desk, call: Call, language: str = "en", **fields: str) -> Any:
    page = browser(desk.support)
    page.cookies["django_language"] = language
    due = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    values = {"priority": "4", "due_date": due, "duration_minutes": "60", **fields}
    return page.post(
        reverse("support:book-visit", args=[call.pk]),
        {f"book-{call.pk}-{name}": value for name, value in values.items()},
    )


def a_slow_call(desk: Desk) -> Call:
    return call_log(
        site=desk.shibaura, contract=desk.yamada, operator=desk.support,
        category="slow", description="夜間に遅い",
    )  # fmt: skip


def test_booking_beside_an_open_job_shows_it_and_offers_both_choices(desk: Desk) -> None:
    open_job = a_job(desk.shibaura, contract=desk.yamada, reference="NL-0007", kind="new_line")
    call = a_slow_call(desk)
    response = post_booking(desk, call)
    assert response.status_code == 409
    html = response.content.decode()
    assert "This contract already has open jobs" in html
    assert "Attach this call to NL-0007" in html and "Ready to plan" in html
    assert f'name="book-{call.pk}-choice" value="{open_job.pk}"' in html
    assert f'name="book-{call.pk}-choice" value="new"' in html
    assert f'name="book-{call.pk}-reason"' in html
    assert Job.objects.count() == 1


def test_attaching_the_call_from_the_page(desk: Desk) -> None:
    open_job = a_job(desk.shibaura, contract=desk.yamada)
    call = a_slow_call(desk)
    response = post_booking(desk, call, choice=str(open_job.pk))
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.booking.job, call.booking.decision) == (open_job, "attached")
    assert Job.objects.count() == 1
    html = browser(desk.support).get(f"/support/?site={desk.shibaura.pk}").content.decode()
    assert f"Attached to open job: <strong>{open_job.reference}</strong>" in html


def test_a_new_job_anyway_from_the_page_needs_a_reason_and_keeps_it(desk: Desk) -> None:
    a_job(desk.shibaura, contract=desk.yamada)
    call = a_slow_call(desk)
    refused = post_booking(desk, call, choice="new")
    assert refused.status_code == 400
    assert f'id="id_book-{call.pk}-reason-error"' in refused.content.decode()
    booked = post_booking(desk, call, choice="new", reason="2F の別回線")
    assert booked.status_code == 302
    assert (call.booking.decision, call.booking.reason) == ("created_anyway", "2F の別回線")
    html = browser(desk.support).get(f"/support/?site={desk.shibaura.pk}").content.decode()
    assert "New job despite open jobs" in html and "2F の別回線" in html


def test_attaching_to_a_job_of_another_site_from_the_page_is_refused(desk: Desk) -> None:
    a_job(desk.shibaura, contract=desk.yamada)
    elsewhere = a_job(desk.marunouchi, contract=desk.sato)
    response = post_booking(desk, a_slow_call(desk), choice=str(elsewhere.pk))
    assert response.status_code == 400
    assert "is not an open job of this call" in response.content.decode()
    assert not Job.objects.filter(support_bookings__isnull=False).exists()


def test_the_open_job_question_is_asked_in_japanese_too(desk: Desk) -> None:
    a_job(desk.shibaura, contract=desk.yamada, reference="NL-0008")
    html = post_booking(desk, a_slow_call(desk), language="ja").content.decode()
    assert "この契約には未完了の案件があります" in html
    assert "この受付を NL-0008 に紐付ける" in html and "それでも新しい案件を作成する" in html
