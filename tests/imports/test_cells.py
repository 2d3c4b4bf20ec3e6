"""How single cells are read: what coordinators type, and what they are told when it is wrong."""

from __future__ import annotations

import datetime as dt

import pytest

from delivery.imports.cells import (
    CellError,
    format_weekdays,
    normalise_address,
    parse_date,
    parse_phone,
    parse_postal_code,
    parse_time,
    parse_weekdays,
    text_of,
)


@pytest.mark.parametrize(
    ("typed", "days"),
    [
        ("Mon-Fri", [0, 1, 2, 3, 4]),
        ("月-金", [0, 1, 2, 3, 4]),
        ("月〜金", [0, 1, 2, 3, 4]),
        ("Mon,Tue,Sat", [0, 1, 5]),
        ("mon, wed , FRI", [0, 2, 4]),
        ("月・水・金", [0, 2, 4]),
        ("月水金", [0, 2, 4]),
        ("月曜日、土曜日", [0, 5]),
        ("Fri-Mon", [0, 4, 5, 6]),
        ("平日", [0, 1, 2, 3, 4]),
        ("毎日", [0, 1, 2, 3, 4, 5, 6]),
        ("Tuesday-Thursday", [1, 2, 3]),
    ],
)
def test_working_days_are_read_in_english_and_japanese(typed: str, days: list[int]) -> None:
    assert parse_weekdays(typed) == sum(1 << day for day in days)


@pytest.mark.parametrize("typed", ["Mon-Funday", "週3", "Mon--Fri", "月-"])
def test_unreadable_working_days_say_what_would_work(typed: str) -> None:
    with pytest.raises(CellError, match=r"is not a list of working days \(e\.g\. Mon-Fri, 月-金"):
        parse_weekdays(typed)


@pytest.mark.parametrize("mask", range(1, 128))
def test_every_set_of_working_days_survives_export_and_import(mask: int) -> None:
    assert parse_weekdays(format_weekdays(mask)) == mask


def test_working_days_are_exported_compactly() -> None:
    assert format_weekdays(0b0011111) == "Mon-Fri"
    assert format_weekdays(0b1100001) == "Mon,Sat,Sun"


@pytest.mark.parametrize(
    "typed",
    ["2026-11-23", "2026/11/23", "2026/11/23 0:00", "2026年11月23日", "２０２６/１１/２３"],
)
def test_dates_as_japanese_spreadsheets_write_them(typed: str) -> None:
    assert parse_date(typed) == dt.date(2026, 11, 23)


def test_a_date_cell_from_excel_is_a_date() -> None:
    assert parse_date(dt.datetime(2026, 11, 23)) == dt.date(2026, 11, 23)


@pytest.mark.parametrize("typed", ["2026/13/01", "2026-02-30", "来週", "23/11/2026"])
def test_impossible_dates_are_refused(typed: str) -> None:
    with pytest.raises(CellError, match="is not a date"):
        parse_date(typed)


@pytest.mark.parametrize("typed", ["8:30", "08:30", "08:30:00", "８：３０", dt.time(8, 30)])
def test_times_of_day(typed: str | dt.time) -> None:
    assert parse_time(typed) == dt.time(8, 30)


@pytest.mark.parametrize("typed", ["108-0023", "1080023", "〒108-0023", "１０８－００２３"])
def test_postal_codes_are_stored_as_7_digits(typed: str) -> None:
    assert parse_postal_code(typed) == "1080023"


def test_a_postal_code_in_a_number_cell_gets_its_leading_zero_back() -> None:
    assert parse_postal_code(600001) == "0600001"


def test_a_phone_number_in_a_number_cell_is_refused_rather_than_guessed() -> None:
    with pytest.raises(CellError, match="loses the leading 0; format the column as text"):
        parse_phone(312345678)


def test_the_quote_our_exports_put_before_formula_like_text_is_removed() -> None:
    assert text_of("'+81-3-5555-0004") == "+81-3-5555-0004"
    assert text_of("'quoted") == "'quoted"


def test_addresses_compare_without_width_spaces_or_dash_style() -> None:
    assert normalise_address("東京都港区芝浦３丁目４−１") == normalise_address(
        "東京都港区 芝浦3丁目4-1"
    )
    assert normalise_address("東京都港区芝浦3丁目4ー1") == normalise_address(
        "東京都港区芝浦3丁目4-1"
    )
    assert normalise_address("センタービル") != normalise_address("セン-タ-ビル")
