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
from .calendars import WorkCalendar
from .figures import DayFigures, day_figures, plan_figures, return_legs, shift_minutes, totals
from .ledger import Place, ledger_holdings, live_places, live_visits
from .models import (
    ACTIVE_RUN_STATUSES,
    Crew,
    Job,
    JobReport,
    OptimizationRun,
    PartnerCompany,
    Plan,
    PlannedBreak,
    PlanStatus,
    ReleaseReason,
    ReportKind,
    RunStatus,
    Skill,
    Visit,
)
from .problem import (
    PlanParameters,
    crew_day_usable,
    plan_crews,
    plan_dates,
    planning_today,
    planning_tz,
    ready_for,
)
from .skills import join_labels, label_for
from .states import FIXED_STATUSES, PLANNABLE_STATUSES, JobKind, JobStatus

#: Plans whose board accepts drags, locks and optimization.
#: (The editing services also accept an optimizing plan; the board waits for the run.)
EDITABLE = tuple(s for s in editing.EDITABLE if s != PlanStatus.OPTIMIZING)


@dataclass(frozen=True)
class Segment:
    """One stretch of a crew-day's bar, as a share of the shift (CSS left/width in %)."""

    kind: str  # "travel", "work", "home" or "lunch"
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
    released: str = ""
    """Why the visit left the live schedule, in words ("" while it is on it, or never was)."""


@dataclass
class Cell:
    crew: Crew
    date: dt.date
    works: bool
    off_reason: str = ""
    """Why the crew does not work this day (:meth:`WorkCalendar.closed`'s label), else ""."""
    closed_code: str = ""
    """:attr:`ClosedDay.code` of a closed day ("holiday", "absence"...), else ""."""
    visits: list[VisitItem] = field(default_factory=list)
    figures: DayFigures | None = None
    segments: list[Segment] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    held_by: int | None = None
    """Id of the other published plan whose live route this crew-day is."""
    out_of_scope: bool = False
    """Given to another region's plan of the week (:attr:`Plan.crew_day_scope`)."""
    gone: bool = False
    """A day before today: the field's record, which takes no new work (``editing``)."""

    @property
    def key(self) -> str:
        return f"{self.crew.pk}:{self.date.isoformat()}"

    @property
    def usable(self) -> bool:
        """Whether this plan may put work here: an open day the crew works and no other plan has."""
        return self.works and self.held_by is None and not self.out_of_scope and not self.gone

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
    attempt: str = ""
    """For a job returned from the field: the visit planning it now would be ("2nd attempt")."""
    failure: JobReport | None = None
    """The crew's latest "not finished" report, for a job returned from the field."""


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


@dataclass(frozen=True)
class BoardDay:
    """A column of the board: the date and what its header says (holiday, company closure)."""

    date: dt.date
    labels: tuple[str, ...]
    holiday: bool
    gone: bool = False
    """Before today: shown dimmed, and no cell of it takes a drop."""


@dataclass
class Board:
    plan: Plan
    dates: tuple[dt.date, ...]
    days: list[BoardDay]
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


def _segments(
    crew: Crew,
    date: dt.date,
    visits: list[BoardVisit],
    home_minutes: int,
    words: dict[str, str],
    lunch: PlannedBreak | None = None,
) -> list[Segment]:
    """Travel, work and the lunch break of a crew-day placed on its shift, in percent of it."""
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
    if lunch is not None:
        left = pct(lunch.start)
        segments.append(
            Segment(
                "lunch",
                left,
                pct(lunch.end) - left,
                words["lunch"] % {"start": _local_hm(lunch.start), "end": _local_hm(lunch.end)},
            )
        )
    return segments


def _warnings(
    crew: Crew,
    cell: Cell,
    figures: DayFigures,
    params: PlanParameters,
    kept_gone: set[Place] | None = None,
) -> list[str]:
    """What the coordinator should know of a crew-day before publishing it.

    ``kept_gone`` holds the (job, crew, date) of the live schedule on the days
    gone by, for a plan still to be published (None for the others): a visit of
    such a day that is not among them would be refused at publication.
    """
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
    if cell.held_by is not None:
        warnings.append(
            _(
                "%(crew)s is already on the road this day for plan %(plan)s: publishing "
                "will be refused until these visits move"
            )
            % {"crew": crew.name, "plan": cell.held_by}
        )
    elif cell.out_of_scope:
        warnings.append(_("This crew-day was given to another region's plan of this week"))
    previous: VisitItem | None = None
    for item in sorted(cell.visits, key=lambda i: i.visit.sequence):
        job = item.visit.job
        if item.released:
            continue  # off the schedule: the label on the visit says what became of it
        if previous is not None and item.visit.planned_start < previous.visit.planned_end:
            # A slot confirmed into a revision that had changed this day, say.
            warnings.append(
                _("%(job)s starts before %(previous)s ends (%(end)s)")
                % {
                    "job": job.reference,
                    "previous": previous.visit.job.reference,
                    "end": previous.end,
                }
            )
        previous = item
        where = (item.visit.job_id, item.visit.crew_id, item.visit.date)
        if kept_gone is not None and cell.gone and where not in kept_gone:
            warnings.append(
                _("%(job)s is on a day that has passed: publishing will be refused until it moves")
                % {"job": job.reference}
            )
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
    returned_from_field_at: dt.datetime | None = None

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
    release_reason: str = ""


