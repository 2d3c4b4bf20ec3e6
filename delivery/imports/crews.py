"""Crews: one row per crew of a partner company, keyed by (company name, crew name).

A company that does not exist yet is created with the crew. Skill codes must
already exist: a typo (``fiber_splicing`` for ``fibre_splicing``) would
otherwise create a skill no job asks for, and the crew would silently never
be planned for the work it can do.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from dispatch.models import Crew, PartnerCompany, Skill

from .cells import (
    Cell,
    Column,
    format_weekdays,
    parse_codes,
    parse_float,
    parse_int,
    parse_text,
    parse_time,
    parse_weekdays,
)
from .records import Record, shown
from .report import RowResult

COLUMNS: tuple[Column, ...] = (
    Column(
        "company",
        "company name",
        ("会社名", "協力会社", "協力会社名", "company", "partner company"),
        parse_text(200),
        required=True,
    ),
    Column(
        "crew_name",
        "crew name",
        ("班名", "チーム名", "作業班", "crew", "team"),
        parse_text(100),
        True,
    ),
    Column("members", "members", ("人数", "作業員数", "班員数"), parse_int(1, 99)),
    Column("skills", "skills", ("スキル", "技能", "資格"), parse_codes),
    Column(
        "home_base_address",
        "home base address",
        ("拠点住所", "出発拠点", "home base"),
        parse_text(300),
    ),
    Column(
        "home_latitude", "home latitude", ("拠点緯度", "緯度", "home lat"), parse_float(-90, 90)
    ),
    Column(
        "home_longitude",
        "home longitude",
        ("拠点経度", "経度", "home lon"),
        parse_float(-180, 180),
    ),
    Column("shift_start", "shift start", ("始業時刻", "始業", "勤務開始"), parse_time),
    Column("shift_end", "shift end", ("終業時刻", "終業", "勤務終了"), parse_time),
    Column(
        "working_weekdays",
        "working weekdays",
        ("稼働曜日", "勤務曜日", "曜日", "working days", "weekdays"),
        parse_weekdays,
    ),
    Column(
        "max_jobs_per_day",
        "max jobs per day",
        ("1日最大件数", "最大件数", "max jobs"),
        parse_int(1, 50),
    ),
    Column(
        "cost_per_km_yen",
        "cost per km",
        ("キロ単価", "距離単価", "km単価", "cost per km yen"),
        parse_int(0, 100_000),
    ),
    Column(
        "lunch_minutes",
        "lunch minutes",
        ("昼休憩（分）", "昼休憩", "休憩時間", "lunch", "lunch break"),
        parse_int(0, 240),
    ),
    Column(
        "lunch_earliest_start",
        "lunch earliest start",
        ("昼休憩開始（最早）", "昼休憩最早", "lunch from"),
        parse_time,
    ),
    Column(
        "lunch_latest_start",
        "lunch latest start",
        ("昼休憩開始（最遅）", "昼休憩最遅", "lunch until"),
        parse_time,
    ),
)


@dataclass(frozen=True)
class CrewValues:
    """One row's values; None where the column is missing or the cell blank."""

    company: str | None = None
    crew_name: str | None = None
    members: int | None = None
    skills: list[str] | None = None
    home_base_address: str | None = None
    home_latitude: float | None = None
    home_longitude: float | None = None
    shift_start: dt.time | None = None
    shift_end: dt.time | None = None
    working_weekdays: int | None = None
    max_jobs_per_day: int | None = None
    cost_per_km_yen: int | None = None
    lunch_minutes: int | None = None
    lunch_earliest_start: dt.time | None = None
    lunch_latest_start: dt.time | None = None


_FIELDS = (
    ("members", "members"),
    ("home_base_address", "home base address"),
    ("home_latitude", "home latitude"),
    ("home_longitude", "home longitude"),
    ("shift_start", "shift start"),
    ("shift_end", "shift end"),
    ("working_weekdays", "working weekdays"),
    ("max_jobs_per_day", "max jobs per day"),
    ("cost_per_km_yen", "cost per km"),
    # Blank keeps what is there: a crew without its own lunch takes its company's.
    ("lunch_minutes", "lunch minutes"),
    ("lunch_earliest_start", "lunch earliest start"),
    ("lunch_latest_start", "lunch latest start"),
)


