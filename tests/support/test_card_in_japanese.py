"""The site card in Japanese: states, kinds and reasons by their labels, people family name first.

A support operator reads the card during a call; a status code
("incomplete") or an English label ("Ready to plan") is a word the operator
has to translate in their head, and "悠斗 村上" is a name no Japanese
colleague would write.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Role, User, person_name
from dispatch.models import IncompleteReason, JobReport, ReportKind
from dispatch.states import JobKind, JobStatus
from support.models import Call
from support.services import call_amend, call_log
from tests.factories import make_crew, make_user
from tests.support.conftest import Desk, a_job


def card_in(language: str, desk: Desk, user: User | None = None) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user or desk.support)
    url = reverse("support:card", args=[desk.shibaura.pk])
    return client.get(url).content.decode()


@pytest.fixture
def murakami(desk: Desk) -> User:
    """The demo's support operator: 村上 悠斗 (family name 村上)."""
    return make_user(Role.SUPPORT, username="murakami", first_name="悠斗", last_name="村上")


def test_job_states_kinds_and_reasons_read_in_japanese(desk: Desk) -> None:
    a_job(desk.shibaura, contract=desk.yamada, status=JobStatus.READY, kind=JobKind.PLAN_CHANGE)
    unfinished = a_job(desk.shibaura, contract=desk.yamada, status=JobStatus.INCOMPLETE)
    JobReport.objects.create(
        job=unfinished,
        crew=make_crew(),
        kind=ReportKind.INCOMPLETE,
        reason_code=IncompleteReason.NO_ACCESS,
    )

    page = card_in("ja", desk)

    for label in ("着工可能", "未完了", "コース変更", "保守訪問", "建物・部屋に入れない"):
        assert label in page, label
    for raw in ("Ready to plan", "Not finished", "Plan change", "No access", ">incomplete<"):
        assert raw not in page, raw


def test_the_same_card_reads_in_english_for_an_english_operator(desk: Desk) -> None:
    a_job(desk.shibaura, contract=desk.yamada, status=JobStatus.READY, kind=JobKind.PLAN_CHANGE)

    page = card_in("en", desk)

    assert "Ready to plan" in page and "Plan change" in page
    assert "着工可能" not in page


def test_a_call_logged_from_the_form_names_the_operator_family_name_first(
    desk: Desk, murakami: User
) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    client.force_login(murakami)
    response = client.post(
        reverse("support:log-call", args=[desk.shibaura.pk]),
        {
            "call-category": "no_connection",
            "call-fault_isolation": "carrier_side",
            "call-description": "LOS 赤点灯",
            "call-caller_name": "山田 太郎",
            "call-caller_phone": "０３１２３４５６７８",
        },
    )
    assert response.status_code == 302
    call_amend(call=Call.objects.get(), author=murakami, text="折り返し済み", corrections={})

    page = card_in("ja", desk, murakami)

    assert "村上 悠斗" in page  # the call's operator and the amendment's author
    assert "悠斗 村上" not in page
    assert "山田 太郎" in page  # the caller's name as the operator typed it
    assert Call.objects.get().caller_phone == "03-1234-5678"  # formatted like every phone
    assert "山田 太郎 03-1234-5678" in page


def test_a_caller_phone_that_is_no_number_is_kept_and_an_old_one_is_shown_formatted(
    desk: Desk,
) -> None:
    client = Client()
    client.force_login(desk.support)
    client.post(
        reverse("support:log-call", args=[desk.shibaura.pk]),
        {
            "call-category": "no_connection",
            "call-fault_isolation": "unknown",
            "call-description": "つながらない",
            "call-caller_phone": "内線 204",
        },
    )
    assert Call.objects.get().caller_phone == "内線 204"
    call_log(
        site=desk.shibaura,
        operator=desk.support,
        category="slow",
        description="遅い",
        caller_phone="0312345678",  # as calls were logged before phones were formatted
    )

    assert "03-1234-5678" in card_in("ja", desk)


def test_the_support_api_names_the_operator_family_name_first(desk: Desk, murakami: User) -> None:
    client = Client()
    client.force_login(murakami)
    client.post(
        reverse("support:log-call", args=[desk.shibaura.pk]),
        {
            "call-category": "no_connection",
            "call-fault_isolation": "unknown",
            "call-description": "つながらない",
        },
    )
    call = Call.objects.get()

    detail = client.get(f"/api/v1/support/calls/{call.pk}/")

    assert detail.status_code == 200, detail.content
    assert detail.json()["operator_name"] == "村上 悠斗"


@pytest.mark.parametrize(
    ("family", "given", "written"),
    [
        ("村上", "悠斗", "村上 悠斗"),  # Japanese: family name first, in every UI language
        ("木下", "", "木下"),
        ("", "亜希", "亜希"),
        ("ムラカミ", "ユウト", "ムラカミ ユウト"),
        ("Taylor", "Sam", "Sam Taylor"),  # Latin letters: the Western order, as entered
        ("", "", ""),
    ],
)
def test_a_full_name_is_written_in_the_order_of_its_script(
    family: str, given: str, written: str
) -> None:
    assert person_name(family=family, given=given) == written
