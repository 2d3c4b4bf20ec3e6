"""Access hours read from the way property managers and surveyors actually write them.

Each row is a spelling seen in surveys or building notices. What matters as
much as reading the clear ones is *not* reading the unclear ones: anything
about days or times that could mean two things must come back in
``unparsed`` so a human decides, instead of the planner trusting a guess.
"""

from __future__ import annotations

from typing import Any

import pytest

from sites.access import AccessHours
from sites.access_text import ParsedAccess, parse_access_text

WEEKDAYS = [0, 1, 2, 3, 4]
EVERY_DAY = [0, 1, 2, 3, 4, 5, 6, 7]  # Monday ... Sunday and holidays


def window(days: list[int], opens: str, closes: str) -> dict[str, Any]:
    return {"days": days, "opens": opens, "closes": closes}


NINE_TO_FIVE_WEEKDAYS = [window(WEEKDAYS, "09:00", "17:00")]
NINE_TO_FIVE_DAILY = [window(EVERY_DAY, "09:00", "17:00")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("平日 9:00–17:00", NINE_TO_FIVE_WEEKDAYS, id="weekdays en dash"),
        pytest.param("平日 9:00〜17:00", NINE_TO_FIVE_WEEKDAYS, id="weekdays wave dash"),
        pytest.param("９：００～１７：００", NINE_TO_FIVE_DAILY, id="full-width"),
        pytest.param("9時～17時", NINE_TO_FIVE_DAILY, id="ji"),
        pytest.param("9時から17時まで", NINE_TO_FIVE_DAILY, id="kara made"),
        pytest.param("9:00ー17:00", NINE_TO_FIVE_DAILY, id="long vowel mark as dash"),
        pytest.param("9:00—17:00", NINE_TO_FIVE_DAILY, id="em dash"),
        pytest.param(
            "9時半〜17時", [window(EVERY_DAY, "09:30", "17:00")], id="han means half past"
        ),
        pytest.param("8時30分〜17時15分", [window(EVERY_DAY, "08:30", "17:15")], id="ji and fun"),
        pytest.param(
            "9:00-12:00、13:00-17:00",
            [window(EVERY_DAY, "09:00", "12:00"), window(EVERY_DAY, "13:00", "17:00")],
            id="two windows",
        ),
        pytest.param(
            "平日 9:00-12:00、13:00-17:00",
            [window(WEEKDAYS, "09:00", "12:00"), window(WEEKDAYS, "13:00", "17:00")],
            id="two windows keep their days",
        ),
        pytest.param("午前9時〜午後5時", NINE_TO_FIVE_DAILY, id="gozen gogo"),
        pytest.param("午後1時〜5時", [window(EVERY_DAY, "13:00", "17:00")], id="gogo carries over"),
        pytest.param("土日 10:00-16:00", [window([5, 6], "10:00", "16:00")], id="weekend"),
        pytest.param("土日祝 10-16", [window([5, 6, 7], "10:00", "16:00")], id="bare hours"),
        pytest.param("月〜金 9:00-17:00", NINE_TO_FIVE_WEEKDAYS, id="mon to fri wave"),
        pytest.param("月-金 9:00〜17:00", NINE_TO_FIVE_WEEKDAYS, id="mon to fri hyphen"),
        pytest.param("月曜から金曜まで9時から17時まで", NINE_TO_FIVE_WEEKDAYS, id="spelled out"),
        pytest.param(
            "月・水・金 10:00〜15:00", [window([0, 2, 4], "10:00", "15:00")], id="nakaguro"
        ),
        pytest.param("月水金 10時〜15時", [window([0, 2, 4], "10:00", "15:00")], id="run"),
        pytest.param("月、水、金 10-15", [window([0, 2, 4], "10:00", "15:00")], id="touten"),
        pytest.param("金〜月 10-18", [window([0, 4, 5, 6], "10:00", "18:00")], id="wraps"),
        pytest.param("毎日 8:00〜20:00", [window(EVERY_DAY, "08:00", "20:00")], id="mainichi"),
        pytest.param("年中無休", [window(EVERY_DAY, "00:00", "24:00")], id="nenju mukyu"),
        pytest.param("24時間", [window(EVERY_DAY, "00:00", "24:00")], id="24 hours"),
        pytest.param("24時間365日", [window(EVERY_DAY, "00:00", "24:00")], id="24/365"),
        pytest.param("土日祝不可", [window(WEEKDAYS, "00:00", "24:00")], id="weekends not ok"),
        pytest.param("土日祝休館", [window(WEEKDAYS, "00:00", "24:00")], id="kyukan"),
        pytest.param(
            "日曜・祝日休み", [window([0, 1, 2, 3, 4, 5], "00:00", "24:00")], id="sun hol off"
        ),
        pytest.param(
            "定休日：水曜", [window([0, 1, 3, 4, 5, 6, 7], "00:00", "24:00")], id="teikyubi"
        ),
        pytest.param("入館は平日のみ", [window(WEEKDAYS, "00:00", "24:00")], id="days only"),
        pytest.param("平日9-17時", NINE_TO_FIVE_WEEKDAYS, id="compact"),
        pytest.param("9:00~17:00(土日祝除く)", NINE_TO_FIVE_WEEKDAYS, id="nozoku"),
        pytest.param("9:00〜17:00（土日祝日除く）", NINE_TO_FIVE_WEEKDAYS, id="nozoku full"),
        pytest.param("平日（祝日除く）9:00〜17:00", NINE_TO_FIVE_WEEKDAYS, id="heijitsu paren"),
        pytest.param("平日9-17 土日祝休み", NINE_TO_FIVE_WEEKDAYS, id="hours then closed"),
        pytest.param(
            "平日9:00～17:00／土日祝休み",  # noqa: RUF001
            NINE_TO_FIVE_WEEKDAYS,
            id="slash",
        ),
        pytest.param(
            "管理人在室時間 9:00〜17:00（水曜定休）",
            [window([0, 1, 3, 4, 5, 6, 7], "09:00", "17:00")],
            id="manager on site",
        ),
        pytest.param(
            "毎日9-17、水曜定休",
            [window([0, 1, 3, 4, 5, 6, 7], "09:00", "17:00")],
            id="daily closed wednesdays",
        ),
        pytest.param(
            "平日9:00〜18:00／土曜9:00〜12:00／日祝休み",  # noqa: RUF001
            [window(WEEKDAYS, "09:00", "18:00"), window([5], "09:00", "12:00")],
            id="saturday mornings",
        ),
        pytest.param(
            "平日 8:30〜17:30\n土日祝 10:00〜15:00",
            [window(WEEKDAYS, "08:30", "17:30"), window([5, 6, 7], "10:00", "15:00")],
            id="one line per day type",
        ),
        pytest.param(
            "月〜土 9:00〜18:00（日祝休み）",
            [window([0, 1, 2, 3, 4, 5], "09:00", "18:00")],
            id="mon to sat",
        ),
        pytest.param("平日のみ。9:00〜17:00", NINE_TO_FIVE_WEEKDAYS, id="days and time apart"),
        pytest.param("0:00〜24:00", [window(EVERY_DAY, "00:00", "24:00")], id="midnight"),
        pytest.param("作業可能時間：9時〜17時", NINE_TO_FIVE_DAILY, id="label"),
        pytest.param(
            "火曜日～土曜日 10:00～19:00",
            [window([1, 2, 3, 4, 5], "10:00", "19:00")],
            id="youbi range",
        ),
        pytest.param("月曜日・水曜日 9-17", [window([0, 2], "09:00", "17:00")], id="youbi list"),
        pytest.param("AM9:00〜PM5:00", NINE_TO_FIVE_DAILY, id="am pm"),
        pytest.param("9:00〜17:00 平日のみ", NINE_TO_FIVE_WEEKDAYS, id="days after time"),
        pytest.param(
            "水曜日は終日不可",
            [window([0, 1, 3, 4, 5, 6, 7], "00:00", "24:00")],
            id="closed all day",
        ),
        pytest.param(
            "祝日は休館、平日9:00〜20:00、土日9:00〜17:00",
            [window(WEEKDAYS, "09:00", "20:00"), window([5, 6], "09:00", "17:00")],
            id="holidays closed first",
        ),
    ],
)
def test_real_world_spellings(text: str, expected: list[dict[str, Any]]) -> None:
    parsed = parse_access_text(text)
    assert parsed.hours.to_json() == expected
    assert parsed.unparsed == ()
    assert parsed.notes == ""


