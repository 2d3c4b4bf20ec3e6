"""Admin of dispatch. Reference data (companies, crews, skills, closures, rules) is edited
here; records with a state machine, a version or a ledger are view-only
(:mod:`core.admin_policy`): their writes go through dispatch's services.
"""

from django.contrib import admin

from core.admin_policy import ReadOnlyAdminMixin, ReadOnlyTabularInline

from .models import (
    CalendarFeed,
    CompanyClosure,
    CompletionFacts,
    Crew,
    CrewUnavailability,
    CrewWorkingDay,
    EstimateRule,
    Job,
    JobReport,
    JobStatusChange,
    OptimizationRun,
    PartnerClosure,
    PartnerCompany,
    Plan,
    PlanChange,
    PlanningBatch,
    Skill,
    Visit,
)


@admin.register(PartnerCompany)
class PartnerCompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "is_group_company", "phone", "email")
    list_filter = ("is_group_company", "regions")
    search_fields = ("name", "name_kana")
    filter_horizontal = ("regions",)


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "name_en")
    search_fields = ("code", "name", "name_en")


class UnavailabilityInline(admin.TabularInline):
    model = CrewUnavailability
    extra = 0


@admin.register(Crew)
class CrewAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "company",
        "members",
        "shift_start",
        "shift_end",
        "max_jobs_per_day",
        "cost_per_km_yen",
        "is_active",
    )
    list_filter = ("company", "is_active", "skills")
    search_fields = ("name", "company__name", "home_base_address")
    list_select_related = ("company",)
    filter_horizontal = ("skills",)
    inlines = [UnavailabilityInline]


@admin.register(CrewUnavailability)
class CrewUnavailabilityAdmin(admin.ModelAdmin):
    list_display = ("crew", "start_date", "end_date", "reason")
    list_filter = ("crew__company",)
    search_fields = ("crew__name", "reason")
    list_select_related = ("crew", "crew__company")
    date_hierarchy = "start_date"


@admin.register(CompanyClosure)
class CompanyClosureAdmin(admin.ModelAdmin):
    """The department's own closed dates; national holidays come from the ``holidays`` package."""

    list_display = ("name", "start_date", "end_date")
    search_fields = ("name",)
    date_hierarchy = "start_date"


@admin.register(PartnerClosure)
class PartnerClosureAdmin(admin.ModelAdmin):
    list_display = ("company", "start_date", "end_date", "reason")
    list_filter = ("company",)
    search_fields = ("company__name", "reason")
    list_select_related = ("company",)
    date_hierarchy = "start_date"


@admin.register(CrewWorkingDay)
class CrewWorkingDayAdmin(admin.ModelAdmin):
    list_display = ("crew", "date", "note")
    list_filter = ("crew__company",)
    search_fields = ("crew__name", "note")
    list_select_related = ("crew", "crew__company")
    date_hierarchy = "date"


class StatusChangeInline(ReadOnlyTabularInline):
    # History is written by the state machine only.
    model = JobStatusChange
    readonly_fields = ("from_status", "to_status", "changed_by", "note", "changed_at")


class ReportInline(ReadOnlyTabularInline):
    # Reports move jobs through the state machine (dispatch.reports): never typed in here.
    model = JobReport
    fields = ("kind", "crew", "reason_code", "reason_text", "occurred_at")


