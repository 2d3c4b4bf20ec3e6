"""The week board and the calendar: holidays and closures in the day headers, closed cells hatched.

These tests plan the world's week of Monday 2026-11-23, 勤労感謝の日: a closed
day for every crew unless it is marked as working it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from accounts.models import Role
from dispatch.board import board_for
from dispatch.models import CompanyClosure, CrewUnavailability, CrewWorkingDay, PartnerClosure
from tests.dispatch import conftest as planning_world
from tests.dispatch.conftest import World
from tests.factories import make_user

pytestmark = pytest.mark.django_db
MONDAY = dt.date(2026, 11, 23)
TUESDAY = MONDAY + dt.timedelta(days=1)
WEDNESDAY = MONDAY + dt.timedelta(days=2)


@pytest.fixture(autouse=True)
def _holiday_week(monkeypatch: pytest.MonkeyPatch) -> None:
    """The world plans the week that starts on the holiday."""
    monkeypatch.setattr(planning_world, "MONDAY", MONDAY)


@pytest.fixture
def coordinator() -> Client:
    client = Client()
    client.force_login(make_user(Role.COORDINATOR))
    return client


def cell(page: str, crew_id: int, date: dt.date) -> str:
    """The opening tag and content of one crew-day cell (up to the next cell)."""
    start = page.index(f'data-cell="{crew_id}:{date.isoformat()}"')
    start = page.rindex("<div", 0, start)
    end = page.find('<div role="cell"', start + 1)
    return page[start : end if end != -1 else len(page)]


def head(page: str) -> str:
    return re.search(r'<div class="week-head".*?</div>', page, re.S).group(0)  # type: ignore[union-attr]


def test_the_day_header_names_the_national_holiday(world: World, coordinator: Client) -> None:
    plan = world.plan()
    page = coordinator.get(f"/plans/{plan.pk}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert '<small class="day-label">勤労感謝の日</small>' in head(page)
    english = coordinator.get(f"/plans/{plan.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Labor Thanksgiving Day" in head(english)


def test_the_day_header_names_a_company_closure(world: World, coordinator: Client) -> None:
    CompanyClosure.objects.create(start_date=WEDNESDAY, end_date=WEDNESDAY, name="棚卸")
    plan = world.plan()
    assert '<small class="day-label">棚卸</small>' in head(
        coordinator.get(f"/plans/{plan.pk}/").content.decode()
    )


def test_a_holiday_cell_is_hatched_with_its_reason_and_takes_no_drop(
    world: World, coordinator: Client
) -> None:
    plan = world.plan()
    page = coordinator.get(f"/plans/{plan.pk}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    closed = cell(page, world.east_crew.pk, MONDAY)
    assert 'class="cell off' in closed and 'data-closed="holiday"' in closed
    assert 'title="祝日: 勤労感謝の日"' in closed
    assert 'data-droppable="false"' in closed
    open_cell = cell(page, world.east_crew.pk, TUESDAY)
    assert "off" not in open_cell.split(">", 1)[0] and 'data-droppable="true"' in open_cell


def test_a_crew_marked_working_the_holiday_gets_an_open_cell(
    world: World, coordinator: Client
) -> None:
    CrewWorkingDay.objects.create(crew=world.east_crew, date=MONDAY)
    plan = world.plan()
    page = coordinator.get(f"/plans/{plan.pk}/").content.decode()
    assert 'data-droppable="true"' in cell(page, world.east_crew.pk, MONDAY)
    assert 'data-closed="holiday"' in cell(page, world.west_crew.pk, MONDAY)


def test_closures_and_absences_mark_their_cells(world: World) -> None:
    PartnerClosure.objects.create(
        company=world.company, start_date=TUESDAY, end_date=TUESDAY, reason="社員旅行"
    )
    CompanyClosure.objects.create(start_date=WEDNESDAY, end_date=WEDNESDAY, name="棚卸")
    CrewWorkingDay.objects.create(crew=world.east_crew, date=WEDNESDAY)
    CrewUnavailability.objects.create(
        crew=world.west_crew, start_date=WEDNESDAY, end_date=WEDNESDAY, reason="研修"
    )
    board = board_for(world.plan())
    east, west = world.east_crew.pk, world.west_crew.pk

    def code(crew_id: int, date: dt.date) -> str:
        return board.cells[f"{crew_id}:{date.isoformat()}"].closed_code

    assert code(east, TUESDAY) == code(west, TUESDAY) == "partner"
    assert code(east, WEDNESDAY) == ""  # the extra working day wins over the closure
    assert code(west, WEDNESDAY) == "absence"
    assert board.cells[f"{west}:{WEDNESDAY.isoformat()}"].off_reason == "absent: 研修"
    assert [day.labels for day in board.days][2] == ("棚卸",)
    assert board.days[0].holiday and not board.days[1].holiday


def test_the_fragment_draws_closed_cells_the_same_way(world: World, coordinator: Client) -> None:
    plan = world.plan()
    key = f"{world.east_crew.pk}:{MONDAY.isoformat()}"
    html = coordinator.get(f"/plans/{plan.pk}/fragment/?cell={key}").content.decode()
    assert 'data-closed="holiday"' in html and 'data-droppable="false"' in html


def test_days_gone_by_are_marked_and_take_no_drop(
    world: World, coordinator: Client, settings
) -> None:
    """On Wednesday the board marks Monday and Tuesday as passed; their cells refuse drops."""
    settings.PLANNING_TODAY = WEDNESDAY
    plan = world.plan()

    page = coordinator.get(f"/plans/{plan.pk}/", HTTP_ACCEPT_LANGUAGE="ja").content.decode()

    heads = re.findall(r'<span role="columnheader" class="(day-head[^"]*)"', head(page))
    assert ["gone" in classes.split() for classes in heads] == [True, True, False, False, False]
    assert head(page).count('<small class="day-label">経過</small>') == 2
    for date, gone in ((TUESDAY, True), (WEDNESDAY, False)):
        tuesday_or_wednesday = cell(page, world.east_crew.pk, date)
        assert (" gone" in tuesday_or_wednesday.split(">", 1)[0]) is gone
        assert ('data-droppable="false"' in tuesday_or_wednesday) is gone