_VISIT_COLUMNS = (
    "pk", "job_id", "crew_id", "date", "sequence", "planned_start", "planned_end",
    "travel_minutes_from_previous", "travel_m_from_previous", "locked", "release_reason",
    "job__reference", "job__status", "job__due_date", "job__returned_from_field_at",
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
            BoardJob(job_id, ref, status, due, BoardSite(site_name, lat, lon), returned),
            released,
        )
        for (
            pk, job_id, crew_id, date, seq, start, end, travel_min, travel_m, locked, released,
            ref, status, due, returned, site_name, lat, lon,
        ) in rows
    ]  # fmt: skip


def _latest_not_finished(job_ids: Iterable[int]) -> dict[int, JobReport]:
    """Each job's latest "not finished" report, with its crew. One query (none for no jobs)."""
    wanted = set(job_ids)
    if not wanted:
        return {}
    reports = (
        JobReport.objects.filter(job_id__in=wanted, kind=ReportKind.INCOMPLETE)
        .select_related("crew")
        .order_by("occurred_at", "id")
    )
    return {report.job_id: report for report in reports}


def _release_labels(visits: list[BoardVisit]) -> dict[int, str]:
    """What became of the visits that left the live schedule, by visit id.

    A visit the crew reported not finished reads "Not finished (No access) —
    back in the queue" (or "— planned again" once the job is live again); a
    visit whose job a coordinator moved into another plan says so. A plan
    replaced by its revision needs no word per visit: its status says it.
    """
    released = [v for v in visits if v.release_reason in _RELEASE_SHOWN]
    if not released:
        return {}
    failures: dict[int, JobReport] = {}
    not_finished = [v for v in released if v.release_reason == ReleaseReason.NOT_FINISHED]
    if not_finished:
        reports = JobReport.objects.filter(
            job_id__in={v.job_id for v in not_finished}, kind=ReportKind.INCOMPLETE
        ).order_by("occurred_at", "id")
        by_job: dict[int, list[JobReport]] = defaultdict(list)
        for report in reports:
            by_job[report.job_id].append(report)
        for visit in not_finished:
            mine = [r for r in by_job[visit.job_id] if r.visit_id == visit.pk]
            found = mine or by_job[visit.job_id]
            if found:
                failures[visit.pk] = found[-1]
    labels = {}
    for visit in released:
        if visit.release_reason == ReleaseReason.TAKEN_OVER:
            labels[visit.pk] = _("Moved to another plan by a coordinator")
            continue
        failure = failures.get(visit.pk)
        reason = failure.get_reason_code_display() if failure and failure.reason_code else ""
        words = {"reason": reason}
        if visit.job.returned_from_field_at is not None:
            labels[visit.pk] = (
                _("Not finished (%(reason)s) — back in the queue") % words
                if reason
                else _("Not finished — back in the queue")
            )
        else:
            labels[visit.pk] = (
                _("Not finished (%(reason)s) — planned again") % words
                if reason
                else _("Not finished — planned again")
            )
    return labels


#: Why a visit left the schedule, when the board marks it on the visit itself.
_RELEASE_SHOWN = frozenset({ReleaseReason.NOT_FINISHED, ReleaseReason.TAKEN_OVER})


def _skill_labels(visits: list[BoardVisit]) -> dict[int, str]:
    """Required skills per job id, as labels in the active language, from one query.

    Cheaper than ``prefetch_related``: 1,500 visits would otherwise build
    1,500 prefetched querysets just to read two codes each.
    """
    through = Job.required_skills.through
    labels: dict[int, list[str]] = defaultdict(list)
    rows = through.objects.filter(job_id__in=[v.job_id for v in visits]).values_list(
        "job_id", "skill__name", "skill__name_en"
    )
    for job_id, name, name_en in rows.order_by("skill__code"):
        labels[job_id].append(label_for(name, name_en))
    return {job_id: join_labels(names) for job_id, names in labels.items()}