@admin.register(Job)
class JobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Jobs change through the API and pages, which bump ``version`` and keep history."""

    list_display = (
        "reference",
        "kind",
        "site",
        "status",
        "duration_minutes",
        "priority",
        "earliest_date",
        "due_date",
        "due_date_is_hard",
    )
    list_filter = ("status", "kind", "priority", "due_date_is_hard", "required_skills")
    search_fields = ("reference", "site__name", "site__address", "contract__contract_id")
    list_select_related = ("site",)
    autocomplete_fields = ("site", "contract")
    filter_horizontal = ("required_skills",)
    date_hierarchy = "due_date"
    # Status changes go through the state machine (dispatch.services.job_transition).
    readonly_fields = ("status", "status_changed_at", "version", "created_at", "updated_at")
    inlines = [StatusChangeInline, ReportInline]


@admin.register(JobStatusChange)
class JobStatusChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("job", "from_status", "to_status", "changed_by", "changed_at")
    list_filter = ("to_status",)
    search_fields = ("job__reference", "note")
    list_select_related = ("job", "changed_by")
    readonly_fields = ("job", "from_status", "to_status", "changed_by", "note", "changed_at")


class VisitInline(ReadOnlyTabularInline):
    model = Visit
    fields = ("crew", "date", "sequence", "job", "planned_start", "planned_end", "locked")


@admin.register(Plan)
class PlanAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Status and version move only through dispatch.plans (validator, state machine)."""

    list_display = ("name", "start_date", "end_date", "region", "status", "version", "published_at")
    list_filter = ("status", "region")
    search_fields = ("name",)
    list_select_related = ("region",)
    date_hierarchy = "start_date"
    readonly_fields = ("version", "published_at", "created_at", "updated_at")


@admin.register(Visit)
class VisitAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "job",
        "crew",
        "date",
        "sequence",
        "planned_start",
        "planned_end",
        "locked",
        "plan",
    )
    list_filter = ("plan", "locked", "crew__company", "date")
    search_fields = ("job__reference", "crew__name", "job__site__name")
    list_select_related = ("job", "crew", "plan")
    autocomplete_fields = ("job", "crew", "plan")


@admin.register(CompletionFacts)
class CompletionFactsAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: delivery confirms or rejects through the handover API, which writes the record."""

    list_display = ("site", "job", "company", "mc_serial", "port", "light_level_dbm", "status")
    list_filter = ("status",)
    search_fields = ("site__name", "job__reference", "mc_serial")
    list_select_related = ("site", "job", "company")


@admin.register(JobReport)
class JobReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("job", "kind", "crew", "reason_code", "occurred_at", "reported_by")
    list_filter = ("kind", "reason_code", "crew__company")
    search_fields = ("job__reference", "reason_text", "idempotency_key")
    list_select_related = ("job", "crew", "reported_by")
    autocomplete_fields = ("job", "crew", "visit")


@admin.register(OptimizationRun)
class OptimizationRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Runs are written by the worker; the admin only reads them."""

    list_display = (
        "id",
        "plan",
        "status",
        "jobs_assigned",
        "jobs_total",
        "best_objective_yen",
        "elapsed_seconds",
        "created_at",
        "finished_at",
    )
    list_filter = ("status",)
    search_fields = ("plan__name", "error")
    list_select_related = ("plan",)


@admin.register(PlanChange)
class PlanChangeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("plan", "published_version", "crew", "job", "kind")
    list_filter = ("kind", "crew__company")
    search_fields = ("job__reference", "crew__name")
    list_select_related = ("plan", "crew", "job")
    readonly_fields = ("plan", "crew", "job", "kind", "before", "after", "published_version")


@admin.register(PlanningBatch)
class PlanningBatchAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("id", "start_date", "end_date", "created_by", "created_at", "finished_at")
    readonly_fields = (
        "start_date",
        "end_date",
        "created_by",
        "created_at",
        "finished_at",
        "summary",
    )


@admin.register(CalendarFeed)
class CalendarFeedAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("crew", "created_by", "created_at", "revoked_at")
    list_filter = ("revoked_at", "crew__company")
    list_select_related = ("crew", "crew__company", "created_by")
    readonly_fields = ("token_hash", "created_at")


@admin.register(EstimateRule)
class EstimateRuleAdmin(admin.ModelAdmin):
    """The survey-to-estimate rule table; coordinators tune it here."""

    list_display = (
        "order", "name", "field", "operator", "value", "add_minutes", "add_skill", "is_active",
    )  # fmt: skip
    list_display_links = ("name",)
    list_editable = ("order", "add_minutes", "is_active")
    list_filter = ("is_active", "field")
    search_fields = ("name", "reason")
