"""Reads of the support desk: the site card, the call log and the recurring-issue view.

Each is a fixed number of queries whatever the site's history holds (the card
is read during a live call; see ``tests/support/test_site_card.py``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import CharField, Count, F, Max, Min, Prefetch, Q, QuerySet, Value, Window
from django.db.models.functions import Coalesce, Concat, RowNumber, Substr
from django.utils import timezone

from accounts.models import Role, User
from dispatch.ledger import live_visits
from dispatch.models import CompletionFacts, FactsStatus, Job, JobReport, ReportKind, Visit
from dispatch.states import JobStatus
from sites.models import ConstructionRecord, Contract, Permission, Site, SiteSurvey

from .models import Call, CallAmendment, CallCategory, FaultIsolation
from .services import call_current

#: Jobs whose published visit is still to come (a finished or cancelled job has none).
_OPEN_FOR_VISITS = frozenset({JobStatus.SCHEDULED, JobStatus.DISPATCHED, JobStatus.IN_PROGRESS})

#: A job in any other status is still open: a second job for the same fault would be a duplicate.
CLOSED_JOB_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.HANDED_OVER, JobStatus.CANCELLED})


@dataclass(frozen=True)
class CallView:
    """A call with its amendments applied (``current``) and the original kept beside it."""

    call: Call
    current: dict[str, Any]
    amendments: list[CallAmendment]

    @property
    def booking(self) -> Any:
        return getattr(self.call, "booking", None)


@dataclass(frozen=True)
class ReturnedJob:
    """A job a crew could not finish, back with the coordinators to be planned again."""

    job: Job
    report: JobReport | None
    """The crew's latest "not finished" report (its reason and note)."""


@dataclass(frozen=True)
class SiteCard:
    site: Site
    contracts: list[Contract]
    construction_records: list[ConstructionRecord]
    surveys: list[SiteSurvey]
    permissions: list[Permission]
    jobs: list[Job]
    upcoming_visits: list[Visit]
    calls: list[CallView]
    returned_jobs: tuple[ReturnedJob, ...] = ()
    """Jobs returned from the field and not on the schedule again yet: the customer will call."""
    pending_facts: tuple[CompletionFacts, ...] = ()
    """What crews recorded on 'done' and delivery has not confirmed yet, oldest first."""


def calls_with_details() -> QuerySet[Call]:
    """Calls with everything a listing shows, in a fixed number of queries."""
    return Call.objects.select_related(
        "site", "contract", "operator", "handoff_user", "booking__job", "booking__booked_by"
    ).prefetch_related(
        Prefetch("amendments", queryset=CallAmendment.objects.select_related("author"))
    )


def call_view(call: Call) -> CallView:
    amendments = list(call.amendments.all())
    return CallView(
        call=call, current=call_current(call, amendments=amendments), amendments=amendments
    )


def _last_not_finished(job: Job) -> JobReport | None:
    """The job's latest "not finished" report, from its prefetched reports (oldest first)."""
    return next(
        (r for r in reversed(list(job.reports.all())) if r.kind == ReportKind.INCOMPLETE), None
    )


