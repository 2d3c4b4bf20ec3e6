"""Where every open order stands, and what blocks it: the delivery teams' shared view.

An order is a contract that has not been handed over. Its stage comes from
its installation job and the gates around it, in the order the work happens:
survey, permissions, planning, the visit, then IP address and billing before
handover. The blocker is the one sentence a coordinator needs to act on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch, Q
from django.utils import timezone

from sites.handover import handover_blockers
from sites.models import Contract, ContractStatus

from .models import Job, JobReport, PlanStatus, ReportKind, Visit
from .readiness import job_blockers
from .states import JobKind, JobStatus


class Stage:
    SURVEY_MISSING = "survey_missing"
    PERMISSION_PENDING = "permission_pending"
    NOT_PLANNED = "not_planned"
    PLANNED = "planned"
    INCOMPLETE_VISIT = "incomplete_visit"
    IN_PROGRESS = "in_progress"
    IP_BILLING_PENDING = "ip_billing_pending"
    READY_FOR_HANDOVER = "ready_for_handover"

    ALL = (
        SURVEY_MISSING,
        PERMISSION_PENDING,
        NOT_PLANNED,
        PLANNED,
        INCOMPLETE_VISIT,
        IN_PROGRESS,
        IP_BILLING_PENDING,
        READY_FOR_HANDOVER,
    )


@dataclass(frozen=True)
class OrderStatus:
    contract: Contract
    job: Job | None
    stage: str
    blocker: str
    planned_date: dt.date | None = None


def _main_job(contract: Contract) -> Job | None:
    """The order's installation job: the newest one that is not maintenance or cancelled."""
    jobs = [
        job
        for job in contract.jobs.all()
        if job.kind != JobKind.MAINTENANCE and job.status != JobStatus.CANCELLED
    ]
    return max(jobs, key=lambda job: job.pk, default=None)


def _published_visit(job: Job) -> Visit | None:
    visits = [v for v in job.visits.all() if v.plan.status == PlanStatus.PUBLISHED]
    return max(visits, key=lambda v: v.plan.published_at or v.plan.created_at, default=None)


def _is_open(contract: Contract) -> bool:
    """Not handed over yet, or handed over once and now has new installation work."""
    job = _main_job(contract)
    if job is None:
        return contract.handed_over_at is None
    return job.status != JobStatus.HANDED_OVER


def order_status(contract: Contract, *, today: dt.date | None = None) -> OrderStatus:
    today = today or timezone.localdate()
    job = _main_job(contract)
    if job is None:
        return OrderStatus(contract, None, Stage.SURVEY_MISSING, "no installation job yet")
    status = job.status
    if status in (JobStatus.COMPLETED,):
        blockers = handover_blockers(contract=contract)
        if blockers:
            return OrderStatus(contract, job, Stage.IP_BILLING_PENDING, "; ".join(blockers))
        return OrderStatus(contract, job, Stage.READY_FOR_HANDOVER, "ready to open the line")
    if status == JobStatus.IN_PROGRESS:
        return OrderStatus(contract, job, Stage.IN_PROGRESS, "the crew is on site")
    if status in (JobStatus.SCHEDULED, JobStatus.DISPATCHED):
        visit = _published_visit(job)
        date = visit.date if visit else None
        crew = f" by {visit.crew.name}" if visit else ""
        return OrderStatus(contract, job, Stage.PLANNED, f"planned for {date}{crew}", date)
    gates = job_blockers(job, on=today)
    if gates:
        missing_survey = gates[0].code == "survey_missing"
        stage = Stage.SURVEY_MISSING if missing_survey else Stage.PERMISSION_PENDING
        return OrderStatus(contract, job, stage, "; ".join(gate.message for gate in gates))
    reports = sorted(job.reports.all(), key=lambda r: (r.occurred_at, r.pk))
    last = reports[-1] if reports else None
    if last is not None and last.kind == ReportKind.INCOMPLETE:
        return OrderStatus(
            contract,
            job,
            Stage.INCOMPLETE_VISIT,
            f"not finished on {timezone.localtime(last.occurred_at):%Y-%m-%d}: "
            f"{last.get_reason_code_display()}",
        )
    if status == JobStatus.READY:
        return OrderStatus(contract, job, Stage.NOT_PLANNED, "ready, waiting for a plan")
    return OrderStatus(contract, job, Stage.NOT_PLANNED, "gates clear: mark the job ready to plan")


def open_orders(
    *,
    team: int | None = None,
    region: str | None = None,
    stage: str | None = None,
    search: str | None = None,
    today: dt.date | None = None,
) -> list[OrderStatus]:
    """Every open order with its stage and blocker, in a fixed number of queries."""
    contracts = (
        Contract.objects.exclude(status=ContractStatus.CANCELLED)
        .select_related("customer", "ip_assignment")
        .prefetch_related(
            "sites",
            Prefetch(
                "jobs",
                queryset=Job.objects.select_related("site", "survey").prefetch_related(
                    "site__surveys",
                    "site__permissions",
                    Prefetch("visits", queryset=Visit.objects.select_related("plan", "crew")),
                    Prefetch("reports", queryset=JobReport.objects.order_by("occurred_at")),
                ),
            ),
        )
        .order_by("contract_id")
    )
    if team is not None:
        contracts = contracts.filter(delivery_team=team)
    if region:
        contracts = contracts.filter(sites__region__code=region).distinct()
    if search:
        contracts = contracts.filter(
            Q(contract_id__icontains=search)
            | Q(customer__name__icontains=search)
            | Q(customer__name_kana__icontains=search)
            | Q(sites__address__icontains=search)
        ).distinct()
    statuses = [order_status(contract, today=today) for contract in contracts if _is_open(contract)]
    if stage:
        statuses = [s for s in statuses if s.stage == stage]
    return statuses