def build_cells(
    plan: Plan,
    crews: list[Crew],
    dates: tuple[dt.date, ...],
    visits: Iterable[BoardVisit],
    calendar: WorkCalendar | None = None,
) -> dict[str, Cell]:
    """Every crew-day cell of ``crews`` x ``dates`` with its visits, bar, figures and warnings.

    Which crew-days are closed (weekday off, national holiday, closures,
    absences, unless an extra working day) is ``calendar``'s answer, loaded
    here for ``crews`` x ``dates`` when the caller has none.
    """
    params = PlanParameters.from_dict(plan.params)
    if calendar is None:
        calendar = WorkCalendar.load(crews, dates[0], dates[-1])
    visits = list(visits)
    skills = _skill_labels(visits)
    released = _release_labels(visits)
    # The same rules the editing services apply (``crew_day_taken``, ``crew_day_scope``),
    # so a cell the server would refuse never accepts a drop in the first place.
    held = ledger_holdings(plan, job_ids=set())
    usable = crew_day_usable(plan, held)
    # Translated once, not once per segment (gettext is slow at 3,000 calls).
    words = {
        "drive": _("%(minutes)s min drive"),
        "home": _("%(minutes)s min back to base"),
        "lunch": _("lunch %(start)s–%(end)s"),
    }
    lunches = {(b.crew_id, b.date): b for b in PlannedBreak.objects.filter(plan=plan)}
    # Every visit is listed in its cell; the day's bar and figures are its live route only
    # (a visit reported not finished, or moved to another plan, is off the schedule).
    listed: dict[tuple[int, dt.date], list[BoardVisit]] = defaultdict(list)
    routes: dict[tuple[int, dt.date], list[BoardVisit]] = defaultdict(list)
    for visit in visits:
        listed[(visit.crew_id, visit.date)].append(visit)
        if visit.pk not in released:
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
    today = planning_today()
    kept_gone: set[Place] | None = None
    sent_gone: dict[tuple[int, dt.date], list[Visit]] = {}
    if plan.status in EDITABLE and dates[0] < today:
        kept_gone = live_places({v.job_id for v in visits}, first=dates[0], before=today)
        sent_gone = _sent_on_days_gone(plan, crews, dates, today)
    cells: dict[str, Cell] = {}
    for crew in crews:
        for date in dates:
            closed = calendar.closed(crew.pk, date)
            cell = Cell(
                crew=crew,
                date=date,
                works=closed is None,
                off_reason=closed.label if closed else "",
                closed_code=closed.code if closed else "",
                gone=date < today,
            )
            cell.held_by = held.crew_day_owner(crew.pk, date)
            cell.out_of_scope = cell.held_by is None and not usable(crew.pk, date)
            route = routes.get((crew.pk, date), [])
            cell.visits = [
                VisitItem(
                    visit=v,
                    start=_local_hm(v.planned_start),
                    end=_local_hm(v.planned_end),
                    fixed=v.job.status in FIXED_STATUSES,
                    late=v.job.due_date is not None and v.date > v.job.due_date,
                    skills=skills.get(v.job_id, ""),
                    released=released.get(v.pk, ""),
                )
                for v in listed.get((crew.pk, date), [])
            ]
            if route:
                leg = legs[(crew.pk, date)]
                cell.figures = day_figures(crew, route, leg)
                lunch = lunches.get((crew.pk, date))
                cell.segments = _segments(crew, date, route, leg[1], words, lunch)
                cell.warnings = _warnings(crew, cell, cell.figures, params, kept_gone)
            else:
                cell.figures = day_figures(crew, [], (0, 0))
            cell.warnings += _taken_off_warnings(cell, sent_gone.get((crew.pk, date), []))
            cells[cell.key] = cell
    return cells


def _sent_on_days_gone(
    plan: Plan, crews: list[Crew], dates: tuple[dt.date, ...], today: dt.date
) -> dict[tuple[int, dt.date], list[Visit]]:
    """The live visits of the plan ``plan`` revises on its days gone by, by crew-day.

    Publishing refuses a revision that no longer holds one of them where it is
    (``plans._check_days_gone_stay``); the board says so on that crew-day.
    """
    if plan.revises_id is None:
        return {}
    sent: dict[tuple[int, dt.date], list[Visit]] = defaultdict(list)
    for visit in (
        live_visits()
        .filter(
            plan_id=plan.revises_id,
            crew__in=crews,
            date__gte=dates[0],
            date__lt=today,
        )
        .select_related("job")
    ):
        sent[(visit.crew_id, visit.date)].append(visit)
    return sent


