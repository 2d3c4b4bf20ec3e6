"""Reading one spreadsheet cell into a typed value, and columns by any of their names.

Cells come from CSV (always text) or from Excel (text, numbers, dates, times),
typed by hand in Japanese or English, with full-width digits, ``2026/11/23``
dates and phone numbers that Excel turned into numbers. Every parser accepts
what a coordinator plausibly typed and otherwise raises :class:`CellError`
with a sentence saying what is wrong and what would be right.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from dispatch.promises import TIME_SLOTS
from dispatch.states import JobKind
from sites.access_text import ParsedAccess, parse_access_text
from sites.normalize import address_key, normalize_phone, normalize_postal_code
from sites.normalize import parse_phone as parse_japanese_phone

Cell = str | int | float | bool | dt.datetime | dt.date | dt.time | dt.timedelta | None
"""A raw cell as the CSV or the workbook gives it."""

#: Characters that make a spreadsheet treat a text cell as a formula.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class CellError(ValueError):
    """A cell's value cannot be used; the message says why in plain words."""


@dataclass(frozen=True)
class Column:
    """One column of a file format.

    ``label`` is the English header the export writes (and errors name);
    ``names`` are the other headers accepted for it, Japanese ones included.
    """

    field: str
    label: str
    names: tuple[str, ...]
    parse: Callable[[Cell], object]
    required: bool = False

    @property
    def japanese(self) -> str:
        return self.names[0]


@functools.cache
def _japanese_titles() -> dict[str, str]:
    from . import crews, orders  # they define their columns with this module's helpers

    return {column.label: column.japanese for column in (*orders.COLUMNS, *crews.COLUMNS)}


def column_title(label: str | None) -> str:
    """A column as the user's language calls it: the Japanese header in Japanese.

    Errors and changes name columns by their English ``label`` (the API's stable
    name); people read them in the language of the page, as the header they
    would type (``納期`` for ``due date``). Unknown labels come back unchanged.
    """
    if not label:
        return ""
    if not (get_language() or "").startswith("ja"):
        return label
    return _japanese_titles().get(label, label)


def header_key(text: object) -> str:
    """A header reduced to what matters: width, case, spaces and punctuation do not."""
    normalised = unicodedata.normalize("NFKC", str(text)).casefold()
    return re.sub(r"[\s_\-\u2010・/().:,、]+", "", normalised)


def match_columns(
    columns: Iterable[Column], header: list[Cell]
) -> tuple[dict[int, Column], list[str], list[str]]:
    """Map header positions to columns.

    Returns ``(position -> column, unknown headers, duplicate-column messages)``.
    """
    by_name: dict[str, Column] = {}
    for column in columns:
        for name in (column.field, column.label, *column.names):
            by_name[header_key(name)] = column
    found: dict[int, Column] = {}
    seen: dict[str, str] = {}
    unknown: list[str] = []
    duplicates: list[str] = []
    for position, cell in enumerate(header):
        title = text_of(cell)
        if not title:
            continue
        match = by_name.get(header_key(title))
        if match is None:
            unknown.append(title)
        elif match.field in seen:
            duplicates.append(
                _("the columns '%(first)s' and '%(second)s' both mean '%(column)s'")
                % {"first": seen[match.field], "second": title, "column": match.label}
            )
        else:
            seen[match.field] = title
            found[position] = match
    return found, unknown, duplicates


# --- cells to values ------------------------------------------------------------------