def site_card(*, site_id: int, today: dt.date | None = None) -> SiteCard:
    """What support reads during a call, as-built notes first; 10 queries whatever the history.

    Raises
    ------
    Site.DoesNotExist
        When there is no such site.
    """
    today = today or timezone.localdate()
    site = (
        Site.objects.select_related("region")
        .prefetch_related(
            Prefetch(
                "contracts",
                queryset=Contract.objects.select_related("customer").order_by("contract_id"),
            ),
            Prefetch(
                "construction_records",
                # The record archived at handover is the one support should trust.
                queryset=ConstructionRecord.objects.select_related(
                    "recorded_by", "completion_facts__company"
                ).order_by(F("archived_at").desc(nulls_last=True), "-recorded_at", "-id"),
            ),
            Prefetch("surveys", queryset=SiteSurvey.objects.order_by("-surveyed_on", "-id")),
            Prefetch("permissions", queryset=Permission.objects.order_by("party", "-requested_on")),
            Prefetch(
                "jobs",
                queryset=Job.objects.order_by("-created_at", "-id").prefetch_related(
                    Prefetch(
                        "reports",
                        # Completion facts ride along (one-to-one): no extra query.
                        queryset=JobReport.objects.select_related(
                            "crew", "completion_facts__company"
                        ).order_by("occurred_at", "id"),
                    ),
                    Prefetch(
                        "visits",
                        # The live schedule only: a published plan also keeps visits
                        # that left it (not finished, moved to another plan).
                        queryset=live_visits()
                        .select_related("crew__company")
                        .order_by("date", "planned_start"),
                    ),
                ),
            ),
            Prefetch("calls", queryset=calls_with_details().order_by("-started_at", "-id")),
        )
        .get(pk=site_id)
    )
    jobs = list(site.jobs.all())
    upcoming = sorted(
        (
            visit
            for job in jobs
            if job.status in _OPEN_FOR_VISITS
            for visit in job.visits.all()
            if visit.date >= today
        ),
        key=lambda visit: (visit.date, visit.planned_start),
    )
    returned = tuple(
        ReturnedJob(job=job, report=_last_not_finished(job))
        for job in jobs
        if job.is_returned_from_field and job.status not in CLOSED_JOB_STATUSES
    )
    pending = tuple(
        facts
        for job in jobs
        for report in job.reports.all()
        if (facts := _facts_of(report)) is not None and facts.status == FactsStatus.PROPOSED
    )
    return SiteCard(
        site=site,
        contracts=list(site.contracts.all()),
        construction_records=list(site.construction_records.all()),
        surveys=list(site.surveys.all()),
        permissions=list(site.permissions.all()),
        jobs=jobs,
        upcoming_visits=upcoming,
        calls=[call_view(call) for call in site.calls.all()],
        returned_jobs=returned,
        pending_facts=tuple(sorted(pending, key=lambda facts: (facts.proposed_at, facts.pk))),
    )


def _facts_of(report: JobReport) -> CompletionFacts | None:
    try:
        return report.completion_facts
    except CompletionFacts.DoesNotExist:
        return None


@dataclass(frozen=True)
class OpenJob:
    """A job not yet completed, handed over or cancelled, and its scheduled day if it has one."""

    job: Job
    scheduled_date: dt.date | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.job.pk,
            "reference": self.job.reference,
            "kind": self.job.kind,
            "status": self.job.status,
            "scheduled_date": self.scheduled_date.isoformat() if self.scheduled_date else None,
        }


def scheduled_dates(job_ids: list[int], *, today: dt.date | None = None) -> dict[int, dt.date]:
    """Each job's next scheduled day (today or later), for jobs that have one. One query.

    The one place support decides what "scheduled" means: the job's visit on
    the live schedule (``dispatch.ledger``).
    """
    if not job_ids:
        return {}
    today = today or timezone.localdate()
    rows = (
        live_visits()
        .filter(job_id__in=job_ids, date__gte=today)
        .values("job_id")
        .annotate(first=Min("date"))
        .values_list("job_id", "first")
    )
    return dict(rows)


def open_jobs_for(
    *, site: Site, contract: Contract | None = None, today: dt.date | None = None
) -> list[OpenJob]:
    """Open jobs of the contract, or of the site when the call named no contract; oldest first.

    "Open" is any status but completed, handed over and cancelled (an
    *incomplete* job is open: it goes back to the coordinators' queue). Any
    kind of job counts: a crew about to install the line is the visit a
    maintenance call should ride on. With a contract, the site's jobs that
    name no contract count too: an earlier call that found the building but
    not the contract booked one of those, and it may well be this customer's
    (another contract's jobs do not count). Two queries.
    """
    jobs = Job.objects.exclude(status__in=CLOSED_JOB_STATUSES)
    if contract is not None:
        jobs = jobs.filter(Q(contract=contract) | Q(site=site, contract__isnull=True))
    else:
        jobs = jobs.filter(site=site)
    found = list(jobs.order_by("created_at", "id"))
    dates = scheduled_dates([job.pk for job in found], today=today)
    return [OpenJob(job=job, scheduled_date=dates.get(job.pk)) for job in found]


