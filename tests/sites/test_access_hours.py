"""Access hours as a value: validation, canonical JSON, day look-ups, text and visit checks.

The planner, the job drawer, the partner API and iCal all read this type, so
its JSON must be canonical and its errors must say which item and field is
wrong (they are shown to whoever edited the JSON).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sites.access import (
    ALL_DAY_KEYS,
    END_OF_DAY,
    HOLIDAY,
    AccessHours,
    AccessHoursError,
    AccessRange,
    visit_fits,
)

T = dt.time
WEEKDAYS = frozenset(range(5))
MON, TUE, WED, SAT, SUN = 0, 1, 2, 5, 6


def office_hours() -> AccessHours:
    """Mon–Fri 09:00–12:00 and 13:00–17:00, Saturday mornings, closed Sundays and holidays."""
    return AccessHours(
        (
            AccessRange(WEEKDAYS, T(9), T(12)),
            AccessRange(WEEKDAYS, T(13), T(17)),
            AccessRange(frozenset({SAT}), T(9), T(12)),
        )
    )


# -- AccessRange -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "opens", "closes", "field"),
    [
        pytest.param(frozenset(), T(9), T(17), "days", id="no days"),
        pytest.param(frozenset({8}), T(9), T(17), "days", id="day 8"),
        pytest.param(frozenset({-1}), T(9), T(17), "days", id="negative day"),
        pytest.param(frozenset({True}), T(9), T(17), "days", id="bool day"),
        pytest.param(WEEKDAYS, T(17), T(9), "closes", id="closes before opens"),
        pytest.param(WEEKDAYS, T(9), T(9), "closes", id="empty window"),
        pytest.param(WEEKDAYS, END_OF_DAY, END_OF_DAY, "opens", id="opens at 24:00"),
        pytest.param(WEEKDAYS, T(9, 0, 30), T(17), "opens", id="seconds"),
        pytest.param(WEEKDAYS, T(9), T(17, 0, 0, 5), "closes", id="microseconds"),
    ],
)
def test_a_range_rejects_invalid_values_naming_the_field(
    days: frozenset[int], opens: dt.time, closes: dt.time, field: str
) -> None:
    with pytest.raises(AccessHoursError, match=rf"^{field}: "):
        AccessRange(days, opens, closes)


def test_access_hours_errors_are_value_errors() -> None:
    assert issubclass(AccessHoursError, ValueError)


def test_a_range_may_close_at_the_end_of_the_day() -> None:
    assert AccessRange(ALL_DAY_KEYS, T(0), END_OF_DAY).closes == END_OF_DAY


def test_a_range_is_frozen() -> None:
    window = AccessRange(WEEKDAYS, T(9), T(17))
    with pytest.raises(AttributeError):
        window.opens = T(8)  # type: ignore[misc]


# -- AccessHours: normalisation, truthiness, closed days ---------------------------


def test_no_ranges_means_no_restriction() -> None:
    hours = AccessHours()
    assert hours.is_unrestricted
    assert not hours
    assert hours.closed_day_keys() == frozenset()
    assert hours.to_json() == []


def test_any_range_restricts_and_every_other_day_is_closed() -> None:
    hours = AccessHours((AccessRange(WEEKDAYS, T(9), T(17)),))
    assert hours
    assert not hours.is_unrestricted
    assert hours.closed_day_keys() == frozenset({SAT, SUN, HOLIDAY})


def test_the_same_schedule_spelled_differently_is_equal() -> None:
    per_day = AccessHours(tuple(AccessRange(frozenset({d}), T(9), T(17)) for d in range(5)))
    split_and_overlapping = AccessHours(
        (
            AccessRange(frozenset({0, 1, 2}), T(9), T(13)),
            AccessRange(frozenset({3, 4}), T(9), T(17)),
            AccessRange(frozenset({0, 1, 2}), T(12), T(17)),
        )
    )
    whole = AccessHours((AccessRange(WEEKDAYS, T(9), T(17)),))
    assert per_day == split_and_overlapping == whole
    assert hash(per_day) == hash(whole)


def test_touching_windows_merge_but_a_gap_stays() -> None:
    touching = AccessHours(
        (AccessRange(WEEKDAYS, T(9), T(12)), AccessRange(WEEKDAYS, T(12), T(17)))
    )
    assert touching.to_json() == [{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"}]
    assert len(office_hours().ranges) == 2  # 9–12 on Mon–Sat, 13–17 on Mon–Fri


def test_an_explicit_24_7_schedule_is_not_the_same_as_nothing_recorded() -> None:
    always = AccessHours((AccessRange(ALL_DAY_KEYS, T(0), END_OF_DAY),))
    assert always != AccessHours()
    assert always.ranges_on(MON, False) == AccessHours().ranges_on(MON, False)


# -- ranges_on --------------------------------------------------------------------


def test_ranges_on_a_weekday_are_merged_and_sorted() -> None:
    assert office_hours().ranges_on(TUE, is_holiday=False) == ((T(9), T(12)), (T(13), T(17)))
    assert office_hours().ranges_on(SAT, is_holiday=False) == ((T(9), T(12)),)
    assert office_hours().ranges_on(SUN, is_holiday=False) == ()


def test_a_holiday_uses_only_the_holiday_ranges() -> None:
    hours = AccessHours(
        (
            AccessRange(WEEKDAYS, T(9), T(17)),
            AccessRange(frozenset({HOLIDAY}), T(10), T(12)),
        )
    )
    assert hours.ranges_on(MON, is_holiday=True) == ((T(10), T(12)),)
    assert office_hours().ranges_on(MON, is_holiday=True) == ()


def test_unrestricted_hours_are_open_all_day_even_on_holidays() -> None:
    assert AccessHours().ranges_on(SUN, is_holiday=True) == ((T(0), END_OF_DAY),)


@pytest.mark.parametrize("weekday", [-1, 7, 8, True])
def test_ranges_on_wants_a_date_weekday(weekday: int) -> None:
    with pytest.raises(ValueError, match="date_weekday"):
        office_hours().ranges_on(weekday, is_holiday=False)


# -- JSON -------------------------------------------------------------------------


def test_to_json_is_canonical() -> None:
    assert office_hours().to_json() == [
        {"days": [0, 1, 2, 3, 4, 5], "opens": "09:00", "closes": "12:00"},
        {"days": [0, 1, 2, 3, 4], "opens": "13:00", "closes": "17:00"},
    ]


def test_end_of_day_is_written_as_24_00() -> None:
    hours = AccessHours((AccessRange(frozenset({SAT}), T(18), END_OF_DAY),))
    assert hours.to_json() == [{"days": [5], "opens": "18:00", "closes": "24:00"}]


@pytest.mark.parametrize(
    "hours",
    [
        pytest.param(AccessHours(), id="unrestricted"),
        pytest.param(office_hours(), id="office"),
        pytest.param(AccessHours((AccessRange(ALL_DAY_KEYS, T(0), END_OF_DAY),)), id="24/7"),
        pytest.param(
            AccessHours((AccessRange(frozenset({HOLIDAY, SUN}), T(10, 30), T(15, 45)),)),
            id="minutes",
        ),
    ],
)
def test_json_round_trip(hours: AccessHours) -> None:
    assert AccessHours.from_json(hours.to_json()) == hours


def test_from_json_merges_overlaps_and_accepts_short_hours() -> None:
    hours = AccessHours.from_json(
        [
            {"days": [0, 0, 1], "opens": "9:00", "closes": "13:00"},
            {"closes": "17:00", "opens": "12:00", "days": [1, 0]},
        ]
    )
    assert hours.to_json() == [{"days": [0, 1], "opens": "09:00", "closes": "17:00"}]


GOOD: dict[str, Any] = {"days": [0], "opens": "09:00", "closes": "17:00"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param({"days": [0]}, "access hours: must be a list", id="not a list"),
        pytest.param(None, "access hours: must be a list", id="None"),
        pytest.param("平日 9:00-17:00", "access hours: must be a list", id="free text"),
        pytest.param([GOOD, "x"], "[1]: must be an object", id="item not an object"),
        pytest.param([{**GOOD, "note": "x"}], "[0].note: unknown field", id="unknown field"),
        pytest.param([{"days": [0], "opens": "09:00"}], "[0].closes: is required", id="missing"),
        pytest.param([{**GOOD, "days": 0}], "[0].days: must be a list", id="days not a list"),
        pytest.param([{**GOOD, "days": "0"}], "[0].days: must be a list", id="days a string"),
        pytest.param([{**GOOD, "days": []}], "[0].days: must name at least", id="no days"),
        pytest.param([{**GOOD, "days": [8]}], "[0].days: 8 is not a day key", id="day 8"),
        pytest.param([{**GOOD, "days": ["mon"]}], "[0].days: 'mon' is not", id="day name"),
        pytest.param([{**GOOD, "days": [True]}], "[0].days: True is not", id="bool day"),
        pytest.param([{**GOOD, "opens": "9"}], "[0].opens: must be a time HH:MM", id="no mins"),
        pytest.param([{**GOOD, "opens": 900}], "[0].opens: must be a time HH:MM", id="int"),
        pytest.param([{**GOOD, "opens": "24:00"}], "[0].opens: must be a time", id="opens 24"),
        pytest.param([{**GOOD, "opens": "09:60"}], "[0].opens: must be a time", id="minute 60"),
        pytest.param([{**GOOD, "closes": "25:00"}], "[0].closes: must be a time", id="hour 25"),
        pytest.param(
            [GOOD, {**GOOD, "opens": "17:00", "closes": "09:00"}],
            "[1].closes: must be a time HH:MM after opens",
            id="closes before opens",
        ),
        pytest.param(
            [{**GOOD, "closes": "09:00"}],
            "[0].closes: must be a time HH:MM after opens",
            id="empty window",
        ),
    ],
)
def test_from_json_names_the_item_and_field_of_every_error(value: object, message: str) -> None:
    with pytest.raises(AccessHoursError) as raised:
        AccessHours.from_json(value)
    assert str(raised.value).startswith(message)


@pytest.mark.parametrize(
    ("value", "japanese"),
    [
        ([{**GOOD, "days": [8]}], "[0].days: 8 は曜日キーではありません"),
        ([{**GOOD, "closes": "09:00"}], "[0].closes: 開始時刻（opens）より後の"),
        ({"days": [0]}, "access hours: 時間帯のリストで指定してください"),
    ],
)
def test_the_same_errors_read_in_japanese_with_the_path_unchanged(
    value: object, japanese: str
) -> None:
    from django.utils import translation

    from sites.access_errors import access_error_text

    with pytest.raises(AccessHoursError) as raised:
        AccessHours.from_json(value)
    with translation.override("ja"):
        assert access_error_text(raised.value).startswith(japanese)
    with translation.override("en"):
        assert access_error_text(raised.value) == str(raised.value)


# -- describe ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("json", "english", "japanese"),
    [
        pytest.param(
            [],
            "Any time",
            "制限なし",
            id="unrestricted",
        ),
        pytest.param(
            [{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"}],
            "Mon–Fri 09:00–17:00; closed Sat, Sun, holidays",
            "平日 9:00〜17:00（土日祝休）",
            id="office",
        ),
        pytest.param(
            [
                {"days": [0, 1, 2, 3, 4, 5], "opens": "09:00", "closes": "12:00"},
                {"days": [0, 1, 2, 3, 4], "opens": "13:00", "closes": "17:00"},
            ],
            "Mon–Fri 09:00–12:00, 13:00–17:00; Sat 09:00–12:00; closed Sun, holidays",
            "平日 9:00〜12:00、13:00〜17:00\uff0f土 9:00〜12:00（日祝休）",
            id="lunch break and saturday morning",
        ),
        pytest.param(
            [{"days": [0, 1, 2, 3, 4, 5, 6, 7], "opens": "08:00", "closes": "20:00"}],
            "Daily 08:00–20:00",
            "毎日 8:00〜20:00",
            id="daily",
        ),
        pytest.param(
            [{"days": [0, 1, 3, 4, 5, 6, 7], "opens": "09:00", "closes": "17:00"}],
            "Mon, Tue, Thu–Sun, holidays 09:00–17:00; closed Wed",
            "月・火・木〜日・祝 9:00〜17:00（水休）",
            id="closed wednesdays",
        ),
        pytest.param(
            [{"days": [5, 6, 7], "opens": "10:00", "closes": "16:00"}],
            "Sat, Sun, holidays 10:00–16:00; closed Mon–Fri",
            "土日祝 10:00〜16:00（月〜金休）",
            id="weekends only",
        ),
        pytest.param(
            [{"days": [0, 1, 2, 3, 4, 5, 6, 7], "opens": "00:00", "closes": "24:00"}],
            "Open 24 hours, every day",
            "24時間（年中無休）",
            id="24/7",
        ),
        pytest.param(
            [{"days": [0, 1, 2, 3, 4], "opens": "00:00", "closes": "24:00"}],
            "Mon–Fri 24 hours; closed Sat, Sun, holidays",
            "平日 24時間（土日祝休）",
            id="weekdays any time",
        ),
    ],
)
def test_describe(json: list[dict[str, Any]], english: str, japanese: str) -> None:
    hours = AccessHours.from_json(json)
    assert hours.describe() == english
    assert hours.describe("en") == english
    assert hours.describe("ja") == japanese
    assert hours.describe("ja-JP") == japanese


# -- visit_fits -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("weekday", "is_holiday", "start", "end", "fits"),
    [
        pytest.param(MON, False, T(9), T(11), True, id="inside the morning"),
        pytest.param(MON, False, T(9), T(12), True, id="exactly the morning"),
        pytest.param(MON, False, T(8, 30), T(10), False, id="starts before opening"),
        pytest.param(MON, False, T(11), T(14), False, id="spans the lunch break"),
        pytest.param(MON, False, T(16), T(17, 30), False, id="runs past closing"),
        pytest.param(SAT, False, T(10), T(11), True, id="saturday morning"),
        pytest.param(SAT, False, T(13), T(14), False, id="saturday afternoon"),
        pytest.param(SUN, False, T(10), T(11), False, id="sunday closed"),
        pytest.param(WED, True, T(10), T(11), False, id="holiday on a wednesday"),
    ],
)
def test_visit_fits_needs_the_whole_visit_in_one_window(
    weekday: int, is_holiday: bool, start: dt.time, end: dt.time, fits: bool
) -> None:
    assert visit_fits(office_hours(), weekday, is_holiday, start, end) is fits


def test_any_visit_fits_unrestricted_hours() -> None:
    assert visit_fits(AccessHours(), SUN, True, T(22), END_OF_DAY)


def test_a_visit_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        visit_fits(office_hours(), MON, False, T(10), T(10))