def text_of(cell: Cell) -> str:
    """A cell as trimmed text; numbers as Excel would show them (``12345``, not ``12345.0``)."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime | dt.date | dt.time):
        return cell.isoformat()
    text = str(cell).strip()
    # Our exports put a quote before text a spreadsheet would run as a formula.
    if len(text) > 1 and text[0] == "'" and text[1] in FORMULA_TRIGGERS:
        text = text[1:]
    return text


def is_blank(cell: Cell) -> bool:
    return text_of(cell) == ""


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip()


def parse_text(max_length: int) -> Callable[[Cell], str]:
    def parse(cell: Cell) -> str:
        text = text_of(cell)
        if len(text) > max_length:
            raise CellError(
                ngettext(
                    "is %(length)d characters long; at most %(max)d fits",
                    "is %(length)d characters long; at most %(max)d fit",
                    max_length,
                )
                % {"length": len(text), "max": max_length}
            )
        return text

    return parse


def parse_code(max_length: int) -> Callable[[Cell], str]:
    """Identifiers (contract id, circuit id): full-width letters and digits made plain."""

    def parse(cell: Cell) -> str:
        return parse_text(max_length)(_nfkc(text_of(cell)))

    return parse


def parse_phone(cell: Cell) -> str:
    """A Japanese phone number, stored as ``03-5259-3118`` however it was written."""
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        # Excel drops the leading 0 of a phone number typed into a number
        # cell; guessing it back would put a wrong number in front of support.
        raise CellError(
            _(
                "%(value)s was stored as a number, which loses the leading 0; "
                "format the column as text"
            )
            % {"value": text_of(cell)}
        )
    text = _nfkc(text_of(cell))
    if len(text) > 32:
        raise CellError(_("'%(value)s' is too long for a phone number") % {"value": text})
    if not re.fullmatch(r"[0-9+()\- ]+", text):
        raise CellError(
            _("'%(value)s' is not a phone number (digits, spaces, '-', '+', '()')")
            % {"value": text}
        )
    try:
        # Stored in the national format, as the API stores it (sites.normalize).
        return parse_japanese_phone(text)
    except ValueError:
        raise CellError(
            _("'%(value)s' is not a valid Japanese phone number") % {"value": text}
        ) from None


def phone_digits(phone: str) -> str:
    """The domestic digits customers are matched by: ``+81 3…``, ``03-…`` and ``03…`` alike."""
    return normalize_phone(phone)


def parse_postal_code(cell: Cell) -> str:
    """A postal code as 7 digits: ``160-0004``, ``〒１６０－０００４``, ``1600004`` alike."""
    if isinstance(cell, int) and not isinstance(cell, bool) and 0 <= cell <= 9_999_999:
        # A number cell lost the leading zeros of e.g. 060-0001 (Sapporo).
        return f"{cell:07d}"
    try:
        return normalize_postal_code(text_of(cell))
    except ValueError:
        text = _nfkc(text_of(cell))
        raise CellError(
            _("'%(value)s' is not a postal code (7 digits, e.g. 108-0023)") % {"value": text}
        ) from None


_DATE = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?")


def parse_date(cell: Cell) -> dt.date:
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    text = _nfkc(text_of(cell))
    match = _DATE.fullmatch(text)
    if match:
        try:
            return dt.date(*(int(part) for part in match.groups()))
        except ValueError:
            pass
    raise CellError(
        _("'%(value)s' is not a date (write it as YYYY-MM-DD, e.g. 2026-11-23)")
        % {"value": text_of(cell)}
    )


def parse_time(cell: Cell) -> dt.time:
    if isinstance(cell, dt.datetime):
        return cell.time()
    if isinstance(cell, dt.time):
        return cell
    text = _nfkc(text_of(cell))
    match = re.fullmatch(r"(\d{1,2})(?::|時)(\d{2})(?::(\d{2}))?分?", text)
    if match:
        hour, minute, second = (int(part or 0) for part in match.groups())
        if hour < 24 and minute < 60 and second < 60:
            return dt.time(hour, minute, second)
    raise CellError(
        _("'%(value)s' is not a time of day (write it as HH:MM, e.g. 08:30)")
        % {"value": text_of(cell)}
    )


def _number_text(cell: Cell) -> str:
    return _nfkc(text_of(cell)).replace(",", "")


def _not_whole(cell: Cell) -> str:
    return _("'%(value)s' is not a whole number") % {"value": text_of(cell)}


def parse_int(minimum: int, maximum: int) -> Callable[[Cell], int]:
    def parse(cell: Cell) -> int:
        text = _number_text(cell)
        try:
            number = float(text) if isinstance(cell, float) else int(text)
        except ValueError:
            raise CellError(_not_whole(cell)) from None
        if isinstance(number, float):
            if not number.is_integer():
                raise CellError(_not_whole(cell))
            number = int(number)
        if not minimum <= number <= maximum:
            raise CellError(
                _("%(value)s is out of range (%(min)s to %(max)s)")
                % {"value": number, "min": minimum, "max": maximum}
            )
        return number

    return parse


def parse_float(minimum: float, maximum: float) -> Callable[[Cell], float]:
    def parse(cell: Cell) -> float:
        try:
            number = float(cell) if isinstance(cell, int | float) else float(_number_text(cell))
        except ValueError:
            raise CellError(_("'%(value)s' is not a number") % {"value": text_of(cell)}) from None
        if not math.isfinite(number) or not minimum <= number <= maximum:
            raise CellError(
                _("%(value)s is out of range (%(min)s to %(max)s)")
                % {"value": text_of(cell), "min": f"{minimum:g}", "max": f"{maximum:g}"}
            )
        return number

    return parse


# --- job kinds ------------------------------------------------------------------------

_KINDS: dict[str, str] = {
    header_key(name): kind
    for kind, names in {
        JobKind.NEW_LINE: ("new_line", "new line", "new", "新規", "新規開通", "新設"),
        JobKind.PLAN_CHANGE: ("plan_change", "plan change", "コース変更", "プラン変更"),
        JobKind.RELOCATION: ("relocation", "office relocation", "移転", "移設"),
        JobKind.MAINTENANCE: ("maintenance", "maintenance visit", "保守", "保守訪問"),
    }.items()
    for name in names
}


def parse_kind(cell: Cell) -> str:
    kind = _KINDS.get(header_key(text_of(cell)))
    if kind is None:
        raise CellError(
            _(
                "'%(value)s' is not a kind of job (new_line / 新規, plan_change / コース変更, "
                "relocation / 移転, maintenance / 保守)"
            )
            % {"value": text_of(cell)}
        )
    return kind


# --- working weekdays -----------------------------------------------------------------

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_JAPANESE_DAYS = "月火水木金土日"
_ENGLISH_DAYS: dict[str, int] = {
    **{name.lower(): day for day, name in enumerate(WEEKDAY_NAMES)},
    **{
        name: day
        for day, names in enumerate(
            (
                ("monday",),
                ("tues", "tuesday"),
                ("weds", "wednesday"),
                ("thur", "thurs", "thursday"),
                ("friday",),
                ("saturday",),
                ("sunday",),
            )
        )
        for name in names
    },
}
_ALL_DAYS = 0b1111111
_SPECIAL_DAYS = {
    "毎日": _ALL_DAYS,
    "daily": _ALL_DAYS,
    "everyday": _ALL_DAYS,
    "平日": 0b0011111,
    "weekdays": 0b0011111,
}


def _one_day(token: str) -> int | None:
    token = token.removesuffix("曜日").removesuffix("曜")
    if token in _ENGLISH_DAYS:
        return _ENGLISH_DAYS[token]
    if len(token) == 1 and token in _JAPANESE_DAYS:
        return _JAPANESE_DAYS.index(token)
    return None


def parse_weekdays(cell: Cell) -> int:
    """Working days as a bit mask (Monday = 1).

    Accepts ``Mon-Fri``, ``月-金``, ``Mon,Tue,Sat``, ``月水金``, ``平日``, ``毎日``.
    """
    original = text_of(cell)
    text = _nfkc(original).casefold()
    if text.replace(" ", "") in _SPECIAL_DAYS:
        return _SPECIAL_DAYS[text.replace(" ", "")]
    mask = 0
    for token in re.split(r"[\s,、・/]+", text):
        if not token:
            continue
        ends = re.split("\\s*[-~\u301c\u2013\u2014]\\s*", token)  # -, ~, 〜, en/em dash
        if len(ends) == 2:
            first, last = _one_day(ends[0]), _one_day(ends[1])
            if first is None or last is None:
                break
            day = first
            while True:  # ranges may wrap around the week: Fri-Mon
                mask |= 1 << day
                if day == last:
                    break
                day = (day + 1) % 7
            continue
        single = _one_day(token)
        if single is not None:
            mask |= 1 << single
        elif len(ends) == 1 and all(char in _JAPANESE_DAYS for char in token):
            for char in token:  # 月水金
                mask |= 1 << _JAPANESE_DAYS.index(char)
        else:
            break
    else:
        if mask:
            return mask
    raise CellError(
        _("'%(value)s' is not a list of working days (e.g. Mon-Fri, 月-金, Mon,Tue,Sat or 月水金)")
        % {"value": original}
    )


def format_weekdays(mask: int) -> str:
    """The mask as the import reads it back: runs of 3+ days as ``Mon-Fri``, others listed."""
    parts: list[str] = []
    day = 0
    while day < 7:
        if not mask & (1 << day):
            day += 1
            continue
        end = day
        while end + 1 < 7 and mask & (1 << (end + 1)):
            end += 1
        if end - day >= 2:
            parts.append(f"{WEEKDAY_NAMES[day]}-{WEEKDAY_NAMES[end]}")
        else:
            parts.extend(WEEKDAY_NAMES[d] for d in range(day, end + 1))
        day = end + 1
    return ",".join(parts)


def parse_codes(cell: Cell) -> list[str]:
    """Comma-separated codes (``fibre_splicing, aerial``; Japanese commas too), without repeats."""
    codes: list[str] = []
    for code in re.split(r"[\s,、;]+", _nfkc(text_of(cell))):
        if code and code not in codes:
            codes.append(code)
    return codes


# --- addresses ------------------------------------------------------------------------


def normalise_address(address: str) -> str:
    """The form two spellings of one building's address share.

    The support search's rules (:func:`sites.normalize.address_key`): kanji
    numbers before 丁目/番/号, 丁目/番地/番/号 against hyphens, full-width
    digits, every dash, spaces and a leading postal code must not turn one
    building into two sites.
    """
    return address_key(address)


def parse_access(cell: Cell) -> ParsedAccess:
    """A building's access hours as people write them (平日9:00〜17:00、土日祝不可).

    Whatever the parser cannot read is refused with the fragments named:
    planning against a guess sends a crew to a locked door.
    """
    text = text_of(cell)
    parsed = parse_access_text(text)
    if parsed.unparsed:
        fragments = "、".join(f"「{part}」" for part in parsed.unparsed)
        raise CellError(
            _(
                "could not read %(fragments)s as access hours; write them like "
                "平日9:00〜17:00 or 土日祝不可, and put anything else in the work instructions"
            )
            % {"fragments": fragments}
        )
    return parsed


_DATE_LIST_SEPARATORS = re.compile(r"\s*[,、，;；]\s*|\s+")


def parse_dates(cell: Cell) -> list[dt.date]:
    """Several dates in one cell (``2026-12-07、2026-12-08``), sorted, without repeats."""
    if isinstance(cell, dt.date | dt.datetime):
        return [parse_date(cell)]
    text = _nfkc(text_of(cell))
    parts = [part for part in _DATE_LIST_SEPARATORS.split(text) if part]
    dates = set()
    for part in parts:
        try:
            dates.add(parse_date(part))
        except CellError:
            raise CellError(
                _(
                    "'%(value)s' is not a date; list dates as YYYY-MM-DD separated by commas "
                    "(e.g. 2026-12-07, 2026-12-08)"
                )
                % {"value": part}
            ) from None
    return sorted(dates)


#: The customer slots people name instead of times.
NAMED_SLOTS: dict[str, tuple[dt.time, dt.time]] = {
    "am": TIME_SLOTS["am"],
    "午前": TIME_SLOTS["am"],
    "午前中": TIME_SLOTS["am"],
    "pm": TIME_SLOTS["pm"],
    "午後": TIME_SLOTS["pm"],
}


_SLOT = re.compile(r"(\d{1,2})(?:[:時](\d{2})?分?)?\s*[-~〜]\s*(\d{1,2})(?:[:時](\d{2})?分?)?")


def parse_time_slot(cell: Cell) -> tuple[dt.time, dt.time]:
    """The customer's arrival slot: AM/午前 (9-12), PM/午後 (13-17) or e.g. ``10:00-12:00``."""
    text = _nfkc(text_of(cell))
    named = NAMED_SLOTS.get(text.casefold().replace(" ", ""))
    if named is not None:
        return named
    match = _SLOT.fullmatch(text)
    if match:
        start_h, start_m, end_h, end_m = (int(part or 0) for part in match.groups())
        if start_h < 24 and end_h < 24 and start_m < 60 and end_m < 60:
            start, end = dt.time(start_h, start_m), dt.time(end_h, end_m)
            if start < end:
                return start, end
    raise CellError(
        _("'%(value)s' is not a time slot (AM, PM, 午前, 午後, or e.g. 10:00-12:00)")
        % {"value": text_of(cell)}
    )


_YES = {"yes", "y", "true", "1", "はい", "確約", "必須", "○", "〇", "◯"}
_NO = {"no", "n", "false", "0", "いいえ", "希望", "任意", "×", "✕"}


def parse_flag(cell: Cell) -> bool:
    """Yes/no as people write it (はい, 確約, ○ / いいえ, 希望, ×)."""
    if isinstance(cell, bool):
        return cell
    text = _nfkc(text_of(cell)).casefold()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CellError(
        _("'%(value)s' is not yes or no (はい/いいえ, 確約/希望, yes/no)")
        % {"value": text_of(cell)}
    )
