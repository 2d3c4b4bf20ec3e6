"""Partner crews, jobs and plans.

The planner reads crews and jobs from here and writes its result back as
visits of a plan. Invariants that would corrupt a plan if broken (a window
that ends before it starts, a crew without members, two visits of the same
job in one plan) are database constraints, so no code path can skip them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from sites.models import Contract, Region, Site

from .states import JobKind, JobStatus

ALL_WEEKDAYS_MASK = 0b1111111
MONDAY_TO_FRIDAY_MASK = 0b0011111


class PartnerCompany(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    name_kana = models.CharField(_("name (kana)"), max_length=200, blank=True)
    is_group_company = models.BooleanField(_("group company"), default=False)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    regions = models.ManyToManyField(
        Region, verbose_name=_("regions"), related_name="partner_companies", blank=True
    )
    lunch_minutes = models.PositiveSmallIntegerField(
        _("lunch break (min)"),
        default=60,
        help_text=_("The crews' lunch break; 0 = no planned break. Crews may override it."),
    )
    lunch_earliest_start = models.TimeField(
        _("lunch starts at the earliest"), default=dt.time(11, 30)
    )
    lunch_latest_start = models.TimeField(_("lunch starts at the latest"), default=dt.time(13, 30))

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner company")
        verbose_name_plural = _("partner companies")
        constraints = [
            models.CheckConstraint(
                name="company_lunch_at_most_4h", condition=Q(lunch_minutes__lte=240)
            ),
            models.CheckConstraint(
                name="company_lunch_window_ordered",
                condition=Q(lunch_earliest_start__lte=F("lunch_latest_start")),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Skill(models.Model):
    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(
        _("name"), max_length=100, help_text=_("The Japanese name, shown in the Japanese UI.")
    )
    name_en = models.CharField(
        _("English name"),
        max_length=100,
        blank=True,
        help_text=_("Shown in the English UI; the Japanese name is used when blank."),
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("skill")
        verbose_name_plural = _("skills")

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The name in the active language: English name in English, else the Japanese one."""
        from .skills import label_for

        return label_for(self.name, self.name_en)


