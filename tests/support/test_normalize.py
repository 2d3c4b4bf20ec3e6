"""Every spelling of one phone number, address or name normalises to the same string."""

from __future__ import annotations

import pytest

from support.normalize import (
    kana_reading,
    looks_like_id,
    looks_like_phone,
    normalize_address,
    normalize_id,
    normalize_kana,
    normalize_name_key,
    normalize_phone,
    normalize_text,
)


@pytest.mark.parametrize(
    "written",
    [
        "03-1234-5678",
        "0312345678",
        "03 1234 5678",
        "03(1234)5678",
        "(03)1234-5678",
        "０３－１２３４－５６７８",
        "０３（１２３４）５６７８",
        "03‐1234‐5678",  # U+2010 hyphen, as Word writes it  # noqa: RUF001
        "03−1234−5678",  # U+2212 minus, as Excel writes it
        "03ー1234ー5678",  # katakana long mark typed for a dash
        "+81-3-1234-5678",
        "+81 3 1234 5678",
        "+81 (0)3 1234 5678",
        "+813-1234-5678",
        "81312345678",
        "0081-3-1234-5678",
        "tel: 03.1234.5678",
    ],
)
def test_every_spelling_of_a_tokyo_landline_is_the_same_number(written: str) -> None:
    assert normalize_phone(written) == "0312345678"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("090-1234-5678", "09012345678"),
        ("+81 90 1234 5678", "09012345678"),
        ("819012345678", "09012345678"),
        ("045(678)9012", "0456789012"),
        ("０４６６－２２－３３４４", "0466223344"),
        ("0120-123-456", "0120123456"),
        ("5678", "5678"),  # a fragment stays a fragment
        ("8123", "8123"),  # short numbers starting with 81 are not country codes
        ("", ""),
        ("なし", ""),
    ],
)
def test_mobile_free_dial_and_fragments_keep_their_digits(written: str, expected: str) -> None:
    assert normalize_phone(written) == expected


@pytest.mark.parametrize(
    "written",
    [
        "東京都港区芝浦3丁目4番1号",
        "東京都港区芝浦三丁目4番1号",
        "東京都港区芝浦三丁目四番一号",
        "東京都港区芝浦3丁目4番地1",
        "東京都港区芝浦3丁目4番地の1",
        "東京都港区芝浦3-4-1",
        "東京都港区芝浦３－４－１",
        "東京都港区芝浦３丁目４−１",
        "東京都港区芝浦3ー4ー1",
        "東京都 港区 芝浦 3-4-1",
        "東京都港区芝浦3の4の1",
    ],
)
def test_chome_banchi_go_and_dash_spellings_of_one_address_agree(written: str) -> None:
    assert normalize_address(written) == "東京都港区芝浦3-4-1"


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("千代田区霞が関1丁目2番3号", "千代田区霞ケ関1-2-3"),
        ("千代田区霞ヶ関１－２－３", "千代田区霞ケ関1-2-3"),
        ("千代田区霞ケ関1-2-3", "千代田区霞ケ関1-2-3"),
        ("港区六本木六丁目10番1号", "港区六本木6-10-1"),
        ("港区三田二丁目十二番地", "港区三田2-12-"),  # 三田 is a name, 二丁目 a number
        ("中央区銀座十丁目", "中央区銀座10-"),
        ("芝浦3丁目4-1 芝浦センタービル5F", "芝浦3-4-1芝浦センタービル5f"),
    ],
)
def test_place_names_keep_their_kanji_and_long_marks(written: str, expected: str) -> None:
    assert normalize_address(written) == expected


def test_a_partial_chome_address_is_a_substring_of_the_full_one_but_not_of_a_longer_number() -> (
    None
):
    query = normalize_address("芝浦三丁目")
    assert query in normalize_address("東京都港区芝浦3丁目4番1号")
    assert query not in normalize_address("東京都港区芝浦31-2")


@pytest.mark.parametrize(
    "written",
    [
        "ヤマダショウジ",
        "やまだしょうじ",
        "ﾔﾏﾀﾞｼｮｳｼﾞ",
        "ヤマダ ショウジ",
        "ヤマダ・ショウジ",
        "ヤマダ　ショウジ",
    ],
)
def test_hiragana_half_width_and_spaced_kana_are_one_name(written: str) -> None:
    assert normalize_text(written) == "ヤマダシヨウジ"


def test_small_kana_compare_as_large_so_legal_spellings_match() -> None:
    assert normalize_kana("キャノン") == normalize_kana("キヤノン")


@pytest.mark.parametrize(
    "written", ["株式会社山田商事", "山田商事株式会社", "㈱山田商事", "(株)山田商事", "山田 商事"]
)
def test_the_company_form_is_not_part_of_a_name_key(written: str) -> None:
    assert normalize_name_key(written) == "山田商事"


def test_latin_names_fold_case_and_width() -> None:
    assert normalize_text("ＡＢＣ Ｃｏｒｐ") == normalize_text("abc corp") == "abccorp"  # noqa: RUF001


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("KN-2024-000123", "KN2024000123"),
        ("kn 2024 000123", "KN2024000123"),
        ("ＫＮ－２０２４", "KN2024"),  # noqa: RUF001
    ],
)
def test_contract_ids_ignore_case_width_and_separators(written: str, expected: str) -> None:
    assert normalize_id(written) == expected


def test_what_looks_like_a_phone_or_an_id() -> None:
    assert looks_like_phone("03-1234-5678") and looks_like_phone("（０３）１２３４")
    assert not looks_like_phone("芝浦3-4") and not looks_like_phone("12")
    assert looks_like_id("KN-2024-1") and looks_like_id("0456")
    assert not looks_like_id("山田") and not looks_like_id("ABC")


def test_a_kanji_name_gets_a_katakana_reading_for_the_index() -> None:
    assert kana_reading("山田商事") == "ヤマダシヨウジ"
    assert kana_reading("ヤマダ") == ""  # nothing to read
