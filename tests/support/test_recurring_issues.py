"""Recurring issues: which sites and areas keep calling, so delivery hears about it."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from support.selectors import Grouping, recurring_issues
from support.services import call_log
from tests.support.conftest import Desk

NOW = timezone.now()


def calls(
    desk: Desk, site: object, count: int, *, days_ago: int = 1, fault: str = "unknown"
) -> None:
    for n in range(count):
        call_log(
            site=site, operator=desk.support, category="intermittent", fault_isolation=fault,
            description="断続的に切れる", started_at=NOW - dt.timedelta(days=days_ago, minutes=n),
        )  # fmt: skip


def test_a_site_with_k_calls_in_the_window_is_listed_with_what_they_were_about(desk: Desk) -> None:
    calls(desk, desk.shibaura, 3, fault="carrier_side")
    calls(desk, desk.marunouchi, 2)
    [issue] = recurring_issues(days=30, min_calls=3)
    assert issue.site_id == desk.shibaura.pk
    assert issue.call_count == 3 and issue.carrier_side_count == 3
    assert issue.categories == {"intermittent": 3}
    assert "芝浦シーサイドビル" in issue.label


def test_calls_older_than_the_window_do_not_count(desk: Desk) -> None:
    calls(desk, desk.shibaura, 2)
    calls(desk, desk.shibaura, 5, days_ago=40)
    assert recurring_issues(days=30, min_calls=3) == []
    assert recurring_issues(days=60, min_calls=3)[0].call_count == 7


def test_an_area_adds_up_calls_of_its_sites(desk: Desk) -> None:
    # 丸の内 (100-0005) and 霞が関 (100-0013) share the postal area 100 and the ward.
    calls(desk, desk.marunouchi, 2)
    calls(desk, desk.kasumigaseki, 2)
    calls(desk, desk.shibaura, 1)
    [postal] = recurring_issues(min_calls=3, group=Grouping.POSTAL)
    assert (postal.key, postal.call_count, postal.site_count) == ("100", 4, 2)
    [city] = recurring_issues(min_calls=3, group=Grouping.CITY)
    assert city.key == "東京都千代田区"
    [region] = recurring_issues(min_calls=5, group=Grouping.REGION)
    assert region.key == "tokyo-central" and region.call_count == 5