@pytest.mark.parametrize(
    ("text", "expected", "notes"),
    [
        pytest.param(
            "平日 9:00〜17:00。鍵は管理人室で受け取り、エレベーター要予約",
            NINE_TO_FIVE_WEEKDAYS,
            "鍵は管理人室で受け取り、エレベーター要予約",
            id="hours then notes",
        ),
        pytest.param(
            "平日 8:30〜17:30\n※作業前に管理会社へ連絡",
            [window(WEEKDAYS, "08:30", "17:30")],
            "※作業前に管理会社へ連絡",
            id="note on its own line",
        ),
        pytest.param(
            "9:00〜17:00（鍵は管理人室）",
            NINE_TO_FIVE_DAILY,
            "鍵は管理人室",
            id="note in brackets",
        ),
        pytest.param(
            "駐車不可；9:00〜17:00；エレベーター要予約",
            NINE_TO_FIVE_DAILY,
            "駐車不可\nエレベーター要予約",
            id="notes around hours",
        ),
    ],
)
def test_hours_with_notes(text: str, expected: list[dict[str, Any]], notes: str) -> None:
    parsed = parse_access_text(text)
    assert parsed.hours.to_json() == expected
    assert parsed.notes == notes
    assert parsed.unparsed == ()


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("鍵は管理人室で受け取り", id="key"),
        pytest.param("エレベーター要予約", id="elevator"),
        pytest.param("鍵は管理人室（1F）で受け取り", id="brackets stay verbatim"),
        pytest.param("管理人 03-1234-5678", id="phone number is not a time"),
        pytest.param("2-3名で作業", id="head count is not a time"),
        pytest.param("月額 3000円", id="getsugaku is not monday"),
        pytest.param("鍵の受け渡しは要相談", id="hedge about something else"),
        pytest.param("土足禁止、駐車不可", id="dosoku is not saturday"),
    ],
)
def test_notes_only(text: str) -> None:
    parsed = parse_access_text(text)
    assert parsed == ParsedAccess(hours=AccessHours(), notes=text, unparsed=())


