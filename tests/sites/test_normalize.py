"""One normaliser for addresses, names, postal codes and phones (issue 21).

The import made two sites of 芝浦三丁目4番1号 and 芝浦3丁目4-1 while the
support search showed them as one address: both now use ``sites.normalize``.
"""

from __future__ import annotations

import pytest

from sites.normalize import (
    address_key,
    format_phone,
    format_postal_code,
    normalize_postal_code,
    normalize_text,
    parse_phone,
    phone_lookup_values,
)

SHIBAURA = [
    "芝浦三丁目4番1号",
    "芝浦3丁目4-1",
    "芝浦３－４－１",
    "芝浦3-4-1",
    "芝浦3ー4ー1",  # the long vowel mark typed for a dash
    "芝浦３‐４−１",  # noqa: RUF001  (U+2010 hyphen, U+2212 minus)
    "芝浦3–4–1",
    "芝浦 3 - 4 - 1",
    "芝浦三丁目四番一号",
    "芝浦3丁目4番地1",
    "芝浦3丁目4番地の1",
    "〒108-0023 芝浦3-4-1",
    "108-0023 芝浦3丁目4番1号",
]


@pytest.mark.parametrize("written", SHIBAURA)
def test_every_spelling_of_one_address_has_one_key(written: str) -> None:
    assert address_key(written) == "芝浦3-4-1"


def test_kanji_numbers_with_ten() -> None:
    assert address_key("銀座十二丁目二十三番四号") == address_key("銀座12-23-4")


def test_a_building_after_the_number_may_stay() -> None:
    assert address_key("芝浦三丁目4番1号 芝浦ビル5F") == address_key("芝浦3-4-1芝浦ビル5F")
    assert address_key("芝浦3丁目4番地 芝浦ビル") == address_key("芝浦3-4 芝浦ビル")


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("芝浦3-4-1", "芝浦3-4-11"),
        ("芝浦3-4-1", "芝浦3-41"),
        ("芝浦3-4-1", "芝浦3-4-2"),
        ("芝浦3-4-1", "海岸3-4-1"),
        ("三田1-2-3", "3田1-2-3"),  # 三田 is a place, not a number
        ("六本木1-1", "6本木1-1"),
        ("センタービル", "セン-タ-ビル"),
    ],
)
def test_different_addresses_stay_different(one: str, other: str) -> None:
    assert address_key(one) != address_key(other)


def test_kana_folding() -> None:
    assert normalize_text("しらさぎ") == normalize_text("シラサギ") == normalize_text("ｼﾗｻｷﾞ")
    assert normalize_text("山田 商事") == normalize_text("山田　商事") == normalize_text("山田商事")
    assert normalize_text("しらさぎ") != normalize_text("しらさき")


@pytest.mark.parametrize(
    "written", ["160-0004", "1600004", "１６０－０００４", "〒160-0004", "〒 160 0004", "160ー0004"]
)
def test_postal_codes(written: str) -> None:
    assert normalize_postal_code(written) == "1600004"
    assert format_postal_code(written) == "〒160-0004"


@pytest.mark.parametrize("written", ["", "160-004", "16000041", "160-000A", "東京"])
def test_not_postal_codes(written: str) -> None:
    with pytest.raises(ValueError):
        normalize_postal_code(written)


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("0352593118", "03-5259-3118"),
        ("03-5259-3118", "03-5259-3118"),
        ("０３（５２５９）３１１８", "03-5259-3118"),
        ("+81 3 5259 3118", "03-5259-3118"),
        ("+81-3-5259-3118", "03-5259-3118"),
        ("090-1234-5678", "090-1234-5678"),
        ("09012345678", "090-1234-5678"),
        ("0120-123-456", "0120-123-456"),
        ("0422-47-1185", "0422-47-1185"),
    ],
)
def test_phone_numbers_are_stored_in_the_national_format(written: str, stored: str) -> None:
    assert parse_phone(written) == stored


@pytest.mark.parametrize(
    "written", ["", "12345", "03-5259-311", "0352593118999", "+1 650 253 0000", "電話", "abc"]
)
def test_invalid_phone_numbers_are_refused(written: str) -> None:
    with pytest.raises(ValueError):
        parse_phone(written)


def test_a_phone_is_shown_formatted_and_found_by_its_digits() -> None:
    assert format_phone("0352593118") == "03-5259-3118"
    assert format_phone("内線12") == "内線12"
    assert phone_lookup_values("0352593118") == {"0352593118", "03-5259-3118"}
