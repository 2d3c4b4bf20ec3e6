"""The week's crew-days shared among region plans: the pure rule, no database."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import pytest

from dispatch.regions import (
    NO_CREW_DAYS,
    CrewDaySlot,
    CrewInfo,
    RegionDemand,
    Requirement,
    crew_day_scope,
    free_crew_days,
    partition_crew_days,
    region_shares,
)

MONDAY = dt.date(2026, 11, 23)
WEEK = [MONDAY + dt.timedelta(days=i) for i in range(5)]
DAY = 450.0  # minutes of work and driving in one crew-day

CENTRAL = (35.68, 139.76)
SAITAMA = (35.90, 139.62)  # about 27 km north of CENTRAL


def slots(crews: list[CrewInfo], dates: list[dt.date] = WEEK) -> list[CrewDaySlot]:
    return [CrewDaySlot(crew, date, DAY) for crew, date in free_crew_days(crews, dates)]


def days_of(assignment: dict, crew_id: int) -> Counter:
    return Counter(code for (crew, _), code in assignment.items() if crew == crew_id)


def test_a_crew_serving_two_regions_is_split_and_every_crew_day_is_given_once() -> None:
    both = CrewInfo(1, ("central", "saitama"), home=CENTRAL)
    only_central = CrewInfo(2, ("central",), home=CENTRAL)
    crews = [both, only_central]
    regions = [
        RegionDemand("central", 5 * DAY / 1.25, (CENTRAL,)),
        RegionDemand("saitama", 4 * DAY / 1.25, (SAITAMA,)),
    ]
    crew_days = slots(crews)

    assignment = partition_crew_days(crews, crew_days, regions)

    assert set(assignment) == {slot.key for slot in crew_days}, "every crew-day, once"
    assert days_of(assignment, 2) == {"central": 5}, "a one-region crew keeps its days"
    split = days_of(assignment, 1)
    assert split["saitama"] == 4 and split["central"] == 1
    scopes = [crew_day_scope(assignment, code) for code in ("central", "saitama")]
    assert not {tuple(p) for p in scopes[0]} & {tuple(p) for p in scopes[1]}
    assert len(scopes[0]) + len(scopes[1]) == len(crew_days)


def test_demand_is_balanced_against_the_capacity_already_given() -> None:
    """Equidistant shared crews: capacity follows demand, 3 to 1."""
    middle = (35.79, 139.69)
    crews = [CrewInfo(i, ("central", "saitama"), home=middle) for i in range(1, 9)]
    regions = [
        RegionDemand("central", 30 * DAY / 1.25, (CENTRAL,)),
        RegionDemand("saitama", 10 * DAY / 1.25, (SAITAMA,)),
    ]
    assignment = partition_crew_days(crews, slots(crews), regions)

    given = Counter(assignment.values())
    assert given == {"central": 30, "saitama": 10}
    for date in WEEK:  # and day by day, not all of a region's days at the start
        that_day = Counter(code for (_, d), code in assignment.items() if d == date)
        assert that_day == {"central": 6, "saitama": 2}


def test_scarce_capacity_is_shared_in_proportion_to_demand() -> None:
    middle = (35.79, 139.69)
    crews = [CrewInfo(i, ("central", "saitama"), home=middle) for i in range(1, 5)]
    regions = [  # 60 crew-days of work for 20 crew-days
        RegionDemand("central", 45 * DAY / 1.25, (CENTRAL,)),
        RegionDemand("saitama", 15 * DAY / 1.25, (SAITAMA,)),
    ]
    given = Counter(partition_crew_days(crews, slots(crews), regions).values())
    assert given == {"central": 15, "saitama": 5}


def test_once_every_region_has_its_share_crews_stay_nearest_home() -> None:
    """Plenty of capacity: each shared crew works in the region its home base is in."""
    north = CrewInfo(1, ("central", "saitama"), home=(35.91, 139.63))
    south = CrewInfo(2, ("central", "saitama"), home=(35.67, 139.75))
    crews = [north, south]
    regions = [
        RegionDemand("central", 3 * DAY / 1.25, (CENTRAL,)),
        RegionDemand("saitama", 3 * DAY / 1.25, (SAITAMA,)),
    ]
    assignment = partition_crew_days(crews, slots(crews), regions)
    assert days_of(assignment, 1) == {"saitama": 5}
    assert days_of(assignment, 2) == {"central": 5}


def test_a_region_is_as_near_as_its_nearest_jobs_not_the_centre_of_all_of_them() -> None:
    """Kanagawa and Saitama are one region whose centre lies in central Tokyo."""
    kawasaki = (35.53, 139.70)
    kanagawa = tuple((35.53 - i * 0.01, 139.70 - i * 0.005) for i in range(4))
    saitama = tuple((35.90 + i * 0.01, 139.62) for i in range(4))
    straddling = RegionDemand("kanagawa-saitama", 4 * DAY / 1.25, kanagawa + saitama)
    central = RegionDemand("central", 5 * DAY / 1.25, (CENTRAL,) * 4)
    reach = straddling.reach_km(kawasaki)
    assert reach is not None and reach < 3
    crews = [
        CrewInfo(1, ("central", "kanagawa-saitama"), home=kawasaki),
        CrewInfo(2, ("central",), home=CENTRAL),
    ]
    assignment = partition_crew_days(crews, slots(crews), [straddling, central])
    assert days_of(assignment, 1) == {"kanagawa-saitama": 5}


def test_work_only_some_crews_can_do_pulls_one_of_those_crews() -> None:
    """Central has capacity to spare, but not for its aerial job: the specialist goes there."""
    aerial = Requirement(frozenset({"aerial_cabling"}))
    specialist = CrewInfo(
        1, ("central", "saitama"), home=SAITAMA, skills=frozenset({"aerial_cabling"})
    )
    locals_ = [CrewInfo(i, ("central",), home=CENTRAL) for i in (2, 3)]
    crews = [specialist, *locals_]
    central = RegionDemand(
        "central", 2 * DAY / 1.25, (CENTRAL,), {Requirement(): 2 * DAY / 1.25 - 180, aerial: 180}
    )
    saitama = RegionDemand("saitama", 3 * DAY / 1.25, (SAITAMA,))
    assignment = partition_crew_days(crews, slots(crews), [central, saitama])
    assert days_of(assignment, 1)["central"] >= 1

    without_skill = [RegionDemand("central", 2 * DAY / 1.25, (CENTRAL,)), saitama]
    assert days_of(partition_crew_days(crews, slots(crews), without_skill), 1) == {"saitama": 5}


def test_a_small_far_region_still_gets_a_crew_day_for_its_work() -> None:
    """An unplanned job costs more than a drive: one hour of work is worth a crew-day there."""
    crews = [CrewInfo(i, ("central", "saitama"), home=CENTRAL) for i in (1, 2)]
    regions = [
        RegionDemand("central", 4 * DAY / 1.25, (CENTRAL,)),
        RegionDemand("saitama", 60, (SAITAMA,)),
    ]
    given = Counter(partition_crew_days(crews, slots(crews), regions).values())
    assert given["saitama"] == 1 and given["central"] == 9


def test_a_region_without_ready_work_gets_no_shared_crew_day() -> None:
    crews = [CrewInfo(1, ("central", "saitama"), home=SAITAMA)]
    regions = [RegionDemand("central", 60, (CENTRAL,)), RegionDemand("saitama", 0)]
    assignment = partition_crew_days(crews, slots(crews), regions)
    assert set(assignment.values()) == {"central"}
    assert crew_day_scope(assignment, "saitama") == NO_CREW_DAYS


def test_the_partition_is_deterministic_whatever_the_input_order() -> None:
    rng = random.Random(7)
    codes = ("central", "east", "west", "saitama")
    crews = [
        CrewInfo(
            i,
            tuple(rng.sample(codes, rng.randint(1, 3))),
            home=(35.6 + rng.random() * 0.3, 139.5 + rng.random() * 0.4),
        )
        for i in range(1, 31)
    ]
    regions = [
        RegionDemand(code, rng.randint(5, 40) * 100, ((35.6 + k * 0.08, 139.5 + k * 0.1),))
        for k, code in enumerate(codes)
    ]
    crew_days = slots(crews)
    first = partition_crew_days(crews, crew_days, regions)
    for _ in range(3):
        shuffled = rng.sample(crew_days, len(crew_days))
        again = partition_crew_days(
            rng.sample(crews, len(crews)), shuffled, rng.sample(regions, len(regions))
        )
        assert again == first
    assert set(first) == {slot.key for slot in crew_days}
    for (crew_id, _), code in first.items():
        assert code in crews[crew_id - 1].regions, "a crew-day only goes to a region it serves"


def test_crew_days_the_ledger_holds_time_off_and_rest_days_are_not_shared() -> None:
    crew = CrewInfo(1, ("central", "saitama"), home=CENTRAL, working_weekdays=frozenset({0, 1}))
    days = free_crew_days(
        [crew],
        WEEK,
        off={1: [(WEEK[1], WEEK[1])]},
        held={(1, WEEK[0])},
    )
    assert days == [], "Monday is held by a published plan, Tuesday off, the rest not worked"
    free = free_crew_days([CrewInfo(2, ("central",), home=CENTRAL)], WEEK, held={(2, WEEK[2])})
    assert free == [(2, d) for d in WEEK if d != WEEK[2]]


def test_pinned_crew_days_stay_with_their_region_and_count_as_given() -> None:
    crews = [CrewInfo(1, ("central", "saitama"), home=CENTRAL)]
    regions = [RegionDemand("central", 100, (CENTRAL,)), RegionDemand("saitama", 100, (SAITAMA,))]
    pinned = {(1, day): "saitama" for day in WEEK[:4]}
    assignment = partition_crew_days(crews, slots(crews), regions, pinned=pinned)
    assert [assignment[(1, day)] for day in WEEK] == ["saitama"] * 4 + ["central"]


def test_shares_report_days_shared_days_capacity_and_demand() -> None:
    crews = [CrewInfo(1, ("central", "saitama"), home=CENTRAL), CrewInfo(2, ("central",), CENTRAL)]
    regions = [RegionDemand("central", 600, (CENTRAL,)), RegionDemand("saitama", 300, (SAITAMA,))]
    crew_days = slots(crews)
    shares = region_shares(
        partition_crew_days(crews, crew_days, regions), crew_days, crews, regions
    )
    assert shares["central"].crew_days + shares["saitama"].crew_days == 10
    assert shares["saitama"].shared_crew_days == shares["saitama"].crew_days
    assert shares["central"].as_dict()["demand_hours"] == 10.0


@pytest.mark.parametrize(
    ("crews", "crew_days", "message"),
    [
        ([CrewInfo(1, ("mars",), CENTRAL)], [CrewDaySlot(1, MONDAY, DAY)], "serves none"),
        ([], [CrewDaySlot(1, MONDAY, DAY)], "unknown crew"),
        (
            [CrewInfo(1, ("central",), CENTRAL)],
            [CrewDaySlot(1, MONDAY, DAY), CrewDaySlot(1, MONDAY, DAY)],
            "listed twice",
        ),
    ],
)
def test_inconsistent_input_is_refused(
    crews: list[CrewInfo], crew_days: list[CrewDaySlot], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        partition_crew_days(crews, crew_days, [RegionDemand("central", 100, (CENTRAL,))])