@pytest.mark.parametrize(
    ("text", "unparsed", "expected"),
    [
        pytest.param("土曜は午前のみ", ("土曜は午前のみ",), [], id="morning has no start"),
        pytest.param("午前中のみ", ("午前中のみ",), [], id="gozenchu"),
        pytest.param("17時以降不可", ("17時以降不可",), [], id="only a closing time"),
        pytest.param("9時から", ("9時から",), [], id="only an opening time"),
        pytest.param("17時まで", ("17時まで",), [], id="only until"),
        pytest.param("夜間", ("夜間",), [], id="night"),
        pytest.param("夜間不可", ("夜間不可",), [], id="no night work"),
        pytest.param("日中のみ", ("日中のみ",), [], id="daytime"),
        pytest.param("応相談", ("応相談",), [], id="negotiable"),
        pytest.param("要確認", ("要確認",), [], id="to be confirmed"),
        pytest.param("土日は応相談", ("土日は応相談",), [], id="weekend negotiable"),
        pytest.param("9:00〜17:00（要確認）", ("9:00〜17:00（要確認）",), [], id="hedged hours"),
        pytest.param("22:00〜6:00", ("22:00〜6:00",), [], id="across midnight"),
        pytest.param("午後12時〜5時", ("午後12時〜5時",), [], id="gogo 12 is ambiguous"),
        pytest.param("12:00〜13:00不可", ("12:00〜13:00不可",), [], id="closed time"),
        pytest.param("第2土曜休み", ("第2土曜休み",), [], id="nth saturday"),
        pytest.param("年末年始休み", ("年末年始休み",), [], id="new year"),
        pytest.param("休日不可", ("休日不可",), [], id="kyujitsu"),
        pytest.param("土日祝も可 9-17", ("土日祝も可 9-17",), [], id="mo means other days too"),
        pytest.param("週末のみ 10時〜", ("週末のみ 10時〜",), [], id="open end"),
        pytest.param("騒音作業は10時〜16時", ("騒音作業は10時〜16時",), [], id="other subject"),
        pytest.param("平日 9:00〜17:00 土曜", ("平日 9:00〜17:00 土曜",), [], id="day no time"),
        pytest.param(
            "平日 9:00〜17:00、土曜は午前のみ",
            ("土曜は午前のみ",),
            NINE_TO_FIVE_WEEKDAYS,
            id="clear part kept",
        ),
        pytest.param(
            "平日 10時〜16時（12時〜13時除く）",
            ("12時〜13時除く",),
            [window(WEEKDAYS, "10:00", "16:00")],
            id="lunch break",
        ),
        pytest.param(
            "平日9:00~17:00 / 13:00~15:00",
            ("13:00~15:00",),
            NINE_TO_FIVE_WEEKDAYS,
            id="days unclear after slash",
        ),
        pytest.param(
            "平日9:00〜17:00、年中無休",
            ("年中無休",),
            NINE_TO_FIVE_WEEKDAYS,
            id="contradiction",
        ),
    ],
)
def test_unclear_spellings_are_flagged_not_guessed(
    text: str, unparsed: tuple[str, ...], expected: list[dict[str, Any]]
) -> None:
    parsed = parse_access_text(text)
    assert parsed.unparsed == unparsed
    assert parsed.hours.to_json() == expected
    assert parsed.notes == ""


