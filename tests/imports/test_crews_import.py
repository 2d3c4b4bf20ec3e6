"""Importing crews: keyed by (company, crew name); skills must exist; working days in words."""

from __future__ import annotations

import datetime as dt

import pytest

from delivery.imports import import_apply, import_preview
from dispatch.models import Crew, PartnerCompany, Skill
from tests.factories import make_company, make_crew
from tests.imports.conftest import csv_bytes, read

pytestmark = pytest.mark.django_db

HEADER = "company name,crew name,skills,home latitude,home longitude,working weekdays"


def test_dry_run_writes_nothing(skills: list[Skill]) -> None:
    report = import_preview(kind="crews", file=read("crews.csv"), filename="crews.csv")

    assert report.counts["create"] == 3
    assert [row.key for row in report.rows] == [
        "A通信工業株式会社 / A1",
        "A通信工業株式会社 / A2",
        "B電設株式会社 / B1",
    ]
    assert not Crew.objects.exists() and not PartnerCompany.objects.exists()


def test_apply_creates_companies_and_crews(skills: list[Skill]) -> None:
    report = import_apply(kind="crews", file=read("crews.csv"), filename="crews.csv")

    assert report.applied and report.counts["create"] == 3
    a2 = Crew.objects.get(company__name="A通信工業株式会社", name="A2")
    assert (a2.members, a2.max_jobs_per_day, a2.cost_per_km_yen) == (3, 4, 55)
    assert (a2.shift_start, a2.shift_end) == (dt.time(9, 0), dt.time(18, 0))
    assert a2.working_weekday_numbers == [0, 1, 5]  # Mon,Tue,Sat
    a1 = Crew.objects.get(name="A1")
    assert set(a1.skills.values_list("code", flat=True)) == {"fibre_splicing", "aerial"}
    assert Crew.objects.get(name="B1").working_weekday_numbers == [0, 1, 2, 3, 4]  # 月-金
    assert PartnerCompany.objects.count() == 2


def test_xlsx_crews_with_time_cells_and_japanese_days(skills: list[Skill]) -> None:
    report = import_apply(kind="crews", file=read("crews.xlsx"), filename="班.xlsx")

    assert report.applied, [error.text for error in report.errors]
    c1 = Crew.objects.get(name="C1")
    assert (c1.shift_start, c1.shift_end) == (dt.time(8, 0), dt.time(16, 30))
    assert c1.working_weekday_numbers == [0, 2, 4]  # 月水金
    assert Crew.objects.get(name="C2").working_weekday_numbers == list(range(7))  # 毎日


@pytest.mark.parametrize("name", ["crews.csv", "crews.xlsx"])
def test_importing_the_same_crews_again_changes_nothing(skills: list[Skill], name: str) -> None:
    import_apply(kind="crews", file=read(name), filename=name)

    again = import_apply(kind="crews", file=read(name), filename=name)

    assert again.counts["create"] == 0 and again.counts["update"] == 0
    assert again.counts["unchanged"] == len(again.rows)


def test_a_changed_crew_is_updated_and_the_change_named(skills: list[Skill]) -> None:
    company = make_company(name="A通信工業株式会社")
    crew = make_crew(company=company, name="A1", home_latitude=35.6546, home_longitude=139.7963)
    data = csv_bytes(f"{HEADER}\nA通信工業株式会社,A1,aerial,35.6546,139.7963,Mon-Sat")

    report = import_apply(kind="crews", file=data, filename="crews.csv")

    assert report.rows[0].action == "update"
    assert report.rows[0].changes == [
        "crew working weekdays: 'Mon-Fri' → 'Mon-Sat'",
        "crew skills: (empty) → 'aerial'",
    ]
    crew.refresh_from_db()
    assert crew.working_weekday_numbers == [0, 1, 2, 3, 4, 5]
    assert list(crew.skills.values_list("code", flat=True)) == ["aerial"]


def test_an_unknown_skill_code_is_an_error_not_a_new_skill(skills: list[Skill]) -> None:
    data = csv_bytes(f"{HEADER}\nA社,A1,fiber_splicing,35.6,139.7,Mon-Fri")

    report = import_apply(kind="crews", file=data, filename="crews.csv")

    assert not report.applied
    assert report.errors[0].text.startswith(
        "row 2, skills: unknown skill code 'fiber_splicing' (known: aerial, "
    )
    assert not Skill.objects.filter(code="fiber_splicing").exists()


def test_a_new_crew_needs_home_coordinates() -> None:
    data = csv_bytes("company name,crew name\nA社,A1")

    report = import_preview(kind="crews", file=data, filename="crews.csv")

    assert [error.text for error in report.errors] == [
        "row 2, home latitude: is empty; a new crew needs its home base's coordinates",
        "row 2, home longitude: is empty; a new crew needs its home base's coordinates",
    ]


def test_a_shift_that_ends_before_it_starts_is_an_error() -> None:
    data = csv_bytes(
        "company name,crew name,home latitude,home longitude,shift start,shift end\n"
        "A社,A1,35.6,139.7,18:00,09:00"
    )

    report = import_preview(kind="crews", file=data, filename="crews.csv")

    assert [error.text for error in report.errors] == [
        "row 2, shift end: the shift ends at 09:00, not after it starts (18:00)"
    ]


def test_the_same_crew_twice_is_an_error() -> None:
    data = csv_bytes(f"{HEADER}\nA社,A1,,35.6,139.7,Mon-Fri\nA社,A1,,35.6,139.7,Mon-Fri")

    report = import_preview(kind="crews", file=data, filename="crews.csv")

    assert [error.text for error in report.errors] == [
        "row 3, crew name: row 2 already holds this crew; each crew may appear only once"
    ]


def test_a_crews_own_lunch_comes_from_the_sheet_in_either_language(skills: list[Skill]) -> None:
    data = csv_bytes(
        """
会社名,班名,拠点緯度,拠点経度,昼休憩（分）,昼休憩開始（最早）,昼休憩開始（最遅）
A通信工業株式会社,A1,35.65,139.79,45,11:00,13:00
"""
    )
    report = import_apply(kind="crews", file=data, filename="班.csv")

    assert report.applied, [error.text for error in report.errors]
    crew = Crew.objects.get(name="A1")
    assert (crew.lunch_minutes, crew.lunch_earliest_start, crew.lunch_latest_start) == (
        45,
        dt.time(11, 0),
        dt.time(13, 0),
    )


def test_a_lunch_window_that_ends_before_it_starts_is_refused(skills: list[Skill]) -> None:
    data = csv_bytes(
        """
company name,crew name,home latitude,home longitude,lunch earliest start,lunch latest start
A通信工業株式会社,A1,35.65,139.79,13:00,11:30
"""
    )
    report = import_preview(kind="crews", file=data, filename="crews.csv")

    [error] = report.errors
    assert (error.row, error.column) == (2, "lunch latest start")
    assert "before the earliest" in error.message


def test_a_blank_lunch_keeps_the_crews_own_break(skills: list[Skill]) -> None:
    crew = make_crew(name="A1", company=make_company(name="A通信工業株式会社"), lunch_minutes=30)
    data = csv_bytes(
        """
company name,crew name,lunch minutes
A通信工業株式会社,A1,
"""
    )
    assert import_apply(kind="crews", file=data, filename="crews.csv").applied
    crew.refresh_from_db()
    assert crew.lunch_minutes == 30
