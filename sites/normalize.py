"""Normalising what people type and what the database holds, so the two meet.

The one place that decides when two spellings of an address, a name, a phone
number or a postal code mean the same thing. It lives in ``sites`` (the
lowest layer that owns addresses and customers) so that the support search,
the spreadsheet import and the order page all import the same functions: when
each had its own, the import made two sites of one building that the support
search showed as one address (issue 21).

A customer on the phone reads out "ゼロサン、イチニサンヨン…", the operator types
``03 1234 5678`` or ``０３－１２３４－５６７８``; the import wrote
``+81-3-1234-5678``. An address is written ``芝浦三丁目4番1号`` on one form and
``芝浦3-4-1`` on another. A name arrives in hiragana, full-width katakana or
half-width katakana. Every function here maps all the spellings of one thing
to one string, and the search index stores only those strings: the same
function runs on both sides, so it only has to be *consistent*, never
linguistically perfect (``一番町`` becomes ``1-町``; so does the query).

Pure functions, no Django: they are used by the indexer, the search, the
import and the benchmark's data generator alike.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from functools import lru_cache
from typing import Any

import jaconv
import phonenumbers

#: Dashes people (and OCR, and Excel) put between address numbers and phone groups.
#: Not ー: after kana it is a long vowel (センター), and only between digits a dash.
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u2043\ufe58\ufe63\uff0d\u2500\u2501"
_DASH_RE = re.compile(f"[{_DASHES}]")
_SPACE_RE = re.compile(r"\s+")

#: Small kana written large in legal names (キヤノン) and small elsewhere: compare them large.
_SMALL_KANA = str.maketrans("ァィゥェォッャュョヮヵヶ", "アイウエオツヤユヨワカケ")

#: Company forms, dropped from name keys so "山田商事" finds "株式会社山田商事" by its start.
_COMPANY_FORMS = (
    "株式会社",
    "有限会社",
    "合同会社",
    "合資会社",
    "合名会社",
    "一般社団法人",
    "一般財団法人",
    "社会福祉法人",
    "医療法人",
    "税理士法人",
    "弁護士法人",
    "司法書士法人",
    "行政書士法人",
    "監査法人",
    "学校法人",
    "宗教法人",
    "特定非営利活動法人",
    "npo法人",
    "カブシキガイシヤ",
    "カブシキカイシヤ",
    "ユウゲンガイシヤ",
    "ゴウドウガイシヤ",
    "(株)",
    "(有)",
    "(合)",
)

_KANJI_DIGITS = {
    "\u3007": 0,  # 〇, the kanji zero
    "零": 0,
    "一": 1,
    "二": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_KANJI_NUMBER = "〇零一二三四五六七八九十百"
#: A kanji number only counts as a number right before an address marker:
#: 三田 (Mita) and 六本木 (Roppongi) are place names, 三丁目 is "3-".
_KANJI_BEFORE_MARKER_RE = re.compile(
    f"([{_KANJI_NUMBER}]+)(?=丁目|番地|番|号|の[0-9{_KANJI_NUMBER}])"
)
_CHOME_RE = re.compile(r"(\d+)丁目")
_BANCHI_RE = re.compile(r"(\d+)番地?(?:の)?")
_GO_RE = re.compile(r"(\d+)号")
_NO_BETWEEN_DIGITS_RE = re.compile(r"(?<=\d)の(?=\d)")
_DASH_BETWEEN_DIGITS_RE = re.compile(r"(?<=\d)\s*[-ー]\s*(?=\d)")
_REPEATED_DASH_RE = re.compile(r"-{2,}")
#: 霞が関 / 霞ヶ関 / 霞ケ関: the same place, spelled three ways.
_GA_BETWEEN_KANJI_RE = re.compile(r"(?<=[\u4e00-\u9fff])[がガヶヵケ](?=[\u4e00-\u9fff])")


def nfkc(text: str) -> str:
    """Unicode NFKC: full-width ASCII to half-width, half-width kana to full-width, ㈱ to (株)."""
    return unicodedata.normalize("NFKC", text or "")


def normalize_kana(text: str) -> str:
    """One form for kana: full-width katakana, small kana written large.

    Hiragana, half-width katakana and full-width katakana all end up the same,
    so "やまだ", "ﾔﾏﾀﾞ" and "ヤマダ" are one search key.
    """
    return jaconv.hira2kata(nfkc(text)).translate(_SMALL_KANA)


def normalize_text(text: str) -> str:
    """Names and free text: NFKC, kana unified, Latin lower-cased, no spaces or middle dots.

    Spaces go because people split Japanese names anywhere ("山田 商事",
    "山田商事"); the middle dot goes for the same reason ("ヤマダ・ショウジ").
    """
    folded = _DASH_RE.sub("-", normalize_kana(text).lower())
    return _SPACE_RE.sub("", folded).replace("・", "")


_COMPANY_FORM_RE = re.compile("|".join(re.escape(form.lower()) for form in _COMPANY_FORMS))


def normalize_name_key(text: str) -> str:
    """A name as an exact/prefix search key: :func:`normalize_text` without the company form."""
    return _COMPANY_FORM_RE.sub("", normalize_text(text))


def _kanji_to_int(numeral: str) -> int:
    """十二 -> 12, 三十 -> 30, 百五 -> 105, 二〇 -> 20 (digit by digit when there is no 十/百)."""
    if "十" not in numeral and "百" not in numeral:
        return int("".join(str(_KANJI_DIGITS[c]) for c in numeral))
    total, current = 0, 0
    for char in numeral:
        if char == "百":
            total += (current or 1) * 100
            current = 0
        elif char == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = _KANJI_DIGITS[char]
    return total + current


def normalize_address(text: str) -> str:
    """One spelling per address: ``東京都港区芝浦三丁目４番地の１号`` -> ``東京都港区芝浦3-4-1``.

    Steps: NFKC (full-width digits and dashes); kanji numerals right before
    丁目/番地/番/号 to digits; 丁目, 番地, 番 and の between numbers to "-", 号
    dropped; every dash variant between digits to "-"; が/ヶ/ケ between kanji
    to ケ; spaces removed. A query typed as ``芝浦3丁目`` becomes ``芝浦3-``,
    which is a substring of the stored ``芝浦3-4-1`` but not of ``芝浦31-2``.
    """
    value = nfkc(text)
    value = _DASH_RE.sub("-", value)
    value = _KANJI_BEFORE_MARKER_RE.sub(lambda m: str(_kanji_to_int(m.group(1))), value)
    value = _NO_BETWEEN_DIGITS_RE.sub("-", value)
    value = _CHOME_RE.sub(r"\1-", value)
    value = _BANCHI_RE.sub(r"\1-", value)
    value = _GO_RE.sub(r"\1", value)
    value = _SPACE_RE.sub("", value)
    value = _DASH_BETWEEN_DIGITS_RE.sub("-", value)
    value = _REPEATED_DASH_RE.sub("-", value)
    value = _GA_BETWEEN_KANJI_RE.sub("ケ", jaconv.hira2kata(value))
    return value.lower()


#: A postal code written before the address: "〒108-0023 東京都…", "108-0023 東京都…".
_LEADING_POSTAL_RE = re.compile(r"^(?:〒\s*\d{3}-?\d{4}|\d{3}-\d{4}(?=\s|[^\d\s-]))\s*")
#: A dash left by 番地/番/丁目 when no number follows it ("4番地 芝浦ビル").
_DANGLING_DASH_RE = re.compile(r"(?<=\d)-(?=\D|$)")


def address_key(text: str) -> str:
    """The key two spellings of one building's address share, for de-duplication.

    :func:`normalize_address` plus: a leading postal code (with or without 〒)
    is dropped, and so is a dash no number follows (``芝浦3丁目4番地`` and
    ``芝浦3-4`` are one place). The search keeps that dash (a query
    ``芝浦3丁目`` must not find ``芝浦31``); a key compares whole addresses.
    """
    value = _LEADING_POSTAL_RE.sub("", nfkc(text).strip())
    return _DANGLING_DASH_RE.sub("", normalize_address(value))


def normalize_phone(text: str) -> str:
    """Digits only, in the domestic form: ``+81 (0)3-1234-5678`` -> ``0312345678``.

    Full-width digits, hyphens, spaces, dots and parentheses are dropped. A
    country code 81 (written ``+81``, ``0081`` or, in a number too long to be
    domestic, a bare ``81``) becomes the trunk prefix 0. Short fragments
    ("5678") are left alone: they are searched as parts of numbers.
    """
    value = nfkc(text).strip()
    digits = re.sub(r"\D", "", value)
    if not digits:
        return ""
    international = value.startswith("+") or digits.startswith("0081")
    if digits.startswith("0081"):
        digits = digits[2:]
    if digits.startswith("81") and (international or len(digits) in (11, 12)):
        rest = digits[2:]
        digits = rest if rest.startswith("0") else "0" + rest
    return digits


def looks_like_phone(text: str) -> bool:
    """Digits with only phone punctuation around them (at least 3 digits)."""
    value = nfkc(text)
    return bool(re.fullmatch(r"[\d\s()+.\-" + _DASHES + r"]+", value)) and (
        sum(c.isdigit() for c in value) >= 3
    )


def normalize_id(text: str) -> str:
    """Contract and circuit ids: upper-case ASCII letters and digits only (``c-1 0`` -> ``C10``)."""
    return re.sub(r"[^0-9A-Z]", "", nfkc(text).upper())


def looks_like_id(text: str) -> bool:
    """ASCII letters, digits and separators with at least one digit: worth an id lookup."""
    value = nfkc(text).strip()
    return bool(re.fullmatch(r"[0-9A-Za-z\s\-_/.]+", value)) and any(c.isdigit() for c in value)


@lru_cache(maxsize=1)
def _kakasi() -> Any:
    # Loaded once per process (about half a second); only the indexer needs it.
    import pykakasi

    return pykakasi.kakasi()


def kana_reading(text: str) -> str:
    """A katakana reading of a kanji name (``芝浦第3ビル`` -> ``シバウラダイ3ビル``).

    A dictionary guess, used only to index names whose reading nobody typed
    in, so that an operator who hears the name can type what they hear.
    """
    if not text or not re.search(r"[\u4e00-\u9fff]", text):
        return ""
    reading = "".join(part["kana"] for part in _kakasi().convert(nfkc(text)))
    return normalize_kana(reading)


def query_tokens(text: str) -> list[str]:
    """The words of a query, split on any kind of space (full-width included)."""
    return [token for token in _SPACE_RE.split(nfkc(text).strip()) if token]


# --- postal codes ---------------------------------------------------------------------

_POSTAL_RE = re.compile(r"〒?\s*(\d{3})\s*[-ー]?\s*(\d{4})")


def normalize_postal_code(text: str) -> str:
    """The stored form of a Japanese postal code: 7 digits (``〒１６０－０００４`` -> ``1600004``).

    Accepts full-width digits, any dash, 〒 and spaces: the forms people copy
    from letters and web pages. Raises :class:`ValueError` for anything else,
    so the API and the import refuse the same inputs.
    """
    value = _DASH_RE.sub("-", nfkc(text).strip())
    match = _POSTAL_RE.fullmatch(value)
    if match is None:
        raise ValueError(f"{text!r} is not a postal code")
    return match.group(1) + match.group(2)


def format_postal_code(code: str) -> str:
    """``1600004`` -> ``〒160-0004``, as it is printed on letters; other text unchanged."""
    try:
        digits = normalize_postal_code(code)
    except ValueError:
        return code or ""
    return f"〒{digits[:3]}-{digits[3:]}"


# --- phone numbers --------------------------------------------------------------------


def parse_phone(text: str) -> str:
    """A Japanese phone number in its stored form, the national format: ``03-5259-3118``.

    Stored national rather than E.164 because people read it (the drawer, the
    support card, exports) and because its digits are the domestic digits the
    support index and the import's customer matching compare
    (:func:`normalize_phone`, ``phone_digits``), so search by digits works on
    old and new rows alike. Accepts full-width digits, brackets, spaces and
    ``+81``; raises :class:`ValueError` for a number that is not a valid
    Japanese one.
    """
    value = nfkc(text).strip()
    try:
        number = phonenumbers.parse(value, "JP")
    except phonenumbers.NumberParseException:
        raise ValueError(f"{text!r} is not a phone number") from None
    if number.country_code != 81 or not phonenumbers.is_valid_number(number):
        raise ValueError(f"{text!r} is not a valid Japanese phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def format_phone(text: str) -> str:
    """A stored phone number as people read it (``0352593118`` -> ``03-5259-3118``).

    Rows written before numbers were formatted on the way in are shown
    formatted too; text that is not a valid number is shown as stored.
    """
    try:
        return parse_phone(text)
    except ValueError:
        return text or ""


def phone_lookup_values(text: str) -> set[str]:
    """The stored forms an exact phone lookup must try: as typed, and formatted.

    Numbers are stored formatted, older rows may hold the bare digits.
    """
    values = {text.strip(), normalize_phone(text)}
    with contextlib.suppress(ValueError):
        values.add(parse_phone(text))
    return {value for value in values if value}
