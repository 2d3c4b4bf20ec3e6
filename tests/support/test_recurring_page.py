"""The recurring-issues page: places that keep calling, what about, which side, the calls behind.

Sam (support) and Alice (coordinator, delivery) read it; there is no
development role, so developers use one of those accounts. Pat (a partner)
gets a 403, a visitor the login page.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from support.models import Call
from support.selectors import Grouping, recurring_groups
from support.services import call_amend, call_log
from tests.support.conftest import Desk

NOW = timezone.now()
PAGE = reverse("support:recurring")
EXPORT = reverse("support:recurring-export")


def browser(user: User | None, language: str = "en") -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        client.force_login(user)
    return client


def a_call(desk: Desk, site: Any, *, days_ago: float = 1, **fields: Any) -> Call:
    values = {
        "category": "intermittent",
        "fault_isolation": "unknown",
        "description": "夕方になると断続的に切れる",
        **fields,
    }
    return call_log(
        site=site,
        operator=desk.support,
        started_at=NOW - dt.timedelta(days=days_ago),
        **values,
    )


@pytest.fixture
def calls(desk: Desk) -> Desk:
    """芝浦: four calls (three on the carrier's side, one slow on the customer's); 丸の内: two."""
    desk.support.last_name, desk.support.first_name = "村上", "悠斗"
    desk.support.save()
    a_call(desk, desk.shibaura, days_ago=1, fault_isolation="carrier_side")
    a_call(desk, desk.shibaura, days_ago=2, fault_isolation="carrier_side")
    a_call(desk, desk.shibaura, days_ago=3, fault_isolation="carrier_side")
    a_call(
        desk, desk.shibaura, days_ago=4, category="slow", fault_isolation="customer_side",
        description="=社内Wi-Fiが遅い",
    )  # fmt: skip
    a_call(desk, desk.marunouchi, days_ago=1)
    a_call(desk, desk.kasumigaseki, days_ago=2)
    a_call(desk, desk.shibaura, days_ago=45)  # outside 30 days
    return desk


def test_the_page_lists_sites_with_k_calls_with_breakdown_and_calls(calls: Desk) -> None:
    response = browser(calls.support).get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "芝浦シーサイドビル" in html and "丸の内テラス" not in html
    assert "4 calls" in html
    # The breakdown: intermittent 3 on the carrier's side, slow 1 on the customer's.
    assert '<th scope="row">Connection drops</th><td class="n">3</td><td class="n">0</td>' in html
    assert '<th scope="row">Slow connection</th><td class="n">0</td><td class="n">1</td>' in html
    # The calls behind it, newest first, in Tokyo time, with the operator family name first.
    first = timezone.localtime(NOW - dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M")
    assert first in html and html.count('id="recurring-call-') == 4
    assert "村上 悠斗" in html and "夕方になると断続的に切れる" in html
    # One click to the site's as-built notes on the desk.
    card = f"{reverse('support:desk')}?site={calls.shibaura.pk}#asbuilt-title"
    assert f'href="{card}"' in html


def test_k_and_n_change_what_is_listed(calls: Desk) -> None:
    html = browser(calls.support).get(PAGE, {"min_calls": "5", "days": "60"}).content.decode()
    assert "芝浦シーサイドビル" in html and "5 calls" in html
    html = browser(calls.support).get(PAGE, {"min_calls": "5"}).content.decode()
    assert "No site or area reached K calls" in html


def test_an_area_groups_its_sites_and_links_each_site_to_its_card(calls: Desk) -> None:
    html = (
        browser(calls.coordinator).get(PAGE, {"group": "postal", "min_calls": "2"}).content.decode()
    )
    assert "〒100-****" in html and "2 sites" in html
    assert f'?site={calls.marunouchi.pk}#asbuilt-title">丸の内テラス</a>' in html
    assert f'?site={calls.kasumigaseki.pk}#asbuilt-title">霞が関セントラル</a>' in html


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"min_calls": "1"}, "min_calls", "greater than or equal to 2"),
        ({"min_calls": "abc"}, "min_calls", "Enter a whole number"),
        ({"days": "0"}, "days", "greater than or equal to 1"),
        ({"days": "400"}, "days", "less than or equal to 365"),
        ({"days": ""}, "days", "This field is required"),
        ({"group": "planet"}, "group", "Select a valid choice"),
    ],
)
def test_bad_k_or_n_is_a_400_naming_the_field_and_why(
    calls: Desk, params: dict[str, str], field: str, message: str
) -> None:
    response = browser(calls.support).get(PAGE, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert f'id="id_{field}-error"' in html and message in html
    assert 'aria-invalid="true"' in html
    assert browser(calls.support).get(EXPORT, params).status_code == 400


def test_bad_input_is_explained_in_japanese(calls: Desk) -> None:
    response = browser(calls.support, "ja").get(PAGE, {"days": "0"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "繰り返し発生している問題" in html and "1 以上" in html


def test_partners_get_403_and_visitors_the_login_page(calls: Desk) -> None:
    for url in (PAGE, EXPORT):
        assert browser(calls.partner).get(url).status_code == 403
        anonymous = browser(None).get(url)
        assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert browser(calls.coordinator).get(PAGE).status_code == 200


def test_the_page_is_linked_from_the_desk_and_the_top_bar(calls: Desk) -> None:
    html = browser(calls.support).get(reverse("support:desk")).content.decode()
    assert html.count(f'href="{PAGE}"') == 2  # the top bar, and the desk's recurring box


def test_an_amended_fault_side_is_counted_where_it_was_corrected(calls: Desk) -> None:
    call = a_call(calls, calls.marunouchi, days_ago=0.5)
    a_call(calls, calls.marunouchi, days_ago=0.6)
    call_amend(
        call=call, author=calls.support, text="局側の障害と判明",
        corrections={"fault_isolation": "carrier_side", "category": "no_connection"},
    )  # fmt: skip
    [group] = [g for g in recurring_groups(min_calls=3) if g.issue.site_id == calls.marunouchi.pk]
    assert group.fault_totals == {"carrier_side": 1, "customer_side": 0, "unknown": 2}
    assert {row.category: row.by_fault for row in group.breakdown} == {
        "intermittent": {"unknown": 2},
        "no_connection": {"carrier_side": 1},
    }


def test_the_page_reads_a_fixed_number_of_queries(
    calls: Desk, django_assert_max_num_queries: Any
) -> None:
    for n in range(6):
        a_call(calls, calls.kasumigaseki, days_ago=1 + n / 10)
        a_call(calls, calls.marunouchi, days_ago=1 + n / 10)
    client = browser(calls.support)
    client.get(PAGE)  # session, user: warm
    with django_assert_max_num_queries(12):
        response = client.get(PAGE, {"min_calls": "2", "group": "site"})
    assert response.content.decode().count('class="recurring-group"') == 3
    with django_assert_max_num_queries(6):
        groups = recurring_groups(min_calls=2, group=Grouping.CITY)
    assert [g.issue.call_count for g in groups] == [14, 4]  # 千代田区, 港区


def test_only_the_latest_calls_of_a_group_are_shown_and_the_rest_counted(calls: Desk) -> None:
    [group] = recurring_groups(min_calls=3, calls_per_group=2)
    assert [v.call.started_at for v in group.calls] == sorted(
        (v.call.started_at for v in group.calls), reverse=True
    )
    assert (len(group.calls), group.calls_not_shown, group.issue.call_count) == (2, 2, 4)


def _csv(data: bytes, encoding: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode(encoding))))


def test_the_csv_is_utf8_with_bom_with_english_headers(calls: Desk) -> None:
    response = browser(calls.support).get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    header, *rows = _csv(response.content, "utf-8-sig")
    assert header[:3] == ["Group", "Calls in the group", "Carrier side"]
    assert "Summary" in header and "Operator" in header and "Fault side" in header
    assert len(rows) == 4
    row = dict(zip(header, rows[-1], strict=True))
    assert row["Calls in the group"] == "4" and row["Carrier side"] == "3"
    assert row["Category"] == "Slow connection"
    assert row["Summary"] == "'=社内Wi-Fiが遅い"  # never run as a formula
    assert row["Operator"] == "村上 悠斗"


def test_the_csv_headers_follow_the_users_language_and_cp932_is_offered(calls: Desk) -> None:
    response = browser(calls.support, "ja").get(EXPORT, {"encoding": "cp932"})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=shift_jis"
    assert not response.content.startswith(b"\xef\xbb\xbf")
    header, *rows = _csv(response.content, "cp932")
    assert header[0] == "グループ" and "概要" in header and "故障箇所" in header
    assert any("芝浦シーサイドビル" in cell for cell in rows[0])
    page = browser(calls.support, "ja").get(PAGE).content.decode()
    assert "encoding=cp932" in page


def test_a_character_cp932_cannot_write_is_a_400_naming_it(calls: Desk) -> None:
    a_call(calls, calls.shibaura, description="回線が落ちた😡")
    a_call(calls, calls.shibaura, description="〜夕方から〜")  # a wave dash CP932 spells ～
    response = browser(calls.support).get(EXPORT, {"encoding": "cp932"})
    assert response.status_code == 400
    assert "U+1F621" in response.content.decode()
    assert browser(calls.support).get(EXPORT).status_code == 200  # UTF-8 writes anything


def test_a_bad_encoding_is_a_400(calls: Desk) -> None:
    response = browser(calls.support).get(EXPORT, {"encoding": "latin-1"})
    assert response.status_code == 400
    assert 'id="id_encoding-error"' in response.content.decode()