class Crew(models.Model):
    company = models.ForeignKey(
        PartnerCompany, verbose_name=_("company"), on_delete=models.PROTECT, related_name="crews"
    )
    name = models.CharField(_("name"), max_length=100)
    members = models.PositiveSmallIntegerField(_("members"), default=2)
    skills = models.ManyToManyField(
        Skill, verbose_name=_("skills"), related_name="crews", blank=True
    )
    home_base_address = models.CharField(_("home base address"), max_length=300, blank=True)
    home_latitude = models.FloatField(_("home base latitude"))
    home_longitude = models.FloatField(_("home base longitude"))
    shift_start = models.TimeField(_("shift start"), default=dt.time(8, 30))
    shift_end = models.TimeField(_("shift end"), default=dt.time(17, 30))
    working_weekdays = models.PositiveSmallIntegerField(
        _("working weekdays"),
        default=MONDAY_TO_FRIDAY_MASK,
        help_text=_("Bit mask, Monday = 1, Tuesday = 2, … Sunday = 64."),
    )
    max_jobs_per_day = models.PositiveSmallIntegerField(_("max jobs per day"), default=5)
    cost_per_km_yen = models.PositiveIntegerField(_("cost per km (yen)"), default=60)
    capacity_units = models.PositiveSmallIntegerField(
        _("capacity units"),
        null=True,
        blank=True,
        help_text=_("Equipment the crew can carry in a day; empty = unlimited."),
    )
    min_gap_minutes = models.PositiveSmallIntegerField(
        _("minimum gap between jobs (min)"),
        null=True,
        blank=True,
        help_text=_("Empty = the plan's default."),
    )
    max_utilization_percent = models.PositiveSmallIntegerField(
        _("maximum utilization (%)"),
        null=True,
        blank=True,
        help_text=_("Empty = the plan's default."),
    )
    lunch_minutes = models.PositiveSmallIntegerField(
        _("lunch break (min)"),
        null=True,
        blank=True,
        help_text=_("Empty = the company's; 0 = no planned break."),
    )
    lunch_earliest_start = models.TimeField(
        _("lunch starts at the earliest"),
        null=True,
        blank=True,
        help_text=_("Empty = the company's."),
    )
    lunch_latest_start = models.TimeField(
        _("lunch starts at the latest"),
        null=True,
        blank=True,
        help_text=_("Empty = the company's."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["company__name", "name"]
        verbose_name = _("crew")
        verbose_name_plural = _("crews")
        constraints = [
            models.UniqueConstraint(
                fields=["company", "name"], name="crew_unique_name_per_company"
            ),
            models.CheckConstraint(name="crew_members_positive", condition=Q(members__gte=1)),
            models.CheckConstraint(
                name="crew_shift_ordered", condition=Q(shift_start__lt=F("shift_end"))
            ),
            models.CheckConstraint(
                name="crew_weekdays_mask",
                condition=Q(working_weekdays__gte=1, working_weekdays__lte=ALL_WEEKDAYS_MASK),
            ),
            models.CheckConstraint(
                name="crew_max_jobs_positive", condition=Q(max_jobs_per_day__gte=1)
            ),
            models.CheckConstraint(
                name="crew_home_latitude_in_range",
                condition=Q(home_latitude__gte=-90, home_latitude__lte=90),
            ),
            models.CheckConstraint(
                name="crew_home_longitude_in_range",
                condition=Q(home_longitude__gte=-180, home_longitude__lte=180),
            ),
            models.CheckConstraint(
                name="crew_max_utilization_percent",
                condition=Q(max_utilization_percent__isnull=True)
                | Q(max_utilization_percent__gte=1, max_utilization_percent__lte=100),
            ),
            models.CheckConstraint(
                name="crew_lunch_at_most_4h",
                condition=Q(lunch_minutes__isnull=True) | Q(lunch_minutes__lte=240),
            ),
            models.CheckConstraint(
                name="crew_lunch_window_ordered",
                condition=Q(lunch_earliest_start__isnull=True)
                | Q(lunch_latest_start__isnull=True)
                | Q(lunch_earliest_start__lte=F("lunch_latest_start")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company.name} / {self.name}"

    def works_on_weekday(self, weekday: int) -> bool:
        """``weekday`` as in :meth:`datetime.date.weekday` (Monday = 0)."""
        return bool(self.working_weekdays & (1 << weekday))

    @property
    def working_weekday_numbers(self) -> list[int]:
        return [day for day in range(7) if self.works_on_weekday(day)]

    @property
    def lunch(self) -> Lunch | None:
        """The crew's lunch break: its own settings first, then its company's; ``None`` = none."""
        company = self.company
        minutes = self.lunch_minutes if self.lunch_minutes is not None else company.lunch_minutes
        if not minutes:
            return None
        earliest = self.lunch_earliest_start or company.lunch_earliest_start
        latest = self.lunch_latest_start or company.lunch_latest_start
        return Lunch(minutes=minutes, earliest_start=earliest, latest_start=max(earliest, latest))


@dataclass(frozen=True)
class Lunch:
    """A crew's lunch break: ``minutes`` long, starting between the two times."""

    minutes: int
    earliest_start: dt.time
    latest_start: dt.time


class CrewUnavailability(models.Model):
    crew = models.ForeignKey(
        Crew, verbose_name=_("crew"), on_delete=models.CASCADE, related_name="unavailabilities"
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until (inclusive)"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)

    class Meta:
        ordering = ["crew_id", "start_date"]
        verbose_name = _("crew unavailability")
        verbose_name_plural = _("crew unavailabilities")
        constraints = [
            models.CheckConstraint(
                name="unavailability_dates_ordered", condition=Q(start_date__lte=F("end_date"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.crew} unavailable {self.start_date} to {self.end_date}"


class CompanyClosure(models.Model):
    """Dates the delivery department does not plan installations (年末年始, company holidays).

    National holidays come from the ``holidays`` package (see
    :mod:`dispatch.calendars`); these are the closures only we know about.
    """

    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until (inclusive)"))
    name = models.CharField(_("name"), max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_date", "id"]
        verbose_name = _("company closure")
        verbose_name_plural = _("company closures")
        constraints = [
            models.CheckConstraint(
                name="company_closure_dates_ordered", condition=Q(start_date__lte=F("end_date"))
            ),
            models.CheckConstraint(name="company_closure_named", condition=~Q(name="")),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_date} to {self.end_date})"


class PartnerClosure(models.Model):
    """Days a partner company does not work (its own holidays), for all its crews."""

    company = models.ForeignKey(
        PartnerCompany,
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="closures",
    )
    start_date = models.DateField(_("from"))
    end_date = models.DateField(_("until (inclusive)"))
    reason = models.CharField(_("reason"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["company_id", "start_date", "id"]
        verbose_name = _("partner closure")
        verbose_name_plural = _("partner closures")
        constraints = [
            models.CheckConstraint(
                name="partner_closure_dates_ordered", condition=Q(start_date__lte=F("end_date"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.company} closed {self.start_date} to {self.end_date}"


class CrewWorkingDay(models.Model):
    """A crew explicitly working a day it would not (a holiday, a closure, a day off).

    The only way anybody is planned on a closed day. An absence
    (:class:`CrewUnavailability`) on the same date still wins: nobody is sent
    out who said they are away.
    """

    crew = models.ForeignKey(
        Crew, verbose_name=_("crew"), on_delete=models.CASCADE, related_name="extra_working_days"
    )
    date = models.DateField(_("date"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "crew_id"]
        verbose_name = _("extra working day")
        verbose_name_plural = _("extra working days")
        constraints = [
            models.UniqueConstraint(fields=["crew", "date"], name="crew_working_day_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.crew} works {self.date}"


class Job(models.Model):
    reference = models.CharField(_("reference"), max_length=32, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=JobKind.choices)
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="jobs"
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="jobs",
    )
    status = models.CharField(
        _("status"), max_length=24, choices=JobStatus.choices, default=JobStatus.NEW
    )
    duration_minutes = models.PositiveIntegerField(_("duration (min)"))
    required_skills = models.ManyToManyField(
        Skill, verbose_name=_("required skills"), related_name="jobs", blank=True
    )
    members_needed = models.PositiveSmallIntegerField(_("crew members needed"), default=1)
    earliest_date = models.DateField(_("earliest date"), null=True, blank=True)
    due_date = models.DateField(_("due date"), null=True, blank=True)
    due_date_is_hard = models.BooleanField(
        _("due date is a promise"),
        default=False,
        help_text=_("Hard: never planned after the due date. Soft: late days cost."),
    )
    preferred_dates = models.JSONField(
        _("customer's preferred dates"),
        default=list,
        blank=True,
        help_text=_("ISO dates; empty = any allowed day."),
    )
    promise_is_hard = models.BooleanField(
        _("dates and time slot are a promise"),
        default=False,
        help_text=_(
            "Hard: planned only on a preferred date and inside the time slot. "
            "Soft: the planner tries to, and says when it could not."
        ),
    )
    unavailable_dates = models.JSONField(
        _("customer's unavailable dates"), default=list, blank=True
    )
    window_start = models.TimeField(
        _("time slot from"),
        null=True,
        blank=True,
        help_text=_("The customer's slot for the crew's arrival (AM = 9:00-12:00)."),
    )
    window_end = models.TimeField(_("time slot until"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(
        _("priority"), default=3, help_text=_("1 = lowest, 5 = most urgent.")
    )
    capacity_units = models.PositiveSmallIntegerField(_("capacity units"), default=0)
    survey = models.ForeignKey(
        "sites.SiteSurvey",
        verbose_name=_("survey"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="jobs",
        help_text=_("The survey this job's estimate comes from."),
    )
    estimate = models.JSONField(
        _("estimate"),
        default=dict,
        blank=True,
        help_text=_("Duration and skills the survey's rules gave, with the reason for each."),
    )
    duration_override_note = models.CharField(
        _("why the estimate was overridden"), max_length=300, blank=True
    )
    work_instructions = models.TextField(_("work instructions"), blank=True)
    parking_arrangement = models.CharField(_("parking arrangement"), max_length=300, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(
        _("visits not finished"),
        default=0,
        help_text=_("How many visits crews reported as not finished."),
    )
    returned_from_field_at = models.DateTimeField(
        _("returned from the field at"),
        null=True,
        blank=True,
        help_text=_("Set when a crew reports a visit not finished; cleared when it is live again."),
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    status_changed_at = models.DateTimeField(_("status changed at"), default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    #: From this many failed visits on, a returned job is raised for a coordinator's attention.
    ATTENTION_AFTER_FAILED_ATTEMPTS = 2

    class Meta:
        ordering = ["due_date", "reference"]
        verbose_name = _("job")
        verbose_name_plural = _("jobs")
        constraints = [
            models.CheckConstraint(
                name="job_kind_valid", condition=Q(kind__in=[k.value for k in JobKind])
            ),
            models.CheckConstraint(
                name="job_status_valid", condition=Q(status__in=[s.value for s in JobStatus])
            ),
            models.CheckConstraint(
                name="job_duration_positive", condition=Q(duration_minutes__gte=1)
            ),
            models.CheckConstraint(
                name="job_duration_within_a_day", condition=Q(duration_minutes__lte=24 * 60)
            ),
            models.CheckConstraint(name="job_members_positive", condition=Q(members_needed__gte=1)),
            models.CheckConstraint(
                name="job_priority_1_to_5", condition=Q(priority__gte=1, priority__lte=5)
            ),
            models.CheckConstraint(
                name="job_dates_ordered",
                condition=Q(earliest_date__isnull=True)
                | Q(due_date__isnull=True)
                | Q(earliest_date__lte=F("due_date")),
            ),
            models.CheckConstraint(
                name="job_window_complete",
                condition=Q(window_start__isnull=True, window_end__isnull=True)
                | Q(window_start__isnull=False, window_end__isnull=False),
            ),
            models.CheckConstraint(
                name="job_window_ordered",
                condition=Q(window_start__isnull=True) | Q(window_start__lt=F("window_end")),
            ),
            models.CheckConstraint(
                name="job_hard_due_needs_date",
                condition=Q(due_date_is_hard=False) | Q(due_date__isnull=False),
            ),
            models.CheckConstraint(name="job_reference_not_blank", condition=~Q(reference="")),
        ]
        indexes = [models.Index(fields=["status", "due_date"])]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_kind_display()})"

    @property
    def is_returned_from_field(self) -> bool:
        """Back in the coordinators' hands after a crew could not finish it."""
        return self.returned_from_field_at is not None

    @property
    def needs_attention(self) -> bool:
        """Failed more than once: re-planning it blindly will likely fail again."""
        return (
            self.is_returned_from_field
            and self.failed_attempts >= self.ATTENTION_AFTER_FAILED_ATTEMPTS
        )


class JobStatusChange(models.Model):
    """One step of a job's history; written by ``job_transition`` only."""

    job = models.ForeignKey(
        Job, verbose_name=_("job"), on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(
        pgettext_lazy("status change", "from"), max_length=24, choices=JobStatus.choices
    )
    to_status = models.CharField(
        pgettext_lazy("status change", "to"), max_length=24, choices=JobStatus.choices
    )
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("note"), max_length=500, blank=True)
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)

    class Meta:
        ordering = ["job_id", "changed_at", "id"]
        verbose_name = _("job status change")
        verbose_name_plural = _("job status changes")
        constraints = [
            models.CheckConstraint(
                name="status_change_is_a_change", condition=~Q(from_status=F("to_status"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job.reference}: {self.from_status} → {self.to_status}"


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPTIMIZING = "optimizing", _("Optimizing")
    PROPOSED = "proposed", _("Proposed")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Plan(models.Model):
    name = models.CharField(_("name"), max_length=200)
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="plans",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    params = models.JSONField(
        _("solver parameters"),
        default=dict,
        blank=True,
        help_text=_("Time limit, slack rules and weights used for optimization."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    revises = models.ForeignKey(
        "self",
        verbose_name=_("revision of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="revisions",
        help_text=_("The published plan this draft will replace when published."),
    )
    unassigned = models.JSONField(
        _("unassigned jobs with reasons"),
        default=list,
        blank=True,
        help_text=_(
            "From the last optimization: [{job_id, reference, reasons: [{rule, message}]}]."
        ),
    )
    kpis = models.JSONField(_("key figures"), default=dict, blank=True)
    crew_day_scope = models.JSONField(
        _("crew-days this plan may use"),
        default=list,
        blank=True,
        help_text=_(
            "[[crew_id, 'YYYY-MM-DD'], ...] given to each region plan of a week planned for "
            "all regions, so no crew-day is planned twice; empty = every free crew-day."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.CheckConstraint(
                name="plan_dates_ordered", condition=Q(start_date__lte=F("end_date"))
            ),
            models.CheckConstraint(
                name="plan_status_valid", condition=Q(status__in=[s.value for s in PlanStatus])
            ),
            models.CheckConstraint(name="plan_version_positive", condition=Q(version__gte=1)),
            models.CheckConstraint(
                name="plan_published_dated",
                condition=~Q(status=PlanStatus.PUBLISHED) | Q(published_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.start_date} to {self.end_date}, {self.get_status_display()})"


class LiveRoute(models.Model):
    """The live route of one crew on one date, and the published plan that owns it.

    Together with :attr:`Visit.route` this is the ledger of live work: the
    schedule partners see is exactly the visits that point to a live route.
    The database holds at most one route per crew and date and at most one
    live visit per job, so two plans (regions, revisions, weeks) can never
    both send a crew somewhere at the same time or two crews to one job.
    Written only by :mod:`dispatch.ledger`.
    """

    crew = models.ForeignKey(
        Crew, verbose_name=_("crew"), on_delete=models.PROTECT, related_name="live_routes"
    )
    date = models.DateField(_("date"))
    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.PROTECT, related_name="live_routes"
    )
    created_at = models.DateTimeField(_("live since"), auto_now_add=True)

    class Meta:
        ordering = ["date", "crew_id"]
        verbose_name = _("live route")
        verbose_name_plural = _("live routes")
        constraints = [
            models.UniqueConstraint(fields=["crew", "date"], name="live_route_one_per_crew_day"),
        ]

    def __str__(self) -> str:
        return f"{self.crew} on {self.date} (plan {self.plan_id})"


class ReleaseReason(models.TextChoices):
    """Why a visit left the live schedule without its plan being replaced."""

    NOT_FINISHED = "not_finished", _("Reported not finished by the crew")
    TAKEN_OVER = "taken_over", _("Moved to another plan by a coordinator")
    REPLACED = "replaced", _("Replaced by a newer version of the plan")
    CANCELLED = "cancelled", _("The job was cancelled")


class Visit(models.Model):
    """One job on one crew-day of a plan, with its planned times and place in the route."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="visits"
    )
    job = models.ForeignKey(
        Job, verbose_name=_("job"), on_delete=models.PROTECT, related_name="visits"
    )
    crew = models.ForeignKey(
        Crew, verbose_name=_("crew"), on_delete=models.PROTECT, related_name="visits"
    )
    date = models.DateField(_("date"))
    sequence = models.PositiveSmallIntegerField(_("position in the route"))
    planned_start = models.DateTimeField(_("planned start"))
    planned_end = models.DateTimeField(_("planned end"))
    travel_minutes_from_previous = models.PositiveIntegerField(
        _("travel from previous stop (min)"), default=0
    )
    travel_m_from_previous = models.PositiveIntegerField(
        _("travel from previous stop (m)"), default=0
    )
    locked = models.BooleanField(
        _("locked"), default=False, help_text=_("Kept exactly where it is when re-optimizing.")
    )
    route = models.ForeignKey(
        LiveRoute,
        verbose_name=_("live route"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="visits",
        help_text=_("Set while the visit is on the live schedule; see dispatch.ledger."),
    )
    released_at = models.DateTimeField(_("left the schedule at"), null=True, blank=True)
    release_reason = models.CharField(
        _("why it left the schedule"), max_length=16, choices=ReleaseReason.choices, blank=True
    )
    takes_over = models.BooleanField(
        _("takes the job over"),
        default=False,
        help_text=_(
            "Placed by hand although the job is live in another plan: publishing this plan "
            "moves it out of that plan."
        ),
    )

    class Meta:
        ordering = ["plan_id", "crew_id", "date", "sequence"]
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        constraints = [
            models.UniqueConstraint(fields=["plan", "job"], name="visit_one_per_job_per_plan"),
            # The ledger's first rule: a job is live in at most one crew-day.
            models.UniqueConstraint(
                fields=["job"],
                condition=Q(route__isnull=False),
                name="visit_one_live_per_job",
            ),
            models.CheckConstraint(
                name="visit_live_or_released",
                condition=Q(route__isnull=True) | Q(release_reason="", released_at__isnull=True),
            ),
            models.CheckConstraint(
                name="visit_release_reason_valid",
                condition=Q(release_reason__in=["", *(r.value for r in ReleaseReason)]),
            ),
            models.UniqueConstraint(
                fields=["plan", "crew", "date", "sequence"], name="visit_unique_position"
            ),
            models.CheckConstraint(
                name="visit_times_ordered", condition=Q(planned_start__lt=F("planned_end"))
            ),
            models.CheckConstraint(name="visit_sequence_positive", condition=Q(sequence__gte=1)),
        ]
        indexes = [models.Index(fields=["crew", "date"])]

    def __str__(self) -> str:
        return f"{self.job.reference} by {self.crew.name} on {self.date} #{self.sequence}"

    @property
    def is_live(self) -> bool:
        """On the schedule partners see (see :mod:`dispatch.ledger`)."""
        return self.route_id is not None


class PlannedBreak(models.Model):
    """The lunch break the planner placed on one crew-day of a plan."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="breaks"
    )
    crew = models.ForeignKey(
        Crew, verbose_name=_("crew"), on_delete=models.CASCADE, related_name="planned_breaks"
    )
    date = models.DateField(_("date"))
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))

    class Meta:
        ordering = ["plan_id", "crew_id", "date"]
        verbose_name = _("planned break")
        verbose_name_plural = _("planned breaks")
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "crew", "date"], name="planned_break_one_per_crew_day"
            ),
            models.CheckConstraint(
                name="planned_break_times_ordered", condition=Q(start__lt=F("end"))
            ),
        ]

    def __str__(self) -> str:
        return f"Break of {self.crew} on {self.date}"


class ReportKind(models.TextChoices):
    EN_ROUTE = "en_route", _("En route")
    ARRIVED = "arrived", _("Arrived")
    STARTED = "started", _("Started")
    COMPLETED = "completed", _("Completed")
    INCOMPLETE = "incomplete", _("Not finished")


class IncompleteReason(models.TextChoices):
    CUSTOMER_ABSENT = "customer_absent", _("Customer absent")
    NO_ACCESS = "no_access", _("No access to the building or room")
    BUILDING_ISSUE = "building_issue", _("Surprise in the building (conduit, riser…)")
    CUSTOMER_ENVIRONMENT = "customer_environment", _("Customer's environment not ready")
    EQUIPMENT = "equipment", _("Equipment missing or faulty")
    TIME_OVERRUN = "time_overrun", _("Ran out of time")
    WEATHER = "weather", _("Weather")
    OTHER = "other", _("Other")


class JobReport(models.Model):
    """What the crew reports from the field."""

    job = models.ForeignKey(
        Job, verbose_name=_("job"), on_delete=models.CASCADE, related_name="reports"
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
    )
    crew = models.ForeignKey(
        Crew, verbose_name=_("crew"), on_delete=models.PROTECT, related_name="reports"
    )
    kind = models.CharField(_("report"), max_length=16, choices=ReportKind.choices)
    reason_code = models.CharField(
        _("reason"), max_length=24, choices=IncompleteReason.choices, blank=True
    )
    reason_text = models.TextField(_("details"), blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["job_id", "occurred_at", "id"]
        verbose_name = _("job report")
        verbose_name_plural = _("job reports")
        constraints = [
            models.CheckConstraint(
                name="report_kind_valid", condition=Q(kind__in=[k.value for k in ReportKind])
            ),
            # "Not finished" without a reason leaves the coordinator guessing.
            models.CheckConstraint(
                name="report_incomplete_has_reason",
                condition=~Q(kind=ReportKind.INCOMPLETE) | ~Q(reason_code=""),
            ),
            models.CheckConstraint(
                name="report_reason_only_when_incomplete",
                condition=Q(kind=ReportKind.INCOMPLETE) | Q(reason_code=""),
            ),
            models.CheckConstraint(
                name="report_reason_code_valid",
                condition=Q(reason_code="")
                | Q(reason_code__in=[r.value for r in IncompleteReason]),
            ),
            # A retried request from a flaky mobile network must not create a second report.
            models.UniqueConstraint(
                fields=["crew", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="report_idempotency_key_unique_per_crew",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job.reference}: {self.get_kind_display()}"


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class RunDecision(models.TextChoices):
    """What the coordinator did with a run's proposal (blank: not decided yet)."""

    ACCEPTED = "accepted", _("Accepted")
    DISCARDED = "discarded", _("Discarded")


class PlanningBatch(models.Model):
    """Several regions planned at once: one run per region, gathered into one summary.

    The summary is written by whichever run finishes last (under a row lock),
    a chord kept in the database so it needs no Celery result backend.
    """

    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    summary = models.JSONField(_("summary"), default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("planning batch")
        verbose_name_plural = _("planning batches")
        constraints = [
            models.CheckConstraint(
                name="batch_dates_ordered", condition=Q(start_date__lte=F("end_date"))
            ),
        ]

    def __str__(self) -> str:
        return f"Batch {self.pk} ({self.start_date} to {self.end_date})"


class OptimizationRun(models.Model):
    """One optimization of a plan: its parameters, live progress and outcome.

    Stored with its seed and parameters so a run can be reproduced; polled by
    the UI and the API while the worker updates the progress fields.
    """

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="runs"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=RunStatus.choices, default=RunStatus.QUEUED
    )
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    seed = models.PositiveIntegerField(_("seed"), default=0)
    time_limit_seconds = models.PositiveIntegerField(_("time limit (s)"), default=30)
    batch = models.ForeignKey(
        PlanningBatch,
        verbose_name=_("batch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="runs",
    )
    plan_version_at_start = models.PositiveIntegerField(_("plan version at start"), default=1)
    elapsed_seconds = models.FloatField(_("elapsed (s)"), default=0.0)
    best_objective_yen = models.FloatField(_("best objective (yen)"), null=True, blank=True)
    jobs_assigned = models.PositiveIntegerField(_("jobs assigned"), default=0)
    jobs_total = models.PositiveIntegerField(_("jobs to plan"), default=0)
    cancel_requested = models.BooleanField(_("cancel requested"), default=False)
    summary = models.JSONField(_("result summary"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    previous = models.JSONField(
        _("plan before the run"),
        default=dict,
        blank=True,
        help_text=_("The visits, unplanned list and status the proposal replaced, to discard it."),
    )
    plan_version_after = models.PositiveIntegerField(
        _("plan version after the run"), null=True, blank=True
    )
    decision = models.CharField(
        _("decision"), max_length=10, choices=RunDecision.choices, blank=True
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("last progress at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("optimization run")
        verbose_name_plural = _("optimization runs")
        constraints = [
            # Two workers writing two proposals into one plan would interleave
            # their visits; the database refuses a second active run outright.
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(status__in=ACTIVE_RUN_STATUSES),
                name="run_one_active_per_plan",
            ),
            models.CheckConstraint(
                name="run_status_valid", condition=Q(status__in=[s.value for s in RunStatus])
            ),
            models.CheckConstraint(
                name="run_time_limit_positive", condition=Q(time_limit_seconds__gte=1)
            ),
            # Only a finished, successful run has a proposal to accept or discard.
            models.CheckConstraint(
                name="run_decision_only_when_succeeded",
                condition=Q(decision="") | Q(status=RunStatus.SUCCEEDED),
            ),
        ]

    def __str__(self) -> str:
        return f"Run {self.pk} of {self.plan.name} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_RUN_STATUSES


class SearchPartState(models.TextChoices):
    QUEUED = "queued", _("queued")
    RUNNING = "running", _("running")
    DONE = "done", _("done")
    FAILED = "failed", _("failed")


class SearchPart(models.Model):
    """One part of a planner search (a region of a round), offered to every worker.

    The part itself travels in the Celery message; this row is where workers
    claim it (one conditional update: the first to move it out of *queued*
    searches it) and where the answer comes back. The planner that offered
    it claims parts too, so a part nobody else takes in time is still
    searched (``dispatch.parts``). Rows live as long as their batch.
    """

    batch = models.UUIDField(_("batch"), db_index=True)
    position = models.PositiveIntegerField(_("position"))
    run = models.ForeignKey(
        OptimizationRun,
        verbose_name=_("optimization run"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="search_parts",
    )
    state = models.CharField(
        _("state"), max_length=10, choices=SearchPartState.choices, default=SearchPartState.QUEUED
    )
    solver = models.CharField(_("searched by"), max_length=200, blank=True)
    started = models.FloatField(_("started (Unix time)"), null=True, blank=True)
    finished = models.FloatField(_("finished (Unix time)"), null=True, blank=True)
    outcome = models.JSONField(_("outcome"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("search part")
        verbose_name_plural = _("search parts")
        constraints = [
            models.UniqueConstraint(fields=["batch", "position"], name="search_part_unique"),
            models.CheckConstraint(
                name="search_part_state_valid",
                condition=Q(state__in=[s.value for s in SearchPartState]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch}/{self.position} ({self.state})"


class ChangeKind(models.TextChoices):
    ADDED = "added", _("Added")
    REMOVED = "removed", _("Removed")
    MOVED = "moved", _("Moved")


class PlanChange(models.Model):
    """What a publication changed for one crew, so the partner is told exactly what is new."""

    plan = models.ForeignKey(
        Plan, verbose_name=_("plan"), on_delete=models.CASCADE, related_name="changes"
    )
    crew = models.ForeignKey(
        Crew, verbose_name=_("crew"), on_delete=models.PROTECT, related_name="plan_changes"
    )
    job = models.ForeignKey(
        Job, verbose_name=_("job"), on_delete=models.PROTECT, related_name="plan_changes"
    )
    kind = models.CharField(_("change"), max_length=8, choices=ChangeKind.choices)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    published_version = models.PositiveIntegerField(_("published version"))

    class Meta:
        ordering = ["plan_id", "crew_id", "kind", "job_id"]
        verbose_name = _("plan change")
        verbose_name_plural = _("plan changes")
        constraints = [
            models.CheckConstraint(
                name="plan_change_kind_valid", condition=Q(kind__in=[k.value for k in ChangeKind])
            ),
            models.UniqueConstraint(
                fields=["plan", "crew", "job", "published_version"],
                name="plan_change_unique_per_crew_job",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job.reference} {self.get_kind_display()} for {self.crew.name}"


class CalendarFeed(models.Model):
    """A secret iCalendar URL for one crew, for calendar apps that cannot send a token header.

    Only the hash of the secret is stored; revoking takes effect on the next fetch.
    """

    crew = models.ForeignKey(
        Crew, verbose_name=_("crew"), on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        ordering = ["crew_id", "-created_at"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"Calendar of {self.crew}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class EstimateRule(models.Model):
    """One line of the table that turns a survey's findings into a job's duration and skills.

    Coordinators edit the table in the admin. A rule matches when the survey's
    ``field`` compares to ``value`` with ``operator``; every matching rule adds
    its minutes and skill, and its ``reason`` is shown next to the estimate.
    """

    class Operator(models.TextChoices):
        EQUALS = "eq", _("equals")
        AT_LEAST = "gte", _("is at least")
        MORE_THAN = "gt", _("is more than")
        IS_TRUE = "true", _("is yes")

    class Field(models.TextChoices):
        CONDUIT = "conduit_status", _("conduit / cable path")
        DISTANCE = "distance_to_base_station_m", _("distance to the base station (m)")
        STRUCTURE = "structure", _("structure")
        COMPLEXITY = "complexity", _("complexity")
        NEW_CABLING = "new_cabling_needed", _("new cabling needed")
        FLOORS = "site_floors", _("floors of the building")
        ESCORT = "needs_escort", _("escort needed")
        JOB_KIND = "job_kind", _("kind of job")

    name = models.CharField(_("name"), max_length=100, unique=True)
    field = models.CharField(_("survey field"), max_length=32, choices=Field.choices)
    operator = models.CharField(_("operator"), max_length=8, choices=Operator.choices)
    value = models.CharField(_("value"), max_length=50, blank=True)
    add_minutes = models.IntegerField(_("add minutes"), default=0)
    add_skill = models.ForeignKey(
        Skill,
        verbose_name=_("require skill"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    reason = models.CharField(_("reason shown"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("estimate rule")
        verbose_name_plural = _("estimate rules")
        constraints = [
            models.CheckConstraint(
                name="estimate_rule_operator_valid",
                condition=Q(operator__in=["eq", "gte", "gt", "true"]),
            ),
            models.CheckConstraint(
                name="estimate_rule_minutes_bounded",
                condition=Q(add_minutes__gte=-240, add_minutes__lte=480),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SlotBookingStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the coordinator")
    LIVE = "live", _("On the live schedule")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    REPLACED = "replaced", _("Replaced by a new slot")


#: The statuses of a job's *current* slot booking: the promise the customer holds now.
#: A job has at most one (constraint ``slot_booking_one_current_per_job``); the
#: others are its history (what was said on the phone before).
CURRENT_SLOT_STATUSES: tuple[str, ...] = (
    SlotBookingStatus.PENDING.value,
    SlotBookingStatus.LIVE.value,
)


class SlotBooking(models.Model):
    """A visit slot promised to a customer during a call, found in the gaps of the live schedule.

    Written by :mod:`dispatch.slots`. While *pending* the slot is held: later
    offers plan around it as around a published visit, and a coordinator
    confirms it onto the live schedule (:func:`dispatch.slots.slot_confirm`).
    The promise itself (``date``, ``window_start``-``window_end``) is kept as
    it was said on the phone, whatever happens to the job later.

    A job may be booked again (a visit not finished, a slot that lapsed):
    the new booking is its current one and the earlier one is kept,
    *replaced*, as the history of what the customer was told. Read the
    current one with :func:`dispatch.slots.current_slot_booking`.
    """

    job = models.ForeignKey(
        Job, verbose_name=_("job"), on_delete=models.PROTECT, related_name="slot_bookings"
    )
    crew = models.ForeignKey(
        Crew, verbose_name=_("crew"), on_delete=models.PROTECT, related_name="slot_bookings"
    )
    date = models.DateField(_("date"))
    planned_start = models.DateTimeField(_("planned start"))
    planned_end = models.DateTimeField(_("planned end"))
    window_start = models.TimeField(_("promised arrival from"))
    window_end = models.TimeField(_("promised arrival until"))
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=SlotBookingStatus.choices,
        default=SlotBookingStatus.PENDING,
    )
    visit = models.ForeignKey(
        Visit,
        verbose_name=_("visit"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    class Meta:
        ordering = ["date", "planned_start"]
        verbose_name = _("booked visit slot")
        verbose_name_plural = _("booked visit slots")
        indexes = [models.Index(fields=["status", "date"])]
        constraints = [
            models.CheckConstraint(
                name="slot_booking_status_valid",
                condition=Q(status__in=[s.value for s in SlotBookingStatus]),
            ),
            models.CheckConstraint(
                name="slot_booking_times_ordered", condition=Q(planned_start__lt=F("planned_end"))
            ),
            models.CheckConstraint(
                name="slot_booking_window_ordered", condition=Q(window_start__lt=F("window_end"))
            ),
            # One promise at a time: two operators rebooking a job at once cannot
            # both leave a pending slot, whatever a code path forgets.
            models.UniqueConstraint(
                fields=["job"],
                condition=Q(status__in=CURRENT_SLOT_STATUSES),
                name="slot_booking_one_current_per_job",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.job.reference} by {self.crew.name} on {self.date} ({self.status})"


# --- completion facts ---------------------------------------------------------------

#: The light level a crew may measure at the media converter, in dBm (one decimal).
LIGHT_LEVEL_MIN_DBM = -40
LIGHT_LEVEL_MAX_DBM = 5


class FactsStatus(models.TextChoices):
    PROPOSED = "proposed", pgettext_lazy("completion facts", "Proposed")
    CONFIRMED = "confirmed", pgettext_lazy("completion facts", "Confirmed")
    REJECTED = "rejected", pgettext_lazy("completion facts", "Rejected")


class CompletionFacts(models.Model):
    """What a crew recorded on 'done' for support, proposed for the as-built record.

    Written once with the crew's report and never edited; delivery decides it
    once, at handover: *confirmed* writes a new version of the site's
    construction record (``record``; the earlier versions stay as they were),
    *rejected* keeps the facts here with the reason. The decision is final.
    """

    report = models.OneToOneField(
        JobReport,
        verbose_name=_("report"),
        on_delete=models.PROTECT,
        related_name="completion_facts",
    )
    job = models.ForeignKey(
        Job, verbose_name=_("job"), on_delete=models.CASCADE, related_name="completion_facts"
    )
    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="completion_facts"
    )
    crew = models.ForeignKey(
        Crew, verbose_name=_("crew"), on_delete=models.PROTECT, related_name="completion_facts"
    )
    company = models.ForeignKey(
        PartnerCompany,
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="completion_facts",
    )
    mc_serial = models.CharField(_("media converter serial"), max_length=64, blank=True)
    port = models.CharField(_("port"), max_length=64, blank=True)
    light_level_dbm = models.DecimalField(
        _("light level (dBm)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    note = models.TextField(_("note"), max_length=1000, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=FactsStatus.choices, default=FactsStatus.PROPOSED
    )
    proposed_at = models.DateTimeField(_("proposed at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True)
    record = models.OneToOneField(
        "sites.ConstructionRecord",
        verbose_name=_("construction record"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="completion_facts",
        help_text=_("The as-built version written when the facts were confirmed."),
    )

    class Meta:
        ordering = ["proposed_at", "id"]
        verbose_name = _("completion facts")
        verbose_name_plural = _("completion facts")
        indexes = [models.Index(fields=["site", "status"])]
        constraints = [
            models.CheckConstraint(
                name="facts_status_valid",
                condition=Q(status__in=[s.value for s in FactsStatus]),
            ),
            models.CheckConstraint(
                name="facts_not_empty",
                condition=~Q(mc_serial="", port="", note="", light_level_dbm__isnull=True),
            ),
            models.CheckConstraint(
                name="facts_light_level_sane",
                condition=Q(light_level_dbm__isnull=True)
                | Q(
                    light_level_dbm__gte=LIGHT_LEVEL_MIN_DBM,
                    light_level_dbm__lte=LIGHT_LEVEL_MAX_DBM,
                ),
            ),
            # Decided exactly when not proposed, and by someone.
            models.CheckConstraint(
                name="facts_decided_when_not_proposed",
                condition=(
                    Q(status=FactsStatus.PROPOSED, decided_at__isnull=True)
                    | (~Q(status=FactsStatus.PROPOSED) & Q(decided_at__isnull=False))
                ),
            ),
            models.CheckConstraint(
                name="facts_rejection_has_reason",
                condition=~Q(status=FactsStatus.REJECTED) | ~Q(decision_reason=""),
            ),
            # A confirmed proposal points at the record version it wrote, and only then.
            models.CheckConstraint(
                name="facts_record_iff_confirmed",
                condition=Q(status=FactsStatus.CONFIRMED, record__isnull=False)
                | (~Q(status=FactsStatus.CONFIRMED) & Q(record__isnull=True)),
            ),
        ]

    def __str__(self) -> str:
        return f"Completion facts of {self.job.reference} ({self.status})"