def _taken_off_warnings(cell: Cell, sent: list[Visit]) -> list[str]:
    """One warning per visit the field was sent to on this day gone by that the plan moved."""
    held = {item.visit.job_id for item in cell.visits}
    return [
        _(
            "%(job)s was sent to this crew-day, which has passed: publishing will be refused "
            "until its visit is back here"
        )
        % {"job": visit.job.reference}
        for visit in sorted(sent, key=lambda v: v.sequence)
        if visit.job_id not in held
    ]


def queue_jobs(plan: Plan, filters: QueueFilters) -> list[QueueItem]:
    """Ready jobs not live anywhere and not in this plan, with the solver's reasons.

    Jobs a crew could not finish come first (those failed more than once
    before the others): each is a promise already broken once. A visit
    reported not finished has left its plan, so its job is back in the
    published plan's queue too.
    """
    # A visit that left the schedule (not finished, taken over) no longer holds its job here.
    in_plan = Visit.objects.filter(plan=plan, released_at__isnull=True).values("job_id")
    own = [plan.pk] if plan.revises_id is None else [plan.pk, plan.revises_id]
    # Jobs live in the published plan being revised stay candidates, as for the solver;
    # jobs live in any other plan are that plan's.
    revised = (
        Q(pk__in=live_visits().filter(plan_id=plan.revises_id).values("job_id"))
        if plan.revises_id
        else Q(pk__in=[])
    )
    elsewhere = live_visits().exclude(plan_id__in=own).values("job_id")
    jobs = (
        Job.objects.filter(ready_for(plan) | revised)
        .exclude(pk__in=in_plan)
        .exclude(pk__in=elsewhere)
    )
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
    found = list(
        jobs.select_related("site__region")
        .prefetch_related("required_skills")
        .distinct()
        .order_by("due_date", "-priority", "reference")
    )
    # Returned from the field first, those needing attention first of all (a stable sort).
    found.sort(key=lambda job: (not job.needs_attention, not job.is_returned_from_field))
    failures = _latest_not_finished(job.pk for job in found if job.is_returned_from_field)
    reasons = {row.get("job_id"): row.get("reasons", []) for row in plan.unassigned}
    not_planned = [{"rule": "not_planned", "message": _("optimize, or drag it onto a crew-day")}]
    return [
        QueueItem(
            job=job,
            # A returned job's reason is the crew's report, shown on its own line.
            reasons=reasons.get(job.pk) or ([] if job.is_returned_from_field else not_planned),
            skills=join_labels(s.label for s in job.required_skills.all()),
            overdue=job.due_date is not None and job.due_date < plan.start_date,
            attempt=attempt_label(job.failed_attempts + 1) if job.is_returned_from_field else "",
            failure=failures.get(job.pk),
        )
        for job in found
    ]


def attempt_label(number: int) -> str:
    """2 -> "2nd attempt": the visit a returned job's next plan would be."""
    # Japanese counts with the number (%(n)s回目), English with the ordinal: the
    # catalogue's translation uses a placeholder the msgid does not.
    # xgettext:no-python-format
    label = _("%(ordinal)s attempt")
    return label % {"ordinal": _english_ordinal(number), "n": number}


def _english_ordinal(number: int) -> str:
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


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
    # One calendar for the whole render: the cells and the day headers read it.
    calendar = WorkCalendar.load(crews, dates[0], dates[-1])
    cells = build_cells(plan, crews, dates, visits, calendar)
    groups: dict[int, CompanyGroup] = {}
    for crew in sorted(crews, key=lambda c: (c.company.name, c.name)):
        group = groups.setdefault(crew.company_id, CompanyGroup(company=crew.company, rows=[]))
        group.rows.append(
            CrewRow(
                crew=crew,
                skills=join_labels(s.label for s in crew.skills.all()),
                cells=[cells[f"{crew.pk}:{date.isoformat()}"] for date in dates],
            )
        )
    queue = queue_jobs(plan, filters)
    day_figures_all = [c.figures for c in cells.values() if c.figures is not None]
    active, pending = _runs(plan)
    today = planning_today()
    return Board(
        plan=plan,
        dates=dates,
        days=[
            BoardDay(
                date=date,
                labels=tuple(calendar.day_labels(date)),
                holiday=calendar.is_holiday(date),
                gone=date < today,
            )
            for date in dates
        ],
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
    visits = list(
        plan.visits.exclude(release_reason__in=_RELEASE_SHOWN).select_related("crew", "job__site")
    )
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
