"""The week board: crews by partner company x days of a plan, and the queue of unplanned jobs.

Built in plain Python from a fixed number of queries (about a dozen, whatever
the size of the plan), so the page renders 1,500 visits in well under half a
second. Every figure on it (work, drive, slack, utilization) comes from
:mod:`dispatch.figures`, the same code the proposal comparison uses.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sites.models import Region

from . import editing
from .figures import DayFigures, day_figures, plan_figures, return_legs, shift_minutes, totals
from .models import (
    ACTIVE_RUN_STATUSES,
    Crew,
    CrewUnavailability,
    Job,
    OptimizationRun,
    PartnerCompany,
    Plan,
    PlanStatus,
    RunStatus,
    Skill,
    Visit,
)
from .problem import PlanParameters, plan_crews, plan_dates, planning_tz, ready_for
from .states import FIXED_STATUSES, PLANNABLE_STATUSES, JobKind, JobStatus

#: Plans whose board accepts drags, locks and optimization.
#: (The editing services also accept an optimizing plan; the board waits for the run.)
EDITABLE = tuple(s for s in editing.EDITABLE if s != PlanStatus.OPTIMIZING)


@dataclass(frozen=True)
class Segment:
    """One stretch of a crew-day's bar, as a share of the shift (CSS left/width in %)."""

    kind: str  # "travel", "work" or "home"
    left: float
    width: float
    label: str


@dataclass
class VisitItem:
    visit: BoardVisit
    start: str
    end: str
    fixed: bool
    late: bool
    skills: str


