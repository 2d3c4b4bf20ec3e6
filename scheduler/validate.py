"""An independent check of every hard rule, without OR-Tools.

The solver is tested against this module, so it shares no code with the
OR-Tools adapter: it reads the plan (a :class:`~scheduler.result.Result`, a
:class:`~scheduler.model.Plan`, or one crew-day's job order) and the problem,
and lists every broken rule. Rule names are stable strings because the web UI
shows them when a manual move is refused (HTTP 409):

======================  =====================================================
rule                    broken when
======================  =====================================================
``unknown``             the plan names a job or crew-day the problem lacks
``duplicate``           a job is planned more than once
``skill``               the crew lacks a skill the job requires
``members``             the crew has fewer members than the job needs
``day``                 the job's dates forbid that day, or the crew does not work it
``window``              a visit starts outside the job's access windows
``shift``               the route leaves before the shift or is home after it
``min_gap``             less free time than the minimum gap between two jobs
``max_utilization``     work + travel exceed the crew-day's utilization cap
``max_jobs``            more visits than the crew's daily maximum
``capacity``            job demand exceeds the crew's capacity units
``locked``              a locked visit moved (crew, day, start or position)
``travel``              times or legs disagree with the travel matrix
``kpi``                 reported totals or costs disagree with a recomputation
``lunch``               the crew-day's lunch cannot be placed, starts outside
                        its window, overlaps a visit, or leaves too little
                        time to drive (and keep the gap) around it
``grid``                a visit (not locked to a start) starts off the
                        problem's time grid (``Problem.time_grid_s``)
======================  =====================================================

Messages are for people: days are labelled with
:meth:`~scheduler.model.Problem.day_label` (``"12/07"`` when the problem has a
``first_date``) and times as ``HH:MM``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise

from scheduler.model import CrewDay, Job, Plan, Problem, TimeWindow, clock_label
from scheduler.phrases import Clauses, Duration, Listing, Text, fill, template, text
from scheduler.result import MILLI, Result, Route, build_route, objective_terms
from scheduler.timing import Visit
from scheduler.travel import TravelMatrix, travel_for

RULES = (
    "unknown",
    "duplicate",
    "skill",
    "members",
    "day",
    "window",
    "shift",
    "min_gap",
    "max_utilization",
    "max_jobs",
    "capacity",
    "locked",
    "travel",
    "kpi",
    "lunch",
    "grid",
)
"""Every rule name :func:`validate` may report."""


@dataclass(frozen=True)
class Violation:
    """One broken rule, with where it happened."""

    rule: str
    message: str
    """The English sentence, for logs: ``template.format(**params)``."""
    job_id: str | None = None
    crew_id: str | None = None
    day: int | None = None
    params: Mapping[str, object] = field(default_factory=dict, hash=False)
    """What fills the template: raw values (codes, ints, ``"HH:MM"``, :mod:`scheduler.phrases`)."""
    template: str = ""
    """Its template (one of :data:`scheduler.phrases.TEMPLATES`); empty for a free text."""

    @classmethod
    def of(
        cls,
        rule: str,
        template: str,
        params: Mapping[str, object] | None = None,
        job_id: str | None = None,
        crew_id: str | None = None,
        day: int | None = None,
    ) -> Violation:
        """A violation whose message is ``template`` filled with ``params``."""
        params = dict(params or {})
        return cls(rule, fill(template, params), job_id, crew_id, day, params, template)


JOB_UNKNOWN = template("job {job} is not in the problem")
JOB_TWICE_IN_ROUTE = template("job {job} appears twice in the route")
CREW_UNKNOWN = template("crew {crew} is not in the problem")
CREW_DAY_OFF = template("crew {crew} does not work on {day}")
CREW_LACKS_SKILLS = template("crew {crew} lacks skill(s) {skills}")
TOO_FEW_MEMBERS = template("job needs {members} members, crew {crew} has {crew_members}")
DAY_NOT_ALLOWED = template("{day} is not an allowed day: {why}")
STARTS_TOO_EARLY = template("the job can start {day} at the earliest")
DUE_EARLIER = template("it is due {day} (promised to the customer)")
PROMISED_OTHER_DAYS = template("it was promised for {days}")
CUSTOMER_UNAVAILABLE = template("the customer is unavailable")
DATES_FORBID = template("its dates forbid it")
LEAVES_BEFORE_SHIFT = template(
    "the crew leaves home at {time}, before its shift starts at {shift_start}"
)
OUTSIDE_WINDOWS = template("starts {start}, outside its access windows ({windows})")
OFF_GRID = template("starts {seconds} s after {when}, off the {grid}-second time grid")
GAP_TOO_SHORT = template("only {free} min free before the visit, {required} min required")
LUNCH_SQUEEZES_DRIVE = template(
    "the {minutes}-min lunch before this visit leaves too little time to drive there "
    "(and keep the minimum gap)"
)
HOME_AFTER_SHIFT = template("the crew is home at {time}, after its shift ends at {shift_end}")
RETURN_INCONSISTENT = template("reported return time is inconsistent")
LUNCH_WITHOUT_ONE = template("a lunch is planned on a crew-day without one")
NO_ROOM_FOR_LUNCH = template(
    "no room for the lunch break ({earliest}–{latest}, {minutes} min) on {day}"
)
LUNCH_OUTSIDE_WINDOW = template(
    "the lunch starts at {time}, outside its window ({earliest}–{latest}, {minutes} min)"
)
LUNCH_END_WRONG = template("the reported lunch end is not its start plus its duration")
LEAVES_DURING_LUNCH = template("the crew leaves home during its lunch")
LUNCH_OVERLAPS_VISIT = template("the lunch overlaps the visit of job {job}")
HOME_DURING_LUNCH = template("the crew is back home during its lunch")
LEG_DIFFERS = template("leg differs from the travel matrix")
ARRIVES_TOO_SOON = template("arrives before the travel time allows")
STARTS_BEFORE_ARRIVING = template("starts before arriving")
END_NOT_START_PLUS_DURATION = template("end is not start + duration")
OVER_CAP = template("work + travel {busy} exceed the cap of {cap} ({share:.0%} of the shift)")
OVER_CAP_WITH_LUNCH = template(
    "work + travel {busy} exceed the cap of {cap} ({share:.0%} of the shift minus lunch)"
)
TOO_MANY_JOBS = template("{jobs} jobs, at most {max_jobs} a day")
OVER_CAPACITY = template("demand {demand} exceeds capacity {capacity}")
ROUTE_TOTALS_DIFFER = template("route totals {reported} differ from recomputed {recomputed}")
PLANNED_TIMES = template("job {job} is planned {times} times")
LOCKED_NOT_PLANNED = template("locked visit is not planned")
LOCKED_MOVED = template("locked on crew {crew} {day}, planned on crew {planned_crew} {planned_day}")
LOCKED_POSITION_MOVED = template("locked at position {position}, planned at {planned}")
NEITHER_PLANNED_NOR_UNASSIGNED = template("job neither planned nor unassigned")
BOTH_PLANNED_AND_UNASSIGNED = template("job both planned and unassigned")
UNASSIGNED_WITHOUT_REASON = template("unassigned job without a reason")
OBJECTIVE_TERM_DIFFERS = template(
    "objective term {term}: reported {reported}, recomputed {recomputed}"
)
KPIS_DIFFER = template("plan KPIs differ from the routes")


def validate(
    problem: Problem, plan: Result | Plan, travel: TravelMatrix | None = None
) -> list[Violation]:
    """List every hard rule the plan breaks (empty list = valid).

    Parameters
    ----------
    problem
        The problem the plan is for.
    plan
        A solver :class:`Result` (its times, legs, totals and costs are checked
        as reported) or a :class:`Plan` (times are derived as the earliest
        schedule of each route's order).
    travel
        The travel matrix; defaults to :func:`scheduler.travel.travel_for`.

    Returns
    -------
    list[Violation]
        Violations in a stable order (route by route, then plan-wide rules).
    """
    travel = travel or travel_for(problem)
    violations: list[Violation] = []
    if isinstance(plan, Result):
        routes: Sequence[Route] = plan.routes
        for route in routes:
            violations += _check_route(problem, travel, route, reported=True)
        order = {r.key: r.job_ids for r in routes}
        unassigned_ids = [u.job_id for u in plan.unassigned]
    else:
        order = {key: tuple(ids) for key, ids in plan.routes.items()}
        for (crew_id, day), job_ids in order.items():
            violations += validate_route(problem, crew_id, day, job_ids, travel)
        unassigned_ids = [j.id for j in problem.jobs if j.id not in plan.assignment()]
    violations += _check_each_job_once(problem, order.values())
    violations += _check_locked_kept(problem, order)
    if isinstance(plan, Result):
        violations += _check_totals(problem, travel, plan, order, unassigned_ids)
    return violations


def validate_route(
    problem: Problem,
    crew_id: str,
    day: int,
    visits: Sequence[str] | Route,
    travel: TravelMatrix | None = None,
) -> list[Violation]:
    """Check one crew-day's route, e.g. after a manual move in the web UI.

    Parameters
    ----------
    problem
        The problem the route belongs to.
    crew_id, day
        The crew-day.
    visits
        Job ids in visit order (times are derived as the earliest schedule) or a
        :class:`~scheduler.result.Route` with reported times.
    travel
        The travel matrix; defaults to :func:`scheduler.travel.travel_for`.

    Returns
    -------
    list[Violation]
        Route-level violations. Whether a job also appears on another route is
        a plan-wide rule checked by :func:`validate`.
    """
    travel = travel or travel_for(problem)
    if isinstance(visits, Route):
        return _check_route(problem, travel, visits, reported=True)
    job_ids = list(visits)
    unknown = [j for j in job_ids if j not in problem.jobs_by_id()]
    crew_day = problem.crew_days_by_key().get((crew_id, day))
    violations = [
        Violation.of("unknown", JOB_UNKNOWN, {"job": j}, j, crew_id, day) for j in unknown
    ]
    if crew_day is None:
        return [*violations, _no_crew_day(problem, crew_id, day)]
    known = [j for j in job_ids if j not in unknown]
    route = build_route(problem, travel, crew_id, day, known)
    duplicates = [j for j, n in Counter(known).items() if n > 1]
    violations += [
        Violation.of("duplicate", JOB_TWICE_IN_ROUTE, {"job": j}, j, crew_id, day)
        for j in duplicates
    ]
    return violations + _check_route(problem, travel, route, reported=False)


def _no_crew_day(problem: Problem, crew_id: str, day: int) -> Violation:
    """The violation for a route on a crew-day the problem does not have."""
    if crew_id not in problem.crews_by_id():
        return Violation.of("unknown", CREW_UNKNOWN, {"crew": crew_id}, None, crew_id, day)
    params = {"crew": crew_id, "day": problem.day_ref(day)}
    return Violation.of("day", CREW_DAY_OFF, params, None, crew_id, day)


def _check_route(
    problem: Problem, travel: TravelMatrix, route: Route, *, reported: bool
) -> list[Violation]:
    """All route-level rules; ``reported`` also checks times/legs/totals as given."""
    crew_day = problem.crew_days_by_key().get(route.key)
    if crew_day is None:
        return [_no_crew_day(problem, route.crew_id, route.day)]
    jobs = problem.jobs_by_id()
    unknown = [v.job_id for v in route.visits if v.job_id not in jobs]
    if unknown:
        return [Violation.of("unknown", JOB_UNKNOWN, {"job": j}, j, *route.key) for j in unknown]
    route_jobs = [jobs[v.job_id] for v in route.visits]
    violations: list[Violation] = []
    for job in route_jobs:
        violations += _check_crew_fits_job(problem, crew_day, job)
    violations += _check_times(problem, travel, crew_day, route, route_jobs)
    violations += _check_route_loads(problem, crew_day, route, route_jobs)
    if reported:
        violations += _check_route_totals(problem, travel, route)
    return violations


def _check_crew_fits_job(problem: Problem, crew_day: CrewDay, job: Job) -> list[Violation]:
    """Skills, members and day of one job on one crew-day."""
    crew = problem.crew(crew_day.crew_id)
    where = (job.id, crew_day.crew_id, crew_day.day)
    violations: list[Violation] = []
    missing = sorted(job.required_skills - crew.skills)
    if missing:
        violations.append(
            Violation.of(
                "skill", CREW_LACKS_SKILLS, {"crew": crew.id, "skills": Listing(missing)}, *where
            )
        )
    if crew.members < job.members_needed:
        violations.append(
            Violation.of(
                "members",
                TOO_FEW_MEMBERS,
                {"members": job.members_needed, "crew": crew.id, "crew_members": crew.members},
                *where,
            )
        )
    if not job.day_allowed(crew_day.day):
        refusal = day_refusal_text(problem, job, crew_day.day)
        violations.append(Violation.of("day", refusal.template, refusal.params, *where))
    return violations


def day_refusal(problem: Problem, job: Job, day: int) -> str:
    """Why ``job`` may not be done on ``day``: ``"12/03 is not an allowed day: ..."``."""
    return format(day_refusal_text(problem, job, day))


def day_refusal_text(problem: Problem, job: Job, day: int) -> Text:
    """:func:`day_refusal` as a template and its params."""
    why = []
    if job.earliest_day is not None and day < job.earliest_day:
        why.append(text(STARTS_TOO_EARLY, day=problem.day_ref(job.earliest_day)))
    if job.due_is_hard and job.due_day is not None and day > job.due_day:
        why.append(text(DUE_EARLIER, day=problem.day_ref(job.due_day)))
    if job.promise_is_hard and job.promised_days and day not in job.promised_days:
        why.append(text(PROMISED_OTHER_DAYS, days=promised_days_ref(problem, job)))
    if day in job.unavailable_days:
        why.append(text(CUSTOMER_UNAVAILABLE))
    return text(DAY_NOT_ALLOWED, day=problem.day_ref(day), why=Clauses(why or [text(DATES_FORBID)]))


def promised_days_ref(problem: Problem, job: Job) -> Listing:
    """The promised days as a message parameter (formats as :func:`promised_days_label`)."""
    return Listing(problem.day_ref(d) for d in sorted(job.promised_days))


def promised_days_label(problem: Problem, job: Job) -> str:
    """The promised days, e.g. ``"12/07"`` or ``"12/07, 12/08"``."""
    return ", ".join(problem.day_label(d) for d in sorted(job.promised_days))


def windows_label(problem: Problem, windows: Sequence[TimeWindow]) -> str:
    """Start windows for people: ``"12/07 09:00–12:00, 12/08 09:00–12:00"``."""
    return ", ".join(problem.window_label(w.start_s, w.end_s) for w in windows)


def _check_times(
    problem: Problem,
    travel: TravelMatrix,
    crew_day: CrewDay,
    route: Route,
    route_jobs: Sequence[Job],
) -> list[Violation]:
    """Windows, shift, minimum gap, lunch, grid and consistency of times with travel."""
    crew = problem.crew(crew_day.crew_id)
    gap_s = problem.min_gap_s(crew)
    key = route.key
    violations: list[Violation] = []
    if route.depart_s < crew_day.shift_start_s:
        violations.append(
            Violation.of(
                "shift",
                LEAVES_BEFORE_SHIFT,
                {
                    "time": clock_label(route.depart_s),
                    "shift_start": clock_label(crew_day.shift_start_s),
                },
                None,
                *key,
            )
        )
    lunch_leg, lunch_violations = _check_lunch(problem, crew_day, route)
    lunch_s = crew_day.lunch_s
    here = travel.index(crew.home)
    clock_s = route.depart_s
    grid_s = problem.time_grid_s
    for position, (visit, job) in enumerate(zip(route.visits, route_jobs, strict=True)):
        there = travel.index(job.location)
        leg_m = int(travel.distance_m[here, there])
        leg_s = int(travel.duration_s[here, there])
        violations += _check_leg(visit, leg_m, leg_s, clock_s, job, key)
        if not job.start_allowed(visit.start_s):
            windows = job.start_windows()
            violations.append(
                Violation.of(
                    "window",
                    OUTSIDE_WINDOWS,
                    {
                        "start": problem.when_ref(visit.start_s),
                        "windows": problem.windows_ref(windows),
                    },
                    job.id,
                    *key,
                )
            )
        locked_start = job.fixed is not None and job.fixed.start_s is not None
        if grid_s > 1 and not locked_start and visit.start_s % grid_s:
            violations.append(
                Violation.of(
                    "grid",
                    OFF_GRID,
                    {
                        "seconds": visit.start_s % grid_s,
                        "when": problem.when_ref(visit.start_s - visit.start_s % grid_s),
                        "grid": grid_s,
                    },
                    job.id,
                    *key,
                )
            )
        free_s = visit.start_s - (clock_s + leg_s)
        needed_gap_s = gap_s if position > 0 else 0
        if position > 0 and free_s < needed_gap_s:
            violations.append(
                Violation.of(
                    "min_gap",
                    GAP_TOO_SHORT,
                    {"free": free_s // 60, "required": needed_gap_s // 60},
                    job.id,
                    *key,
                )
            )
        elif lunch_leg == position and free_s < needed_gap_s + lunch_s:
            violations.append(
                Violation.of(
                    "lunch", LUNCH_SQUEEZES_DRIVE, {"minutes": lunch_s // 60}, job.id, *key
                )
            )
        clock_s = visit.end_s
        here = there
    home = travel.index(crew.home)
    back_s = int(travel.duration_s[here, home])
    home_s = clock_s + back_s + (lunch_s if lunch_leg == len(route.visits) else 0)
    if max(home_s, route.return_s) > crew_day.shift_end_s:
        violations.append(
            Violation.of(
                "shift",
                HOME_AFTER_SHIFT,
                {
                    "time": clock_label(max(home_s, route.return_s)),
                    "shift_end": clock_label(crew_day.shift_end_s),
                },
                None,
                *key,
            )
        )
    if route.return_s != home_s and not (
        lunch_leg == len(route.visits) and route.return_s > home_s
    ):
        violations.append(Violation.of("travel", RETURN_INCONSISTENT, None, None, *key))
    unplaced = route.lunch_start_s is None
    if not (unplaced and any(v.rule in ("window", "shift") for v in violations)):
        # A route that misses windows or its shift has no lunch placed either;
        # saying so would only repeat the real problem.
        violations += lunch_violations
    return violations


def _check_lunch(
    problem: Problem, crew_day: CrewDay, route: Route
) -> tuple[int | None, list[Violation]]:
    """Where the route's lunch is and whether it keeps its rules.

    Returns the leg the lunch falls on (``k``: the leg to visit ``k``;
    ``len(visits)``: the leg home; ``None``: at home before leaving or after
    the return, or no lunch), so the caller can require the drive, the gap
    and the lunch to fit on that leg, and the lunch's own violations: not
    placed, outside its window, overlapping a visit or the departure/return.
    """
    lunch = crew_day.lunch
    key = route.key
    if lunch is None or not route.visits:
        if route.lunch_start_s is not None and lunch is None:
            return None, [Violation.of("lunch", LUNCH_WITHOUT_ONE, None, None, *key)]
        return None, []
    window = {
        "earliest": clock_label(lunch.earliest_start_s),
        "latest": clock_label(lunch.latest_start_s),
        "minutes": lunch.duration_s // 60,
    }
    if route.lunch_start_s is None:
        params = {**window, "day": problem.day_ref(crew_day.day)}
        return None, [Violation.of("lunch", NO_ROOM_FOR_LUNCH, params, None, *key)]
    start_s = route.lunch_start_s
    end_s = start_s + lunch.duration_s
    problems: list[Text] = []
    if not lunch.earliest_start_s <= start_s <= lunch.latest_start_s:
        problems.append(text(LUNCH_OUTSIDE_WINDOW, time=clock_label(start_s), **window))
    if route.lunch_end_s is not None and route.lunch_end_s != end_s:
        problems.append(text(LUNCH_END_WRONG))
    leg: int | None = None
    if end_s <= route.depart_s or start_s >= route.return_s:
        leg = None
    elif start_s < route.depart_s:
        problems.append(text(LEAVES_DURING_LUNCH))
    else:
        previous_end_s = route.depart_s
        for k, visit in enumerate(route.visits):
            if start_s < visit.end_s and visit.start_s < end_s:
                problems.append(text(LUNCH_OVERLAPS_VISIT, job=visit.job_id))
                break
            if previous_end_s <= start_s and end_s <= visit.start_s:
                leg = k
                break
            previous_end_s = visit.end_s
        else:
            if end_s > route.return_s:
                problems.append(text(HOME_DURING_LUNCH))
            else:
                leg = len(route.visits)
    return leg, [Violation.of("lunch", p.template, p.params, None, *key) for p in problems]


def _check_leg(
    visit: Visit, leg_m: int, leg_s: int, clock_s: int, job: Job, key: tuple[str, int]
) -> list[Violation]:
    """The visit's leg and times agree with the matrix and the job's duration."""
    problems = []
    if (visit.travel_m, visit.travel_s) != (leg_m, leg_s):
        problems.append(LEG_DIFFERS)
    if visit.arrival_s < clock_s + leg_s:
        problems.append(ARRIVES_TOO_SOON)
    if visit.start_s < visit.arrival_s:
        problems.append(STARTS_BEFORE_ARRIVING)
    if visit.end_s != visit.start_s + job.duration_s:
        problems.append(END_NOT_START_PLUS_DURATION)
    return [Violation.of("travel", p, None, job.id, *key) for p in problems]


def _check_route_loads(
    problem: Problem, crew_day: CrewDay, route: Route, route_jobs: Sequence[Job]
) -> list[Violation]:
    """Utilization, number of jobs and capacity of one crew-day."""
    crew = problem.crew(crew_day.crew_id)
    key = route.key
    violations: list[Violation] = []
    busy_s = sum(j.duration_s for j in route_jobs) + sum(v.travel_s for v in route.visits)
    busy_s += route.return_travel_s if route.visits else 0
    cap_s = problem.busy_cap_s(crew_day)
    if route.visits and busy_s > cap_s:
        violations.append(
            Violation.of(
                "max_utilization",
                OVER_CAP_WITH_LUNCH if crew_day.lunch is not None else OVER_CAP,
                {
                    "busy": Duration(busy_s),
                    "cap": Duration(cap_s),
                    "share": problem.max_utilization(crew),
                },
                None,
                *key,
            )
        )
    if crew.max_jobs_per_day is not None and len(route_jobs) > crew.max_jobs_per_day:
        violations.append(
            Violation.of(
                "max_jobs",
                TOO_MANY_JOBS,
                {"jobs": len(route_jobs), "max_jobs": crew.max_jobs_per_day},
                None,
                *key,
            )
        )
    demand = sum(j.demand_units for j in route_jobs)
    if crew.capacity_units is not None and demand > crew.capacity_units:
        violations.append(
            Violation.of(
                "capacity",
                OVER_CAPACITY,
                {"demand": demand, "capacity": crew.capacity_units},
                None,
                *key,
            )
        )
    return violations


def _check_route_totals(problem: Problem, travel: TravelMatrix, route: Route) -> list[Violation]:
    """Reported route totals match a recomputation from the matrix."""
    jobs = problem.jobs_by_id()
    crew = problem.crew(route.crew_id)
    stops = [travel.index(crew.home)] + [
        travel.index(jobs[v.job_id].location) for v in route.visits
    ]
    stops.append(stops[0])
    distance_m = sum(int(travel.distance_m[a, b]) for a, b in pairwise(stops))
    drive_s = sum(int(travel.duration_s[a, b]) for a, b in pairwise(stops))
    work_s = sum(jobs[v.job_id].duration_s for v in route.visits)
    reported = (route.distance_m, route.drive_s, route.work_s)
    if reported != (distance_m, drive_s, work_s):
        return [
            Violation.of(
                "kpi",
                ROUTE_TOTALS_DIFFER,
                {"reported": reported, "recomputed": (distance_m, drive_s, work_s)},
                None,
                *route.key,
            )
        ]
    return []


def _check_each_job_once(problem: Problem, routes: Iterable[Sequence[str]]) -> list[Violation]:
    """No job appears on two routes (or twice on one)."""
    counts = Counter(j for ids in routes for j in ids)
    return [
        Violation.of("duplicate", PLANNED_TIMES, {"job": job_id, "times": n}, job_id)
        for job_id, n in sorted(counts.items())
        if n > 1
    ]


def _check_locked_kept(
    problem: Problem, order: Mapping[tuple[str, int], Sequence[str]]
) -> list[Violation]:
    """Locked visits are planned on their crew-day, at their position (start checked as window)."""
    planned = {j: (key, pos) for key, ids in order.items() for pos, j in enumerate(ids)}
    violations: list[Violation] = []
    for job in problem.jobs:
        if job.fixed is None:
            continue
        fixed = job.fixed
        if job.id not in planned:
            violations.append(
                Violation.of("locked", LOCKED_NOT_PLANNED, None, job.id, fixed.crew_id, fixed.day)
            )
            continue
        key, position = planned[job.id]
        if key != (fixed.crew_id, fixed.day):
            violations.append(
                Violation.of(
                    "locked",
                    LOCKED_MOVED,
                    {
                        "crew": fixed.crew_id,
                        "day": problem.day_ref(fixed.day),
                        "planned_crew": key[0],
                        "planned_day": problem.day_ref(key[1]),
                    },
                    job.id,
                    *key,
                )
            )
        elif fixed.sequence is not None and position != fixed.sequence:
            violations.append(
                Violation.of(
                    "locked",
                    LOCKED_POSITION_MOVED,
                    {"position": fixed.sequence, "planned": position},
                    job.id,
                    *key,
                )
            )
    return violations


def _check_totals(
    problem: Problem,
    travel: TravelMatrix,
    result: Result,
    order: Mapping[tuple[str, int], Sequence[str]],
    unassigned_ids: Sequence[str],
) -> list[Violation]:
    """Every job is planned or unassigned (with a reason); KPIs and costs recompute."""
    violations: list[Violation] = []
    planned = {j for ids in order.values() for j in ids}
    unassigned = set(unassigned_ids)
    for job in problem.jobs:
        if job.id not in planned and job.id not in unassigned:
            violations.append(Violation.of("kpi", NEITHER_PLANNED_NOR_UNASSIGNED, None, job.id))
        if job.id in planned and job.id in unassigned:
            violations.append(Violation.of("kpi", BOTH_PLANNED_AND_UNASSIGNED, None, job.id))
    for u in result.unassigned:
        if not u.reasons:
            violations.append(Violation.of("kpi", UNASSIGNED_WITHOUT_REASON, None, u.job_id))
    terms = objective_terms(problem, travel, order, unassigned_ids)
    for name, milli in terms.items():
        reported = result.objective_yen.get(name)
        if reported is None or round(reported * MILLI) != milli:
            violations.append(
                Violation.of(
                    "kpi",
                    OBJECTIVE_TERM_DIFFERS,
                    {"term": name, "reported": reported, "recomputed": milli / MILLI},
                )
            )
    km = sum(r.distance_m for r in result.routes) / 1000.0
    if abs(result.kpis.total_km - km) > 1e-6 or result.kpis.jobs_assigned != len(planned):
        violations.append(Violation.of("kpi", KPIS_DIFFER))
    return violations
