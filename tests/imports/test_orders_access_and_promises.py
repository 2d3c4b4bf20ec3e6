"""Orders carry the building's access hours and the customer's promise, in Japanese."""

from __future__ import annotations

import datetime as dt

import pytest

from delivery.imports import import_apply, import_preview
from delivery.imports.cells import CellError, parse_dates, parse_flag, parse_time_slot
from dispatch.models import Job
from sites.models import Site
from tests.imports.conftest import csv_bytes

pytestmark = pytest.mark.django_db

HEADER = "契約ID,顧客名,建物名,住所,作業種別,入館可能時間,希望日,希望時間帯,確約"


def order(access: str, dates: str = "", slot: str = "", promised: str = "") -> bytes:
    row = (
        "C-7001,株式会社テスト,テストビル,東京都港区芝浦3丁目4-1,新規,"
        f"{access},{dates},{slot},{promised}"
    )
    return csv_bytes(f"{HEADER}\n{row}")


def test_access_hours_written_in_japanese_become_the_buildings_hours() -> None:
    report = import_apply(kind="orders", file=order("平日9:00〜17:00"), filename="o.csv")
    assert report.applied, [e.text for e in report.errors]
    site = Site.objects.get()
    assert site.access_hours == [{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"}]


def test_access_hours_the_parser_cannot_read_are_flagged_not_guessed() -> None:
    report = import_preview(kind="orders", file=order("応相談"), filename="o.csv")
    assert not report.applied
    (error,) = report.errors
    assert error.text.startswith("row 2, access hours: could not read 「応相談」")
    assert not Site.objects.exists()


def test_the_customers_dates_slot_and_promise_are_imported() -> None:
    report = import_apply(
        kind="orders",
        file=order("", dates="2026-12-02、2026-12-03", slot="午前", promised="確約"),
        filename="o.csv",
    )
    assert report.applied, [e.text for e in report.errors]
    job = Job.objects.get()
    assert job.preferred_dates == ["2026-12-02", "2026-12-03"]
    assert (job.window_start, job.window_end) == (dt.time(9), dt.time(12))
    assert job.promise_is_hard is True


@pytest.mark.parametrize(
    ("typed", "slot"),
    [
        ("AM", (dt.time(9), dt.time(12))),
        ("午後", (dt.time(13), dt.time(17))),
        ("10:00-12:00", (dt.time(10), dt.time(12))),
        ("１０時～１２時", (dt.time(10), dt.time(12))),
        ("14-16", (dt.time(14), dt.time(16))),
    ],
)
def test_time_slots_as_people_write_them(typed: str, slot: tuple[dt.time, dt.time]) -> None:
    assert parse_time_slot(typed) == slot


@pytest.mark.parametrize("typed", ["夕方", "12:00-10:00", "25:00-26:00"])
def test_a_slot_that_is_not_one_is_refused(typed: str) -> None:
    with pytest.raises(CellError, match="is not a time slot"):
        parse_time_slot(typed)


def test_date_lists_and_flags() -> None:
    assert parse_dates("2026/12/03, 2026-12-02") == [dt.date(2026, 12, 2), dt.date(2026, 12, 3)]
    with pytest.raises(CellError, match="'12月' is not a date"):
        parse_dates("2026-12-02、12月")
    assert parse_flag("確約") is True and parse_flag("希望") is False and parse_flag("○") is True
    with pytest.raises(CellError, match="is not yes or no"):
        parse_flag("たぶん")