class CrewsImport:
    """Resolves and (with ``write``) saves crew rows; one instance per import run."""

    columns = COLUMNS
    values_class = CrewValues

    def __init__(self, *, write: bool) -> None:
        self.write = write
        self.geocoding_queued = 0  # crews carry their own coordinates
        self.companies: dict[str, Record[PartnerCompany]] = {}
        self.crews: dict[tuple[str, str], Record[Crew]] = {}
        self.crew_skills: dict[int, set[str]] = {}  # id(crew record) -> skill codes
        self.skills: dict[str, Skill] = {}
        self.seen: dict[tuple[str, str], int] = {}

    def preload(self, rows: list[CrewValues]) -> None:
        names = {row.company for row in rows if row.company}
        for company in PartnerCompany.objects.filter(name__in=names):
            self.companies[company.name] = Record(company, entity="company", is_new=False)
        crews = Crew.objects.filter(company__name__in=names).select_related("company")
        if self.write:
            # Held until commit: a coordinator's edit in between is not lost.
            crews = crews.select_for_update(of=("self",))
        for crew in crews.prefetch_related("skills"):
            record = Record(crew, entity="crew", is_new=False)
            self.crews[(crew.company.name, crew.name)] = record
            self.crew_skills[id(record)] = {skill.code for skill in crew.skills.all()}
        self.skills = {skill.code: skill for skill in Skill.objects.all()}

    def key_of(self, row: CrewValues) -> str:
        return f"{row.company or ''} / {row.crew_name or ''}"

    def process(self, row: CrewValues, result: RowResult) -> None:
        """Work out (and with ``write``, save) what this row means for the stored crew."""
        assert row.company and row.crew_name
        key = (row.company, row.crew_name)
        result.key = self.key_of(row)
        if key in self.seen:
            result.error(
                "crew name",
                _("row %(row)s already holds this crew; each crew may appear only once")
                % {"row": self.seen[key]},
            )
            return
        self.seen[key] = result.row
        company = self.companies.get(row.company)
        if company is None:
            company = Record(PartnerCompany(name=row.company), entity="company", is_new=True)
            self.companies[row.company] = company
            result.notes.append(_("new partner company %(name)s") % {"name": shown(row.company)})
        crew = self.crews.get(key)
        if crew is None:
            crew = Record(Crew(company=company.obj, name=row.crew_name), entity="crew", is_new=True)
            self.crews[key] = crew
            self.crew_skills[id(crew)] = set()
            for field, label in (
                ("home_latitude", "home latitude"),
                ("home_longitude", "home longitude"),
            ):
                if getattr(row, field) is None:
                    result.error(label, _("is empty; a new crew needs its home base's coordinates"))
        for field, label in _FIELDS:
            display = format_weekdays if field == "working_weekdays" else None
            crew.set(field, getattr(row, field), column=label, result=result, display=display)
        if crew.obj.shift_start >= crew.obj.shift_end:
            result.error(
                "shift end",
                _("the shift ends at %(end)s, not after it starts (%(start)s)")
                % {"end": shown(crew.obj.shift_end), "start": shown(crew.obj.shift_start)},
            )
        earliest, latest = crew.obj.lunch_earliest_start, crew.obj.lunch_latest_start
        if earliest is not None and latest is not None and latest < earliest:
            result.error(
                "lunch latest start",
                _("the latest lunch start %(latest)s is before the earliest (%(earliest)s)")
                % {"latest": shown(latest), "earliest": shown(earliest)},
            )
        skills = self._skills(row, crew, result)
        if not result.is_valid:
            return
        result.action = "create" if crew.is_new else ("update" if result.changes else "unchanged")
        if self.write:
            company.save()
            crew.obj.company = company.obj
            crew.save()
            if skills is not None:
                crew.obj.skills.set([self.skills[code] for code in sorted(skills)])

    def _skills(self, row: CrewValues, crew: Record[Crew], result: RowResult) -> set[str] | None:
        """The crew's new skill set, or None when it stays as it is."""
        if row.skills is None:
            return None
        unknown = [code for code in row.skills if code not in self.skills]
        if unknown:
            separator = pgettext("list separator", ", ")
            known = separator.join(sorted(self.skills)) or _("none yet")
            result.error(
                "skills",
                ngettext(
                    "unknown skill code %(codes)s (known: %(known)s)",
                    "unknown skill codes %(codes)s (known: %(known)s)",
                    len(unknown),
                )
                % {"codes": separator.join(repr(code) for code in unknown), "known": known},
            )
            return None
        wanted = set(row.skills)
        current = self.crew_skills[id(crew)]
        if wanted == current:
            return None
        if not crew.is_new:
            before, after = ", ".join(sorted(current)), ", ".join(sorted(wanted))
            result.changes.append(
                _("crew skills: %(before)s → %(after)s")
                % {"before": shown(before), "after": shown(after)}
            )
        self.crew_skills[id(crew)] = wanted
        return wanted


def export_rows() -> tuple[list[str], list[list[Cell]]]:
    """Every crew, as rows the import reads back unchanged."""
    header = [column.label for column in COLUMNS]
    rows: list[list[Cell]] = []
    crews = Crew.objects.select_related("company").prefetch_related("skills")
    for crew in crews.order_by("company__name", "name"):
        rows.append(
            [
                crew.company.name,
                crew.name,
                crew.members,
                ",".join(sorted(skill.code for skill in crew.skills.all())),
                crew.home_base_address,
                crew.home_latitude,
                crew.home_longitude,
                crew.shift_start,
                crew.shift_end,
                format_weekdays(crew.working_weekdays),
                crew.max_jobs_per_day,
                crew.cost_per_km_yen,
                crew.lunch_minutes,
                crew.lunch_earliest_start,
                crew.lunch_latest_start,
            ]
        )
    return header, rows