def calls_visible_to(user: User) -> QuerySet[Call]:
    """Support and coordinators read every call; partners none (they never reach the views)."""
    if getattr(user, "role", None) in (Role.SUPPORT, Role.COORDINATOR):
        return calls_with_details()
    return Call.objects.none()


def calls_filtered(
    calls: QuerySet[Call],
    *,
    site_id: int | None = None,
    operator_id: int | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    category: str | None = None,
    fault_isolation: str | None = None,
    follow_up_needed: bool | None = None,
) -> QuerySet[Call]:
    """The call log narrowed down: by site and by operator above all."""
    if site_id is not None:
        calls = calls.filter(site_id=site_id)
    if operator_id is not None:
        calls = calls.filter(operator_id=operator_id)
    if since is not None:
        calls = calls.filter(started_at__gte=since)
    if until is not None:
        calls = calls.filter(started_at__lt=until)
    if category:
        calls = calls.filter(category=category)
    if fault_isolation:
        calls = calls.filter(fault_isolation=fault_isolation)
    if follow_up_needed is not None:
        calls = calls.filter(follow_up_needed=follow_up_needed)
    return calls.order_by("-started_at", "-id")


class Grouping:
    SITE = "site"
    POSTAL = "postal"
    CITY = "city"
    REGION = "region"
    ALL = (SITE, POSTAL, CITY, REGION)


@dataclass(frozen=True)
class RecurringIssue:
    """Calls that keep coming from one place: a site, a postal area, a city or a region."""

    group: str
    key: str
    label: str
    call_count: int
    site_count: int
    carrier_side_count: int
    last_call_at: dt.datetime
    categories: dict[str, int]
    site_id: int | None = None


def _grouping_columns(group: str) -> tuple[dict[str, Any], list[str]]:
    """(annotations, value columns) that group calls by ``group``."""
    if group == Grouping.SITE:
        return {}, ["site_id", "site__name", "site__address"]
    if group == Grouping.POSTAL:
        # The first three digits of a Japanese postal code name a delivery area
        # (108: Minato-ku, Shibaura/Takanawa...): a cable run or a cabinet in
        # common is what makes a neighbourhood call together.
        return {"postal_area": Substr("site__postal_code", 1, 3)}, ["postal_area"]
    if group == Grouping.CITY:
        return {}, ["site__prefecture", "site__city"]
    if group == Grouping.REGION:
        return {}, ["site__region__code", "site__region__name"]
    raise ValueError(f"unknown grouping {group!r}; one of {', '.join(Grouping.ALL)}")


def _label(group: str, row: dict[str, Any]) -> tuple[str, str]:
    if group == Grouping.SITE:
        return str(row["site_id"]), f"{row['site__name']} ({row['site__address']})"
    if group == Grouping.POSTAL:
        area = row["postal_area"] or ""
        return area, f"〒{area}-****" if area else "〒?"
    if group == Grouping.CITY:
        key = f"{row['site__prefecture']}{row['site__city']}"
        return key, key or "?"
    return row["site__region__code"] or "", row["site__region__name"] or "?"