@dataclass
class Cell:
    crew: Crew
    date: dt.date
    works: bool
    off_reason: str = ""
    visits: list[VisitItem] = field(default_factory=list)
    figures: DayFigures | None = None
    segments: list[Segment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"{self.crew.pk}:{self.date.isoformat()}"

    @property
    def slack_width(self) -> float:
        if self.figures is None or not self.figures.shift_minutes:
            return 100.0
        return max(0.0, 100.0 * self.figures.slack_minutes / self.figures.shift_minutes)


@dataclass
class CrewRow:
    crew: Crew
    skills: str
    cells: list[Cell]


@dataclass
class CompanyGroup:
    company: PartnerCompany
    rows: list[CrewRow]


@dataclass
class QueueItem:
    job: Job
    reasons: list[dict]
    skills: str
    overdue: bool


@dataclass(frozen=True)
class QueueFilters:
    """The side panel's filters; empty strings mean "any"."""

    region: str = ""
    company: str = ""
    skill: str = ""
    kind: str = ""
    due_before: str = ""

    @classmethod
    def from_query(cls, query: dict) -> QueueFilters:
        due = query.get("due_before", "")
        try:
            due = dt.date.fromisoformat(due).isoformat() if due else ""
        except ValueError:
            due = ""
        company = query.get("company", "")
        return cls(
            region=query.get("region", "")[:32],
            company=company if company.isdigit() else "",
            skill=query.get("skill", "")[:32],
            kind=query.get("kind", "") if query.get("kind", "") in JobKind.values else "",
            due_before=due,
        )

    @property
    def active(self) -> bool:
        return any((self.region, self.company, self.skill, self.kind, self.due_before))


@dataclass
class Board:
    plan: Plan
    dates: tuple[dt.date, ...]
    groups: list[CompanyGroup]
    queue: list[QueueItem]
    totals: dict
    editable: bool
    active_run: OptimizationRun | None
    pending_run: OptimizationRun | None
    filters: QueueFilters
    cells: dict[str, Cell]


def _local_hm(moment: dt.datetime) -> str:
    return timezone.localtime(moment, planning_tz()).strftime("%H:%M")


def _off_days(crews: list[Crew], dates: tuple[dt.date, ...]) -> dict[int, list[tuple]]:
    off: dict[int, list[tuple]] = defaultdict(list)
    for row in CrewUnavailability.objects.filter(
        crew__in=crews, start_date__lte=dates[-1], end_date__gte=dates[0]
    ):
        off[row.crew_id].append((row.start_date, row.end_date, row.reason))
    return off


def _segments(
    crew: Crew, date: dt.date, visits: list[BoardVisit], home_minutes: int, words: dict[str, str]
) -> list[Segment]:
    """Travel and work of a crew-day placed on its shift, in percent of the shift."""
    tz = planning_tz()
    shift_start = dt.datetime.combine(date, crew.shift_start, tzinfo=tz)
    length = max(shift_minutes(crew), 1)

    def pct(moment: dt.datetime) -> float:
        minutes = (moment - shift_start).total_seconds() / 60
        return max(0.0, min(100.0, 100.0 * minutes / length))

    segments = []
    for visit in visits:
        if visit.travel_minutes_from_previous:
            leave = visit.planned_start - dt.timedelta(minutes=visit.travel_minutes_from_previous)
            left = pct(leave)
            segments.append(
                Segment(
                    "travel",
                    left,
                    pct(visit.planned_start) - left,
                    words["drive"] % {"minutes": visit.travel_minutes_from_previous},
                )
            )
        left = pct(visit.planned_start)
        segments.append(Segment("work", left, pct(visit.planned_end) - left, visit.job.reference))
    if visits and home_minutes:
        back = visits[-1].planned_end
        left = pct(back)
        segments.append(
            Segment(
                "home",
                left,
                pct(back + dt.timedelta(minutes=home_minutes)) - left,
                words["home"] % {"minutes": home_minutes},
            )
        )
    return segments


def _warnings(crew: Crew, cell: Cell, figures: DayFigures, params: PlanParameters) -> list[str]:
    warnings = []
    limit = (
        crew.max_utilization_percent / 100
        if crew.max_utilization_percent
        else params.max_utilization
    )
    if figures.utilization > limit + 1e-9:
        warnings.append(
            _("Over %(limit)s%% of the shift (%(used)s%%)")
            % {"limit": round(limit * 100), "used": round(figures.utilization * 100)}
        )
    if figures.slack_minutes < 0:
        warnings.append(_("Runs past the end of the shift"))
    if not cell.works:
        warnings.append(_("Crew is off this day: %(reason)s") % {"reason": cell.off_reason})
    for item in cell.visits:
        job = item.visit.job
        if item.late:
            warnings.append(
                _("%(job)s is after its due date %(due)s")
                % {"job": job.reference, "due": job.due_date}
            )
        if job.status not in PLANNABLE_STATUSES and job.status not in FIXED_STATUSES:
            warnings.append(
                _("%(job)s is %(status)s")
                % {"job": job.reference, "status": job.get_status_display()}
            )
    return warnings


@dataclass(slots=True)
class BoardSite:
    name: str
    latitude: float | None
    longitude: float | None


@dataclass(slots=True)
class BoardJob:
    pk: int
    reference: str
    status: str
    due_date: dt.date | None
    site: BoardSite

    def get_status_display(self) -> str:
        return str(JobStatus(self.status).label)


@dataclass(slots=True)
class BoardVisit:
    """What a cell reads of a visit, its job and its site, and nothing more.

    Read with ``values_list`` rather than as three model instances per visit:
    on a 1,500-visit board that is the difference between a fifth of a
    second and a few hundredths. Attribute names match :class:`Visit`, so
    :mod:`dispatch.figures` works on both.
    """

    pk: int
    job_id: int
    crew_id: int
    date: dt.date
    sequence: int
    planned_start: dt.datetime
    planned_end: dt.datetime
    travel_minutes_from_previous: int
    travel_m_from_previous: int
    locked: bool
    job: BoardJob


_VISIT_COLUMNS = (
    "pk", "job_id", "crew_id", "date", "sequence", "planned_start", "planned_end",
    "travel_minutes_from_previous", "travel_m_from_previous", "locked",
    "job__reference", "job__status", "job__due_date",
    "job__site__name", "job__site__latitude", "job__site__longitude",
)  # fmt: skip


def _visits(plan: Plan, **filters: object) -> list[BoardVisit]:
    rows = (
        plan.visits.filter(**filters)
        .order_by("crew_id", "date", "sequence")
        .values_list(*_VISIT_COLUMNS)
    )
    return [
        BoardVisit(
            pk, job_id, crew_id, date, seq, start, end, travel_min, travel_m, locked,
            BoardJob(job_id, ref, status, due, BoardSite(site_name, lat, lon)),
        )
        for (
            pk, job_id, crew_id, date, seq, start, end, travel_min, travel_m, locked,
            ref, status, due, site_name, lat, lon,
        ) in rows
    ]  # fmt: skip


def _skill_codes(visits: list[BoardVisit]) -> dict[int, str]:
    """Required skill codes per job id, from one query on the through table.

    Cheaper than ``prefetch_related``: 1,500 visits would otherwise build
    1,500 prefetched querysets just to read two codes each.
    """
    through = Job.required_skills.through
    codes: dict[int, list[str]] = defaultdict(list)
    rows = through.objects.filter(job_id__in=[v.job_id for v in visits]).values_list(
        "job_id", "skill__code"
    )
    for job_id, code in rows.order_by("skill__code"):
        codes[job_id].append(code)
    return {job_id: " ".join(names) for job_id, names in codes.items()}


def build_cells(
    plan: Plan,
    crews: list[Crew],
    dates: tuple[dt.date, ...],
    visits: Iterable[BoardVisit],
) -> dict[str, Cell]:
    """Every crew-day cell of ``crews`` x ``dates`` with its visits, bar, figures and warnings."""
    params = PlanParameters.from_dict(plan.params)
    off = _off_days(crews, dates)
    visits = list(visits)
    skills = _skill_codes(visits)
    # Translated once, not once per segment (gettext is slow at 3,000 calls).
    words = {"drive": _("%(minutes)s min drive"), "home": _("%(minutes)s min back to base")}
    routes: dict[tuple[int, dt.date], list[BoardVisit]] = defaultdict(list)
    for visit in visits:
        routes[(visit.crew_id, visit.date)].append(visit)
    crew_by_id = {crew.pk: crew for crew in crews}
    keys = [key for key in routes if key[0] in crew_by_id]
    legs = dict(
        zip(
            keys,
            return_legs([(crew_by_id[k[0]], routes[k][-1]) for k in keys]),
            strict=True,
        )
    )
    cells: dict[str, Cell] = {}
    for crew in crews:
        for date in dates:
            reason = ""
            if not crew.works_on_weekday(date.weekday()):
                reason = _("not a working day")
            for start, end, why in off.get(crew.pk, ()):
                if start <= date <= end:
                    reason = why or _("unavailable")
            cell = Cell(crew=crew, date=date, works=not reason, off_reason=reason)
            route = routes.get((crew.pk, date), [])
            cell.visits = [
                VisitItem(
                    visit=v,
                    start=_local_hm(v.planned_start),
                    end=_local_hm(v.planned_end),
                    fixed=v.job.status in FIXED_STATUSES,
                    late=v.job.due_date is not None and v.date > v.job.due_date,
                    skills=skills.get(v.job_id, ""),
                )
                for v in route
            ]
            if route:
                leg = legs[(crew.pk, date)]
                cell.figures = day_figures(crew, route, leg)
                cell.segments = _segments(crew, date, route, leg[1], words)
                cell.warnings = _warnings(crew, cell, cell.figures, params)
            else:
                cell.figures = day_figures(crew, [], (0, 0))
            cells[cell.key] = cell
    return cells


def queue_jobs(plan: Plan, filters: QueueFilters) -> list[QueueItem]:
    """Ready jobs the plan could take but does not hold, with the solver's reasons."""
    in_plan = Visit.objects.filter(plan=plan).values("job_id")
    # Jobs the published plan being revised holds stay candidates, as for the solver.
    revised = Q(visits__plan_id=plan.revises_id) if plan.revises_id else Q(pk__in=[])
    jobs = Job.objects.filter(ready_for(plan) | revised).exclude(pk__in=in_plan)
    if filters.region:
        jobs = jobs.filter(site__region__code=filters.region)
    if filters.company:
        jobs = jobs.filter(site__region__partner_companies=int(filters.company))
    if filters.skill:
        jobs = jobs.filter(required_skills__code=filters.skill)
    if filters.kind:
        jobs = jobs.filter(kind=filters.kind)
    if filters.due_before:
        jobs = jobs.filter(due_date__lte=filters.due_before)
    jobs = (
        jobs.select_related("site__region")
        .prefetch_related("required_skills")
        .distinct()
        .order_by("due_date", "-priority", "reference")
    )
    reasons = {row.get("job_id"): row.get("reasons", []) for row in plan.unassigned}
    return [
        QueueItem(
            job=job,
            reasons=reasons.get(job.pk)
            or [{"rule": "not_planned", "message": _("Not planned yet: optimize or drag it")}],
            skills=" ".join(s.code for s in job.required_skills.all()),
            overdue=job.due_date is not None and job.due_date < plan.start_date,
        )
        for job in jobs
    ]


def _runs(plan: Plan) -> tuple[OptimizationRun | None, OptimizationRun | None]:
    """The plan's active run, and its latest successful run whose proposal awaits a decision."""
    latest = list(plan.runs.order_by("-id")[:2])
    active = next((r for r in latest if r.status in ACTIVE_RUN_STATUSES), None)
    pending = next(
        (
            r
            for r in latest
            if r.status == RunStatus.SUCCEEDED
            and not r.decision
            and r.plan_version_after == plan.version
        ),
        None,
    )
    return active, pending


def board_for(plan: Plan, filters: QueueFilters | None = None) -> Board:
    """Everything the week board shows, from a fixed number of queries."""
    filters = filters or QueueFilters()
    dates = plan_dates(plan)
    crews = plan_crews(plan)
    visits = _visits(plan)
    on_board = {crew.pk for crew in crews}
    # A visit of a crew that no longer serves the region still shows, on its own row.
    strays = {v.crew_id for v in visits if v.crew_id not in on_board}
    if strays:
        extra = Crew.objects.filter(pk__in=strays).select_related("company")
        crews = [*crews, *extra.prefetch_related("skills")]
    cells = build_cells(plan, crews, dates, visits)
    groups: dict[int, CompanyGroup] = {}
    for crew in sorted(crews, key=lambda c: (c.company.name, c.name)):
        group = groups.setdefault(crew.company_id, CompanyGroup(company=crew.company, rows=[]))
        group.rows.append(
            CrewRow(
                crew=crew,
                skills=" ".join(s.code for s in crew.skills.all()),
                cells=[cells[f"{crew.pk}:{date.isoformat()}"] for date in dates],
            )
        )
    queue = queue_jobs(plan, filters)
    day_figures_all = [c.figures for c in cells.values() if c.figures is not None]
    active, pending = _runs(plan)
    return Board(
        plan=plan,
        dates=dates,
        groups=list(groups.values()),
        queue=queue,
        totals=totals(day_figures_all, len(queue)),
        editable=plan.status in EDITABLE and active is None,
        active_run=active,
        pending_run=pending,
        filters=filters,
        cells=cells,
    )


def plan_totals(plan: Plan, unplanned: int) -> dict:
    """The header's figures after an edit, without rebuilding the whole board."""
    visits = list(plan.visits.select_related("crew", "job__site"))
    return plan_figures(visits, unplanned)


def cells_for(plan: Plan, keys: Iterable[str]) -> list[Cell]:
    """Just the named cells (``"crew_id:YYYY-MM-DD"``), re-rendered after an edit."""
    wanted: dict[int, set[dt.date]] = defaultdict(set)
    for key in keys:
        crew_id, _sep, day = key.partition(":")
        try:
            wanted[int(crew_id)].add(dt.date.fromisoformat(day))
        except ValueError:
            continue
    if not wanted:
        return []
    crews = list(
        Crew.objects.filter(pk__in=wanted).select_related("company").prefetch_related("skills")
    )
    dates = tuple(sorted({d for days in wanted.values() for d in days}))
    visits = _visits(plan, crew_id__in=list(wanted), date__in=dates)
    cells = build_cells(plan, crews, dates, visits)
    return [
        cells[f"{crew_id}:{day.isoformat()}"]
        for crew_id, days in wanted.items()
        for day in sorted(days)
        if f"{crew_id}:{day.isoformat()}" in cells
    ]


def filter_choices(plan: Plan) -> dict:
    """Options of the queue's filters."""
    return {
        "regions": list(Region.objects.order_by("code")),
        "companies": list(PartnerCompany.objects.order_by("name")),
        "skills": list(Skill.objects.order_by("code")),
        "kinds": JobKind.choices,
    }