def test_empty_text_is_unrestricted() -> None:
    assert parse_access_text("") == ParsedAccess(AccessHours(), "", ())
    assert parse_access_text(" \n　").hours.is_unrestricted


def test_hours_notes_and_unparsed_together() -> None:
    parsed = parse_access_text(
        "管理人在室時間 9:00〜17:00（水曜定休）\n夜間不可\n鍵は管理人室で受け取り"
    )
    assert parsed.hours.to_json() == [window([0, 1, 3, 4, 5, 6, 7], "09:00", "17:00")]
    assert parsed.unparsed == ("夜間不可",)
    assert parsed.notes == "鍵は管理人室で受け取り"
    assert parsed.hours.describe("ja") == "月・火・木〜日・祝 9:00〜17:00（水休）"


def test_parsing_is_deterministic() -> None:
    text = "土日祝 10-16、平日 9:00-12:00、13:00-17:00／水曜定休。鍵は管理人室"  # noqa: RUF001
    results = {repr(parse_access_text(text)) for _ in range(20)}
    assert len(results) == 1
    parsed = parse_access_text(text)
    assert parsed.hours.to_json() == [
        window([0, 1, 3, 4], "09:00", "12:00"),
        window([0, 1, 3, 4], "13:00", "17:00"),
        window([5, 6, 7], "10:00", "16:00"),
    ]
    assert parsed.notes == "鍵は管理人室"


@pytest.mark.parametrize(
    "text",
    ["〜", "9", "::", "月", "祝", "（", "24", "午前", "ー", "9時〜", "〜17時", "平日、、", "/／/"],  # noqa: RUF001
)
def test_odd_fragments_never_raise(text: str) -> None:
    parsed = parse_access_text(text)
    assert isinstance(parsed.hours, AccessHours)