def recurring_issues(
    *,
    days: int = 30,
    min_calls: int = 3,
    group: str = Grouping.SITE,
    now: dt.datetime | None = None,
    limit: int = 100,
) -> list[RecurringIssue]:
    """Places with at least ``min_calls`` calls in the last ``days`` days, most calls first.

    One aggregate query: counts per category and of carrier-side faults come
    from conditional counts, so support can tell delivery *what* keeps
    breaking (the carrier's line, or the customer's own network) as well as where.
    """
    annotations, columns = _grouping_columns(group)
    since = (now or timezone.now()) - dt.timedelta(days=days)
    per_category = {
        f"category_{value}": Count("id", filter=Q(category=value)) for value in CallCategory.values
    }
    rows = (
        Call.objects.filter(started_at__gte=since)
        .annotate(**annotations)
        .values(*columns)
        .annotate(
            call_count=Count("id"),
            site_count=Count("site_id", distinct=True),
            carrier_side_count=Count("id", filter=Q(fault_isolation=FaultIsolation.CARRIER_SIDE)),
            last_call_at=Max("started_at"),
            **per_category,
        )
        .filter(call_count__gte=min_calls)
        .order_by("-call_count", "-last_call_at", *columns)[:limit]
    )
    issues = []
    for row in rows:
        key, label = _label(group, row)
        issues.append(
            RecurringIssue(
                group=group,
                key=key,
                label=label,
                call_count=row["call_count"],
                site_count=row["site_count"],
                carrier_side_count=row["carrier_side_count"],
                last_call_at=row["last_call_at"],
                categories={
                    value: row[f"category_{value}"]
                    for value in CallCategory.values
                    if row[f"category_{value}"]
                },
                site_id=row.get("site_id"),
            )
        )
    return issues


# --- the recurring-issues page: each group's breakdown and the calls behind it ---------

#: Fault sides in the order the page and the export show them.
FAULT_SIDES: tuple[str, ...] = (
    FaultIsolation.CARRIER_SIDE,
    FaultIsolation.CUSTOMER_SIDE,
    FaultIsolation.UNKNOWN,
)


@dataclass(frozen=True)
class CategoryBreakdown:
    """One category's calls in a group, per fault side (as amended)."""

    category: str
    by_fault: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_fault.values())

    def count(self, fault: str) -> int:
        return self.by_fault.get(fault, 0)


@dataclass(frozen=True)
class RecurringGroup:
    """A recurring issue with its category × fault-side breakdown and its latest calls."""

    issue: RecurringIssue
    breakdown: list[CategoryBreakdown]
    """Categories with calls, most calls first; every call of the group counted."""
    calls: list[CallView]
    """The group's latest calls, newest first, at most ``calls_per_group``."""

    @property
    def fault_totals(self) -> dict[str, int]:
        return {fault: sum(row.count(fault) for row in self.breakdown) for fault in FAULT_SIDES}

    @property
    def calls_not_shown(self) -> int:
        return max(self.issue.call_count - len(self.calls), 0)


def _group_key(group: str) -> Any:
    """The expression whose value is a call's group key (as :func:`_label` spells it)."""
    if group == Grouping.SITE:
        return F("site_id")
    if group == Grouping.POSTAL:
        return Substr("site__postal_code", 1, 3)
    if group == Grouping.CITY:
        return Concat("site__prefecture", "site__city", output_field=CharField())
    if group == Grouping.REGION:
        return Coalesce("site__region__code", Value(""), output_field=CharField())
    raise ValueError(f"unknown grouping {group!r}; one of {', '.join(Grouping.ALL)}")


def _key_values(group: str, issues: list[RecurringIssue]) -> list[Any]:
    return [int(i.key) if group == Grouping.SITE else i.key for i in issues]


