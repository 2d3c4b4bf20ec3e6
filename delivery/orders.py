"""Where every open order stands, and what blocks it: the delivery teams' shared view.

An order is a contract that has not been handed over. Its stage comes from
its installation job and the gates around it, in the order the work happens:
survey, permissions, planning, the visit, then IP address and billing before
handover. The blocker is the one sentence a coordinator needs to act on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from delivery.handover import handover_blockers
from dispatch.models import Job, JobReport, ReportKind, Visit
from dispatch.problem import planning_tz
from dispatch.readiness import job_blockers
from dispatch.states import JobKind, JobStatus
from sites.models import Contract, ContractStatus
from sites.normalize import (
    looks_like_phone,
    normalize_address,
    normalize_id,
    normalize_phone,
    normalize_text,
    query_tokens,
)


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
    returned: JobReport | None = None
    """For a job returned from the field: the crew's latest "not finished" report."""

    @property
    def attempt(self) -> int:
        """Which visit came back not finished (the job's count of failed visits)."""
        return self.job.failed_attempts if self.job is not None else 0


def _main_job(contract: Contract) -> Job | None:
    """The order's installation job: the newest one that is not maintenance or cancelled."""
    jobs = [
        job
        for job in contract.jobs.all()
        if job.kind != JobKind.MAINTENANCE and job.status != JobStatus.CANCELLED
    ]
    return max(jobs, key=lambda job: job.pk, default=None)


def _live_visit(job: Job) -> Visit | None:
    """The job's visit on the live schedule (at most one: see :mod:`dispatch.ledger`).

    Not "a visit of some published plan": a published plan keeps visits that
    left the schedule (reported not finished, taken over by another plan).
    """
    return next((v for v in job.visits.all() if v.route_id is not None), None)


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
        return OrderStatus(contract, None, Stage.SURVEY_MISSING, _("no installation job yet"))
    status = job.status
    if status in (JobStatus.COMPLETED,):
        blockers = handover_blockers(contract=contract)
        if blockers:
            reasons = pgettext("list separator", "; ").join(blockers)
            return OrderStatus(contract, job, Stage.IP_BILLING_PENDING, reasons)
        return OrderStatus(contract, job, Stage.READY_FOR_HANDOVER, _("ready to open the line"))
    if status == JobStatus.IN_PROGRESS:
        return OrderStatus(contract, job, Stage.IN_PROGRESS, _("the crew is on site"))
    if status in (JobStatus.SCHEDULED, JobStatus.DISPATCHED):
        visit = _live_visit(job)
        if visit is None:
            return OrderStatus(contract, job, Stage.PLANNED, _("scheduled, but on no live route"))
        blocker = _("planned for %(date)s by %(crew)s") % {
            "date": visit.date.isoformat(),
            "crew": visit.crew.name,
        }
        return OrderStatus(contract, job, Stage.PLANNED, blocker, visit.date)
    reports = sorted(job.reports.all(), key=lambda r: (r.occurred_at, r.pk))
    failures = [r for r in reports if r.kind == ReportKind.INCOMPLETE]
    returned = failures[-1] if job.is_returned_from_field and failures else None
    gates = job_blockers(job, on=today)
    if gates:
        missing_survey = gates[0].code == "survey_missing"
        stage = Stage.SURVEY_MISSING if missing_survey else Stage.PERMISSION_PENDING
        blocker = pgettext("list separator", "; ").join(gate.message for gate in gates)
        return OrderStatus(contract, job, stage, blocker, returned=returned)
    last = reports[-1] if reports else None
    failure = returned or (
        last if last is not None and last.kind == ReportKind.INCOMPLETE else None
    )
    if failure is not None:
        when = timezone.localtime(failure.occurred_at, planning_tz())
        values = {
            "date": f"{when:%Y-%m-%d}",
            "reason": failure.get_reason_code_display(),
            "attempt": job.failed_attempts,
        }
        if job.is_returned_from_field:
            message = _(
                "returned from the field (attempt %(attempt)s): not finished on %(date)s: "
                "%(reason)s — being re-planned"
            )
        else:
            message = _("not finished on %(date)s: %(reason)s")
        return OrderStatus(
            contract, job, Stage.INCOMPLETE_VISIT, message % values, returned=returned
        )
    if status == JobStatus.READY:
        return OrderStatus(contract, job, Stage.NOT_PLANNED, _("ready, waiting for a plan"))
    return OrderStatus(
        contract, job, Stage.NOT_PLANNED, _("gates clear: mark the job ready to plan")
    )


class OrderSearch:
    """Whether an order matches what a coordinator typed, spelled as the support search spells.

    Matched in Python, over the rows :func:`open_orders` loads anyway, because
    the database cannot fold kana (しらさぎ, シラサギ, ｼﾗｻｷﾞ), kanji numbers in
    addresses or phone punctuation: the rules are :mod:`sites.normalize`'s.
    Every word of the query must match one of: the customer's name or kana,
    a site's name, kana or address, the contract or circuit id, a job's
    reference, the customer's phone numbers.
    """

    def __init__(self, query: str) -> None:
        self.words = [
            (normalize_text(word), normalize_address(word), normalize_id(word), _phone_of(word))
            for word in query_tokens(query)
        ]

    def __call__(self, contract: Contract) -> bool:
        texts, addresses, ids, phones = _search_keys(contract)
        return all(
            any(text in key for key in texts)
            or any(address in key for key in addresses)
            or (bool(code) and any(code in key for key in ids))
            or (bool(phone) and any(phone in key for key in phones))
            for text, address, code, phone in self.words
        )


def _phone_of(word: str) -> str:
    return normalize_phone(word) if looks_like_phone(word) else ""


def _search_keys(contract: Contract) -> tuple[list[str], list[str], list[str], list[str]]:
    """The normalised strings an order is found by (from prefetched rows only: no queries)."""
    customer = contract.customer
    jobs = list(contract.jobs.all())
    sites = {site.pk: site for site in contract.sites.all()}
    sites.update((job.site.pk, job.site) for job in jobs)
    texts = [normalize_text(customer.name), normalize_text(customer.name_kana)]
    for site in sites.values():
        texts += [normalize_text(site.name), normalize_text(site.name_kana)]
    addresses = [normalize_address(site.address) for site in sites.values()]
    ids = [normalize_id(contract.contract_id), normalize_id(contract.circuit_id or "")]
    ids += [normalize_id(job.reference) for job in jobs]
    phones = [normalize_phone(customer.phone), normalize_phone(customer.phone_alt)]
    return (
        [key for key in texts if key],
        [key for key in addresses if key],
        [key for key in ids if key],
        [key for key in phones if key],
    )


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
                    Prefetch(
                        "visits",
                        queryset=Visit.objects.filter(route__isnull=False).select_related("crew"),
                    ),
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
    matches = OrderSearch(search) if search else None
    statuses = [
        order_status(contract, today=today)
        for contract in contracts
        if _is_open(contract) and (matches is None or matches(contract))
    ]
    if stage:
        statuses = [s for s in statuses if s.stage == stage]
    return statuses
