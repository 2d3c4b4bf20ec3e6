"""Manual edits of a plan: move, place, unassign, lock. Checked by the scheduler's validator.

A coordinator's drag is a proposal like any other: every route it touches is
checked against the same hard rules the solver obeys (skills, members, day,
access window, shift, minimum gap, utilization, max jobs, capacity, locked
visits), and refused with the broken rule's name. Accepted edits re-time the
touched routes at once and bump the plan's version, which is how a running
optimization learns that it must not overwrite them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from django.db import transaction
from django.db.models import F, Q
from django.utils import translation
from django.utils.translation import gettext as _

import scheduler
from accounts.models import User
from scheduler.timing import RouteSchedule

from . import texts
from .ledger import ledger_holdings, ledger_lock, live_visits
from .models import Crew, Job, Plan, PlannedBreak, Visit
from .plans import _bump, _locked_plan
from .problem import crew_day_usable, planning_today, planning_tz, route_problem
from .readiness import job_blockers
from .states import (
    FIXED_STATUSES,
    PLAN_ACTIONS,
    PLANNABLE_STATUSES,
    PlanAction,
    PlanningError,
    check_plan_action,
)
from .travel import routing_required, travel_provider

#: Plans whose visits may be edited by hand (a published plan is revised first).
EDITABLE = PLAN_ACTIONS[PlanAction.EDIT]

RouteKey = tuple[int, dt.date]


class RuleViolation(PlanningError):
    """The edit would break a hard rule; ``rule`` names the first, ``violations`` lists all.

    Messages are in the active language (the request's), made when it is raised;
    each violation also carries its ``params``.
    """

    code = "rule_violated"

    def __init__(self, violations: Sequence[scheduler.Violation]) -> None:
        self.violations = list(violations)
        self.rule = self.violations[0].rule
        super().__init__(
            f"{self.rule}: {texts.text_of(self.violations[0])}",
            rule=self.rule,
            violations=self.as_dicts(),
        )

    def as_dicts(self) -> list[dict]:
        """Each violation: ``rule``, ``message`` (active language), ``job_id``, ``params``.

        ``params`` (JSON) comes with every violation that has a template, i.e. all
        but free-text ones.
        """
        rows = []
        for v in self.violations:
            row: dict = {"rule": v.rule, "message": texts.text_of(v), "job_id": v.job_id}
            if v.template:
                row["params"] = texts.as_json(v)["params"]
            rows.append(row)
        return rows


def _editable_plan(plan: Plan, expected_version: int | None) -> Plan:
    # The ledger lock first, then the plan's row, then (through the visits'
    # foreign keys) the jobs': the order publishing takes them in. A manual edit
    # that took the plan's row first could wait on a job row a publisher held
    # while that publisher waited on the edit's (PostgreSQL: "deadlock detected",
    # tests/reliability/test_live_schedule_concurrency.py).
    ledger_lock()
    locked = _locked_plan(plan, expected_version)
    check_plan_action(locked, PlanAction.EDIT)
    return locked


def _route(plan: Plan, key: RouteKey) -> list[Visit]:
    crew_id, date = key
    return list(
        Visit.objects.filter(plan=plan, crew_id=crew_id, date=date)
        .select_related("job__site")
        .order_by("sequence")
    )


def _check_date(plan: Plan, date: dt.date) -> None:
    if not plan.start_date <= date <= plan.end_date:
        raise RuleViolation(
            [texts.violation("day", texts.OUTSIDE_PLAN_DATES, {"day": texts.day_param(date)})]
        )


def _check_crew_day_free(plan: Plan, crew: Crew, date: dt.date) -> None:
    """Refuse a crew-day that another plan's live route holds, or another region's share."""
    holdings = ledger_holdings(plan, job_ids=set())
    owner = holdings.crew_day_owner(crew.pk, date)
    if owner is not None:
        raise RuleViolation(
            [
                texts.violation(
                    "crew_day_taken",
                    texts.CREW_DAY_TAKEN,
                    {"crew": crew.name, "day": texts.day_param(date), "plan": owner},
                )
            ]
        )
    if not crew_day_usable(plan, holdings)(crew.pk, date):
        raise RuleViolation(
            [
                texts.violation(
                    "crew_day_scope",
                    texts.CREW_DAY_OTHER_REGION,
                    {"crew": crew.name, "day": texts.day_param(date)},
                )
            ]
        )


def _is_live_on(job: Job, crew: Crew, date: dt.date) -> bool:
    """Whether ``crew`` on ``date`` is where the live schedule sent ``job``.

    A revision may hold the job elsewhere (dragged meanwhile) while the crew
    starts or finishes it, or while its day passes; publishing refuses that
    (``plans._check_worked_visits_stay``, ``plans._check_days_gone_kept``), so
    moving it back there must stay possible.
    """
    return live_visits().filter(job=job, crew=crew, date=date).exists()


def _worked_visit_on(job: Job, crew: Crew, date: dt.date) -> Visit | None:
    """The live visit on ``crew``'s ``date`` of a job the crew started or finished there.

    A revision that took such a job out cannot be published
    (``plans._check_worked_visits_stay``): putting it back where it was worked
    must stay possible, although the job is no longer ready to plan.
    """
    if job.status not in FIXED_STATUSES:
        return None
    return live_visits().filter(job=job, crew=crew, date=date).first()


def _check_day_open(job: Job, crew: Crew, date: dt.date) -> None:
    """Refuse to put work on a day gone by, unless it is where the job is live already."""
    if date < planning_today() and not _is_live_on(job, crew, date):
        raise RuleViolation(
            [texts.violation("day", texts.DAY_GONE, {"day": texts.day_param(date)}, str(job.pk))]
        )


def _check_not_field_record(visit: Visit, target: RouteKey | None) -> None:
    """Refuse to take a visit off a day gone by where the live schedule sent it.

    Done or waiting for its report, it is the field's record: publishing a
    revision that moved it or took it out is refused
    (``plans._check_days_gone_stay``), so the edit is refused at once. Moving
    it within its own crew-day (``target``) changes nothing the crew sees.
    """
    source: RouteKey = (visit.crew_id, visit.date)
    if visit.date >= planning_today() or target == source:
        return
    if live_visits().filter(job_id=visit.job_id, crew_id=visit.crew_id, date=visit.date).exists():
        raise _field_record_stays(visit.job_id, visit.date)


def _field_record_stays(job_id: int, day: dt.date) -> RuleViolation:
    """The refusal to take a live visit of a day gone by off its crew-day."""
    return RuleViolation(
        [
            texts.violation(
                "day", texts.FIELD_RECORD_STAYS, {"day": texts.day_param(day)}, str(job_id)
            )
        ]
    )


def _pin(plan: Plan, job: Job) -> Visit:
    """A visit placed or moved by hand stays where the coordinator put it.

    Optimizing keeps pinned (locked) visits exactly in place, so the next
    Optimize never silently undoes manual work; unlocking hands the visit
    back to the optimizer.
    """
    Visit.objects.filter(plan=plan, job=job).update(locked=True)
    return Visit.objects.get(plan=plan, job=job)


def _rewrite(plan: Plan, routes: dict[RouteKey, list[Job]], locked: dict[int, Visit]) -> None:
    """Validate every changed route, then replace its visits with freshly timed ones.

    All routes are checked before anything is written, so a refused edit
    changes nothing.
    """
    crews = {
        c.pk: c
        for c in Crew.objects.select_related("company").filter(pk__in={k[0] for k in routes})
    }
    timed: dict[RouteKey, tuple[RouteSchedule, list[Job]]] = {}
    for key, jobs in routes.items():
        if not jobs:
            continue
        crew_id, date = key
        planning, problems = route_problem(
            plan=plan, crew=crews[crew_id], date=date, jobs=jobs, fixed_visits=locked
        )
        if problems:
            raise RuleViolation(problems)
        day = (date - plan.start_date).days
        job_ids = [str(job.pk) for job in jobs]
        with routing_required():
            travel = scheduler.travel_for(planning.problem, travel_provider())
        violations = scheduler.validate_route(planning.problem, str(crew_id), day, job_ids, travel)
        if violations:
            raise RuleViolation(_named(violations, crews[crew_id], jobs))
        crew_day = planning.problem.crew_days_by_key()[(str(crew_id), day)]
        timed[key] = (scheduler.schedule_route(planning.problem, travel, crew_day, job_ids), jobs)

    # Rows are updated in place, so a visit keeps its id when it moves (clients
    # and the board hold visit ids); only jobs new to the plan get a row and
    # only jobs taken out lose theirs. Positions are parked out of the way
    # first: the unique (plan, crew, date, sequence) is checked row by row.
    touched = Visit.objects.filter(plan=plan).filter(_on_routes(routes))
    existing = {visit.job_id: visit for visit in touched}
    touched.update(sequence=F("sequence") + PARKED_SEQUENCE)
    horizon_start = dt.datetime.combine(plan.start_date, dt.time(0), tzinfo=planning_tz())
    kept: list[Visit] = []
    new_visits: list[Visit] = []
    for (crew_id, date), (schedule, jobs) in timed.items():
        by_id = {str(job.pk): job for job in jobs}
        for sequence, stop in enumerate(schedule.visits, start=1):
            job = by_id[stop.job_id]
            visit = existing.pop(job.pk, None) or Visit(plan=plan, job=job)
            visit.crew_id = crew_id
            visit.date = date
            visit.sequence = sequence
            visit.planned_start = horizon_start + dt.timedelta(seconds=stop.start_s)
            visit.planned_end = horizon_start + dt.timedelta(seconds=stop.end_s)
            visit.travel_minutes_from_previous = -(-stop.travel_s // 60)
            visit.travel_m_from_previous = stop.travel_m
            visit.locked = job.pk in locked
            (new_visits if visit.pk is None else kept).append(visit)
    # What is left was taken off these routes and placed nowhere else.
    Visit.objects.filter(pk__in=[visit.pk for visit in existing.values()]).delete()
    Visit.objects.bulk_update(kept, REWRITTEN_FIELDS)
    Visit.objects.bulk_create(new_visits)
    # The lunch moves with the route: re-placed on every rewritten day, gone from emptied ones.
    PlannedBreak.objects.filter(plan=plan).filter(_on_routes(routes)).delete()
    PlannedBreak.objects.bulk_create(
        PlannedBreak(
            plan=plan,
            crew_id=crew_id,
            date=date,
            start=horizon_start + dt.timedelta(seconds=schedule.lunch_start_s),
            end=horizon_start + dt.timedelta(seconds=schedule.lunch_end_s),
        )
        for (crew_id, date), (schedule, _) in timed.items()
        if schedule.lunch_start_s is not None and schedule.lunch_end_s is not None
    )


#: Added to positions while a route is rewritten (positions stay small: max jobs a day).
PARKED_SEQUENCE = 10_000

REWRITTEN_FIELDS = [
    "crew_id",
    "date",
    "sequence",
    "planned_start",
    "planned_end",
    "travel_minutes_from_previous",
    "travel_m_from_previous",
    "locked",
]


def _on_routes(routes: dict[RouteKey, list[Job]]) -> Q:
    condition = Q(pk__in=[])
    for crew_id, date in routes:
        condition |= Q(crew_id=crew_id, date=date)
    return condition


def _named(
    violations: Sequence[scheduler.Violation], crew: Crew, jobs: list[Job]
) -> list[scheduler.Violation]:
    """The validator speaks in solver ids ("crew 3", "job 17"); people read names.

    The crew's name and the jobs' references replace the ids in the params (and
    the English message is filled again from them).
    """
    references = {str(job.pk): job.reference for job in jobs}
    named = []
    for violation in violations:
        params = dict(violation.params)
        for key in ("crew", "planned_crew"):
            if params.get(key) == str(crew.pk):
                params[key] = crew.name
        if "job" in params:
            params["job"] = references.get(str(params["job"]), params["job"])
        message = violation.message
        if violation.template:
            message = violation.template.format(**params)
        named.append(dataclasses.replace(violation, message=message, params=params))
    return named


def _status_label(job: Job, language: str) -> str:
    """The job's status as people read it in ``language`` (lower case in English)."""
    with translation.override(language):
        label = str(job.get_status_display())
    return label.lower() if language == "en" else label


def _locked_visits(plan: Plan, keys: Sequence[RouteKey]) -> dict[int, Visit]:
    locked: dict[int, Visit] = {}
    for key in keys:
        for visit in _route(plan, key):
            if visit.locked or visit.job.status in FIXED_STATUSES:
                locked[visit.job_id] = visit
    return locked


def _insert(jobs: list[Job], job: Job, position: int | None) -> list[Job]:
    """``position`` is 1-based; None or past the end appends."""
    index = len(jobs) if position is None else max(0, min(position - 1, len(jobs)))
    return [*jobs[:index], job, *jobs[index:]]


def _drop_from_unassigned(plan: Plan, job_id: int) -> list[dict]:
    return [item for item in plan.unassigned if item.get("job_id") != job_id]


@transaction.atomic
def visit_move(
    *,
    visit: Visit,
    crew: Crew,
    date: dt.date,
    position: int | None = None,
    expected_version: int | None = None,
    by: User | None = None,
) -> Visit:
    """Move a visit to ``crew`` on ``date`` at ``position`` (1-based; default: last).

    Raises
    ------
    RuleViolation
        With the rule the new route would break (HTTP 409 in the API).
    """
    plan = _editable_plan(visit.plan, expected_version)
    visit = Visit.objects.select_related("job__site").get(pk=visit.pk)
    _check_date(plan, date)
    _check_not_field_record(visit, (crew.pk, date))
    _check_day_open(visit.job, crew, date)
    _check_crew_day_free(plan, crew, date)
    if visit.job.status in FIXED_STATUSES and not _is_live_on(visit.job, crew, date):
        raise RuleViolation([texts.violation("locked", texts.WORK_STARTED)])
    source: RouteKey = (visit.crew_id, visit.date)
    target: RouteKey = (crew.pk, date)
    source_jobs = [v.job for v in _route(plan, source) if v.pk != visit.pk]
    target_jobs = source_jobs if source == target else [v.job for v in _route(plan, target)]
    routes = {source: source_jobs, target: _insert(target_jobs, visit.job, position)}
    pinned = _locked_visits(plan, list(routes))
    pinned.pop(visit.job_id, None)  # the coordinator is moving this one now
    _rewrite(plan, routes, pinned)
    _bump(plan)
    return _pin(plan, visit.job)


@transaction.atomic
def visit_place(
    *,
    plan: Plan,
    job: Job,
    crew: Crew,
    date: dt.date,
    position: int | None = None,
    expected_version: int | None = None,
    by: User | None = None,
    take_over: bool = False,
) -> Visit:
    """Put an unscheduled job into a crew-day of the plan (a drag from the queue).

    A job already live in another plan is placed only with ``take_over``: the
    coordinator's explicit choice, carried out when this plan is published
    (the job then leaves the other plan in the same transaction).
    """
    plan = _editable_plan(plan, expected_version)
    _check_date(plan, date)
    _check_day_open(job, crew, date)
    _check_crew_day_free(plan, crew, date)
    elsewhere = ledger_holdings(plan, job_ids={job.pk}).jobs.get(job.pk)
    if elsewhere is not None and not take_over:
        raise RuleViolation(
            [
                texts.violation(
                    "scheduled_elsewhere",
                    texts.SCHEDULED_ELSEWHERE,
                    {
                        "crew": elsewhere.crew.name,
                        "day": texts.day_param(elsewhere.date),
                        "plan": elsewhere.plan_id,
                    },
                    str(job.pk),
                )
            ]
        )
    if elsewhere is not None and elsewhere.date < planning_today():
        # Taking it over would release the field's record of a day gone by
        # (publishing refuses that: plans._check_days_gone_stay).
        raise _field_record_stays(job.pk, elsewhere.date)
    job = Job.objects.select_related("site").get(pk=job.pk)
    worked_here = _worked_visit_on(job, crew, date)
    if job.status not in PLANNABLE_STATUSES and worked_here is None:
        raise RuleViolation(
            [
                texts.violation(
                    "not_ready",
                    texts.NOT_READY,
                    {"status": {"en": _status_label(job, "en"), "ja": _status_label(job, "ja")}},
                    str(job.pk),
                )
            ]
        )
    blockers = [] if worked_here is not None else job_blockers(job, on=date)
    if blockers:
        raise RuleViolation([scheduler.Violation(b.code, b.message, str(job.pk)) for b in blockers])
    if Visit.objects.filter(plan=plan, job=job).exists():
        raise PlanningError(
            _("the job is already in this plan; move its visit instead"), field="job"
        )
    target: RouteKey = (crew.pk, date)
    routes = {target: _insert([v.job for v in _route(plan, target)], job, position)}
    pinned = _locked_visits(plan, [target])
    if worked_here is not None:
        pinned[job.pk] = worked_here  # back at the very time the crew worked it
    _rewrite(plan, routes, pinned)
    if elsewhere is not None:
        Visit.objects.filter(plan=plan, job=job).update(takes_over=True)
    _bump(plan, unassigned=_drop_from_unassigned(plan, job.pk))
    return _pin(plan, job)


def visit_is_held(visit: Visit, job: Job) -> bool:
    """Whether ``visit`` cannot go back to the queue: its job was worked, or it is pinned.

    A pin holds a job where the coordinator wants it. A job cancelled, or sent
    back to the permission round, since it was pinned can go nowhere and
    publishing refuses it (``plans._check_publishable_jobs``): taking it out
    needs no unlocking first.
    """
    return job.status in FIXED_STATUSES or (visit.locked and job.status in PLANNABLE_STATUSES)


@transaction.atomic
def visit_unassign(
    *, visit: Visit, expected_version: int | None = None, by: User | None = None
) -> None:
    """Take a visit out of the plan (back to the queue); the rest of its day is re-timed."""
    plan = _editable_plan(visit.plan, expected_version)
    visit = Visit.objects.select_related("job").get(pk=visit.pk)
    _check_not_field_record(visit, None)
    if visit_is_held(visit, visit.job):
        raise RuleViolation([texts.violation("locked", texts.CANNOT_UNASSIGN_LOCKED)])
    source: RouteKey = (visit.crew_id, visit.date)
    remaining = [v.job for v in _route(plan, source) if v.pk != visit.pk]
    _rewrite(plan, {source: remaining}, _locked_visits(plan, [source]))
    reason = (
        texts.stored("manual", texts.TAKEN_OUT_BY_HAND_BY, {"user": by.get_username()})
        if by is not None
        else texts.stored("manual", texts.TAKEN_OUT_BY_HAND)
    )
    unassigned = [
        *_drop_from_unassigned(plan, visit.job_id),
        {"job_id": visit.job_id, "reference": visit.job.reference, "reasons": [reason]},
    ]
    _bump(plan, unassigned=unassigned)


@transaction.atomic
def visit_set_locked(*, visit: Visit, locked: bool, expected_version: int | None = None) -> Visit:
    """Lock or unlock a visit: a manual edit, so it bumps the plan's version.

    The bump is what lets a running optimization notice the edit and refuse
    to overwrite it.
    """
    plan = _locked_plan(visit.plan, expected_version)
    check_plan_action(plan, PlanAction.LOCK)
    Visit.objects.filter(pk=visit.pk).update(locked=locked)
    _bump(plan)
    visit.refresh_from_db()
    return visit