def recurring_groups(
    *,
    days: int = 30,
    min_calls: int = 3,
    group: str = Grouping.SITE,
    now: dt.datetime | None = None,
    limit: int = 100,
    calls_per_group: int = 50,
) -> list[RecurringGroup]:
    """:func:`recurring_issues` with each group's breakdown and latest calls; five queries.

    The places and their counts come from the one aggregate query; the
    breakdown by category and fault side counts every call of each group
    *as amended* (a fault isolated to the carrier's side after the call is
    counted there), from one grouped count and one read of the amendments;
    the calls behind each group are its latest ``calls_per_group`` (a window
    function ranks them per group) with their sites, operators and
    amendments, whatever the number of groups.
    """
    now = now or timezone.now()
    issues = recurring_issues(days=days, min_calls=min_calls, group=group, now=now, limit=limit)
    if not issues:
        return []
    since = now - dt.timedelta(days=days)
    in_groups = (
        Call.objects.filter(started_at__gte=since)
        .annotate(group_key=_group_key(group))
        .filter(group_key__in=_key_values(group, issues))
    )
    counts: dict[str, dict[tuple[str, str], int]] = {}
    for key, category, fault, n in (
        in_groups.order_by()
        .values("group_key", "category", "fault_isolation")
        .annotate(n=Count("id"))
        .values_list("group_key", "category", "fault_isolation", "n")
    ):
        counts.setdefault(str(key), {})[(category, fault)] = n
    corrected: dict[int, dict[str, Any]] = {}
    for call_id, key, category, fault, corrections in (
        CallAmendment.objects.filter(call__in=in_groups.values("pk"))
        .exclude(corrections={})
        .annotate(call_group_key=_prefixed_group_key(group))
        .order_by("created_at", "pk")
        .values_list(
            "call_id", "call_group_key", "call__category", "call__fault_isolation", "corrections"
        )
    ):
        if not isinstance(corrections, dict):
            continue
        state = corrected.setdefault(
            call_id,
            {"key": str(key), "logged": (category, fault), "category": category, "fault": fault},
        )
        state["category"] = corrections.get("category", state["category"])
        state["fault"] = corrections.get("fault_isolation", state["fault"])
    for state in corrected.values():
        current = (state["category"], state["fault"])
        if current != state["logged"]:
            per_group = counts.setdefault(state["key"], {})
            per_group[state["logged"]] = per_group.get(state["logged"], 0) - 1
            per_group[current] = per_group.get(current, 0) + 1
    ranked = (
        in_groups.annotate(
            position=Window(
                RowNumber(),
                partition_by=[_group_key(group)],
                order_by=[F("started_at").desc(), F("id").desc()],
            )
        )
        .filter(position__lte=calls_per_group)
        .select_related("site", "operator")
        .prefetch_related(
            Prefetch("amendments", queryset=CallAmendment.objects.select_related("author"))
        )
        .order_by("-started_at", "-id")
    )
    calls: dict[str, list[CallView]] = {}
    for call in ranked:
        calls.setdefault(str(call.group_key), []).append(call_view(call))
    return [
        RecurringGroup(
            issue=issue,
            breakdown=_breakdown(counts.get(issue.key, {})),
            calls=calls.get(issue.key, []),
        )
        for issue in issues
    ]


def _prefixed_group_key(group: str) -> Any:
    """:func:`_group_key` seen from a call's amendment (through ``call__``)."""
    if group == Grouping.SITE:
        return F("call__site_id")
    if group == Grouping.POSTAL:
        return Substr("call__site__postal_code", 1, 3)
    if group == Grouping.CITY:
        return Concat("call__site__prefecture", "call__site__city", output_field=CharField())
    return Coalesce("call__site__region__code", Value(""), output_field=CharField())


def _breakdown(counts: dict[tuple[str, str], int]) -> list[CategoryBreakdown]:
    rows: dict[str, dict[str, int]] = {}
    for (category, fault), n in counts.items():
        if n > 0:
            side = fault if fault in FAULT_SIDES else FaultIsolation.UNKNOWN
            rows.setdefault(category, {})[side] = rows.get(category, {}).get(side, 0) + n
    order = {value: position for position, value in enumerate(CallCategory.values)}
    return sorted(
        (CategoryBreakdown(category=c, by_fault=f) for c, f in rows.items()),
        key=lambda row: (-row.total, order.get(row.category, len(order))),
    )
