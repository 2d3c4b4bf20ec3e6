"""Input and output of the CRUD endpoints.

Cross-field rules (a window that ends before it starts, a hard due date
without a date, half a coordinate) are checked here so a caller gets a 400
that names the field. The same rules are database constraints too: those
stay as the last line of defence, and answer 409 if a code path ever skips
these checks.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.dates import SaneDateField
from api.model_serializer import ModelSerializer
from dispatch.models import (
    ALL_WEEKDAYS_MASK,
    Crew,
    CrewUnavailability,
    Job,
    JobReport,
    JobStatusChange,
    PartnerCompany,
    Skill,
)
from dispatch.selectors import reports_visible_to, status_changes_visible_to
from dispatch.states import JobStatus
from sites.models import (
    ConstructionRecord,
    Contract,
    ContractStatus,
    Customer,
    Permission,
    PermissionStatus,
    Region,
    Site,
    SiteSurvey,
)

MINUTES_PER_DAY = 24 * 60
#: A year of dates is already more than any customer will list.
MAX_LISTED_DATES = 366


def current(serializer: serializers.Serializer, attrs: dict[str, Any], name: str) -> Any:
    """The value ``name`` will have after this write: the input's, else the stored one.

    Cross-field rules must hold for the merged result, so a PATCH that only
    moves ``window_end`` is still checked against the stored ``window_start``.
    """
    if name in attrs:
        return attrs[name]
    instance: Model | None = serializer.instance
    return getattr(instance, name, None) if instance is not None else None


def check_pair_complete(
    serializer: serializers.Serializer, attrs: dict[str, Any], first: str, second: str
) -> None:
    """Both of ``first`` and ``second`` set, or neither: half a window or a point is a bug."""
    first_value, second_value = (
        current(serializer, attrs, first),
        current(serializer, attrs, second),
    )
    if (first_value is None) != (second_value is None):
        missing = second if second_value is None else first
        raise serializers.ValidationError(
            {missing: [f"give both {first} and {second}, or neither."]}
        )


def check_ordered(
    serializer: serializers.Serializer,
    attrs: dict[str, Any],
    first: str,
    second: str,
    *,
    strict: bool,
) -> None:
    """``first`` before ``second`` (or equal when not ``strict``), when both are set."""
    first_value, second_value = (
        current(serializer, attrs, first),
        current(serializer, attrs, second),
    )
    if first_value is None or second_value is None:
        return
    broken = first_value >= second_value if strict else first_value > second_value
    if broken:
        relation = "before" if strict else "on or before"
        raise serializers.ValidationError({second: [f"{first} must be {relation} {second}."]})


# --- Reference data ------------------------------------------------------------


class RegionSerializer(ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name"]


class SkillSerializer(ModelSerializer):
    class Meta:
        model = Skill
        fields = ["id", "code", "name"]


class PartnerCompanySerializer(ModelSerializer):
    class Meta:
        model = PartnerCompany
        fields = ["id", "name", "name_kana", "is_group_company", "phone", "email", "regions"]


# --- Crews ---------------------------------------------------------------------


class CrewSerializer(ModelSerializer):
    company_name = serializers.CharField(source="company.name", read_only=True)
    skills = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        queryset=Skill.objects.all(),
        required=False,
        help_text="Skill codes, e.g. ['fibre_splicing'].",
    )

    class Meta:
        model = Crew
        fields = [
            "id",
            "company",
            "company_name",
            "name",
            "members",
            "skills",
            "home_base_address",
            "home_latitude",
            "home_longitude",
            "shift_start",
            "shift_end",
            "working_weekdays",
            "max_jobs_per_day",
            "cost_per_km_yen",
            "capacity_units",
            "min_gap_minutes",
            "max_utilization_percent",
            "is_active",
        ]
        extra_kwargs = {
            "members": {"min_value": 1},
            "home_latitude": {"min_value": -90, "max_value": 90},
            "home_longitude": {"min_value": -180, "max_value": 180},
            "working_weekdays": {"min_value": 1, "max_value": ALL_WEEKDAYS_MASK},
            "max_jobs_per_day": {"min_value": 1},
            "max_utilization_percent": {"min_value": 1, "max_value": 100},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_ordered(self, attrs, "shift_start", "shift_end", strict=True)
        return attrs


class CrewUnavailabilitySerializer(ModelSerializer):
    class Meta:
        model = CrewUnavailability
        fields = ["id", "crew", "start_date", "end_date", "reason"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_ordered(self, attrs, "start_date", "end_date", strict=False)
        return attrs


# --- Sites and what delivery learns about them ---------------------------------


class SiteSerializer(ModelSerializer):
    """The whole site, for coordinators and support.

    The geocoding fields are the geocoder's to write: coordinates given here
    count as set by hand (``manual``), an address change sends the site back
    to ``pending`` (see the view).
    """

    postal_code = serializers.RegexField(
        r"^\d{7}$",
        required=False,
        allow_blank=True,
        max_length=7,
        error_messages={"invalid": "a postal code is 7 digits without a hyphen."},
    )

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "name_kana",
            "address",
            "postal_code",
            "prefecture",
            "city",
            "region",
            "latitude",
            "longitude",
            "geocode_status",
            "geocode_error",
            "geocoded_at",
            "floors",
            "building_type",
            "notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["geocode_status", "geocode_error", "geocoded_at"]
        extra_kwargs = {
            "latitude": {"min_value": -90, "max_value": 90},
            "longitude": {"min_value": -180, "max_value": 180},
            "floors": {"min_value": 1},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_pair_complete(self, attrs, "latitude", "longitude")
        return attrs


class SiteAccessSerializer(ModelSerializer):
    """What a crew needs from the latest survey to get in and park."""

    class Meta:
        model = SiteSurvey
        fields = [
            "surveyed_on",
            "access_start",
            "access_end",
            "access_rules",
            "parking",
            "parking_arrangement",
            "riser_route",
        ]
        read_only_fields = fields


class PartnerSiteSerializer(ModelSerializer):
    """A site as a partner crew sees it: where it is and how to get in, nothing else.

    No customer, contract or notes: partners are outside companies, and the
    building's other data is none of their business.
    """

    latest_survey = serializers.SerializerMethodField()

    class Meta:
        model = Site
        fields = [
            "id",
            "name",
            "address",
            "latitude",
            "longitude",
            "floors",
            "building_type",
            "latest_survey",
        ]
        read_only_fields = fields

    @extend_schema_field(SiteAccessSerializer(allow_null=True))
    def get_latest_survey(self, site: Site) -> dict[str, Any] | None:
        # The view prefetches surveys newest first into ``surveys_newest_first``.
        surveys = getattr(site, "surveys_newest_first", None)
        survey = (surveys[0] if surveys else None) if surveys is not None else site.surveys.first()
        return SiteAccessSerializer(survey).data if survey is not None else None


class CustomerSerializer(ModelSerializer):
    class Meta:
        model = Customer
        fields = [
            "id",
            "name",
            "name_kana",
            "contact_person",
            "phone",
            "phone_alt",
            "email",
            "created_at",
        ]


class ContractSerializer(ModelSerializer):
    customer_name = serializers.CharField(source="customer.name", read_only=True)
    sites = serializers.PrimaryKeyRelatedField(
        many=True, queryset=Site.objects.all(), required=False
    )

    class Meta:
        model = Contract
        fields = [
            "id",
            "contract_id",
            "circuit_id",
            "customer",
            "customer_name",
            "sites",
            "service_name",
            "status",
            "signed_on",
            "delivery_team",
            "billing_status",
            "billing_ready_on",
            "handed_over_at",
        ]
        # Billing and handover have their own endpoints with their own rules.
        read_only_fields = ["billing_status", "billing_ready_on", "handed_over_at"]

    def validate_status(self, value: str) -> str:
        """A line opens only through the handover (its checks); here it can only be cancelled."""
        current = self.instance.status if self.instance is not None else ContractStatus.SIGNED
        if value not in (current, ContractStatus.CANCELLED):
            raise serializers.ValidationError(
                "the line opens through POST /api/v1/contracts/{id}/handover/; "
                "here the status can only become cancelled"
            )
        return value

    def validate_circuit_id(self, value: str | None) -> str | None:
        # "No circuit yet" is null, never "": two empty strings would collide
        # on the unique index.
        return value or None


class SiteSurveySerializer(ModelSerializer):
    class Meta:
        model = SiteSurvey
        fields = [
            "id",
            "site",
            "contract",
            "surveyed_on",
            "surveyor",
            "structure",
            "conduit_status",
            "riser_route",
            "distance_to_base_station_m",
            "parking",
            "parking_arrangement",
            "access_start",
            "access_end",
            "access_rules",
            "findings",
            "complexity",
            "created_at",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_pair_complete(self, attrs, "access_start", "access_end")
        check_ordered(self, attrs, "access_start", "access_end", strict=True)
        return attrs


class SitePermissionSerializer(ModelSerializer):
    class Meta:
        model = Permission
        fields = [
            "id",
            "site",
            "contract",
            "party",
            "party_name",
            "status",
            "requested_on",
            "decided_on",
            "expires_on",
            "notes",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        status = current(self, attrs, "status") or PermissionStatus.REQUESTED
        decided_on = current(self, attrs, "decided_on")
        if status != PermissionStatus.REQUESTED and decided_on is None:
            raise serializers.ValidationError(
                {"decided_on": ["a granted or refused permission needs the date of the decision."]}
            )
        if current(self, attrs, "expires_on") is not None and decided_on is None:
            raise serializers.ValidationError(
                {"expires_on": ["only a decided permission can expire."]}
            )
        check_ordered(self, attrs, "requested_on", "decided_on", strict=False)
        check_ordered(self, attrs, "decided_on", "expires_on", strict=False)
        return attrs


class ConstructionRecordSerializer(ModelSerializer):
    recorded_by = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ConstructionRecord
        fields = [
            "id",
            "site",
            "job",
            "media_converter_location",
            "port",
            "cable_route",
            "riser",
            "notes",
            "recorded_by",
            "recorded_by_name",
            "recorded_at",
        ]
        extra_kwargs = {"recorded_at": {"required": False}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Support finds the notes through the site: notes filed under a job of
        # another building would be read by the wrong caller.
        job: Job | None = current(self, attrs, "job")
        site: Site | None = current(self, attrs, "site")
        if job is not None and site is not None and job.site_id != site.pk:
            raise serializers.ValidationError({"job": ["this job is at another site."]})
        return attrs


# --- Jobs ----------------------------------------------------------------------


class JobStatusChangeSerializer(ModelSerializer):
    """One step of a job's status history."""

    # ``changed_by`` and ``note`` come from the ``shown_*`` columns that
    # dispatch.selectors.status_changes_visible_to adds for the caller: a row
    # that did not come through the selector cannot be rendered at all.
    changed_by = serializers.IntegerField(
        source="shown_changed_by_id",
        read_only=True,
        allow_null=True,
        help_text="Who made the step; null for partners unless it was their own company.",
    )
    note = serializers.CharField(
        source="shown_note",
        read_only=True,
        help_text="Empty for partners unless the step was made by their own company.",
    )

    class Meta:
        model = JobStatusChange
        fields = ["id", "from_status", "to_status", "changed_by", "note", "changed_at"]
        read_only_fields = fields


class JobReportSerializer(ModelSerializer):
    class Meta:
        model = JobReport
        fields = ["id", "kind", "crew", "visit", "reason_code", "reason_text", "occurred_at"]
        read_only_fields = fields


def refuse_job_version(serializer: serializers.Serializer) -> None:
    """Answer 400 to a body ``version``: jobs check concurrency with If-Match only.

    Jobs used to take the version a client read in the body (409
    ``stale_version``) as well as If-Match (412). A client still sending it
    would believe itself protected if the field were ignored, so it is told.
    """
    if "version" in getattr(serializer, "initial_data", {}):
        raise serializers.ValidationError(
            {
                "version": [
                    "jobs take no version in the request body: send the ETag you read in "
                    "the If-Match header (a stale one answers 412 precondition_failed)."
                ]
            }
        )


class JobSerializer(ModelSerializer):
    """A job as listed. Its status moves only through ``POST …/transition/``."""

    required_skills = serializers.SlugRelatedField(
        slug_field="code",
        many=True,
        queryset=Skill.objects.all(),
        required=False,
        help_text="Skill codes, e.g. ['fibre_splicing'].",
    )
    preferred_dates = serializers.ListField(
        child=SaneDateField(), required=False, max_length=MAX_LISTED_DATES
    )
    unavailable_dates = serializers.ListField(
        child=SaneDateField(), required=False, max_length=MAX_LISTED_DATES
    )
    needs_attention = serializers.BooleanField(
        read_only=True,
        help_text="Returned from the field after two or more visits not finished.",
    )
    version = serializers.IntegerField(
        read_only=True,
        help_text=(
            "Counts the job's changes. Not accepted in a request body: to refuse "
            "overwriting someone else's change, send the ETag you read in If-Match."
        ),
    )

    class Meta:
        model = Job
        fields = [
            "id",
            "reference",
            "kind",
            "site",
            "contract",
            "status",
            "status_changed_at",
            "duration_minutes",
            "required_skills",
            "members_needed",
            "earliest_date",
            "due_date",
            "due_date_is_hard",
            "preferred_dates",
            "unavailable_dates",
            "window_start",
            "window_end",
            "priority",
            "capacity_units",
            "work_instructions",
            "parking_arrangement",
            "failed_attempts",
            "returned_from_field_at",
            "needs_attention",
            "version",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "status",
            "status_changed_at",
            "failed_attempts",
            "returned_from_field_at",
        ]
        extra_kwargs = {
            "duration_minutes": {"min_value": 1, "max_value": MINUTES_PER_DAY},
            "priority": {"min_value": 1, "max_value": 5},
            "members_needed": {"min_value": 1},
        }

    def validate_preferred_dates(self, value: list[dt.date]) -> list[str]:
        return sorted({day.isoformat() for day in value})

    def validate_unavailable_dates(self, value: list[dt.date]) -> list[str]:
        return sorted({day.isoformat() for day in value})

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_job_version(self)
        check_pair_complete(self, attrs, "window_start", "window_end")
        check_ordered(self, attrs, "window_start", "window_end", strict=True)
        check_ordered(self, attrs, "earliest_date", "due_date", strict=False)
        if current(self, attrs, "due_date_is_hard") and current(self, attrs, "due_date") is None:
            raise serializers.ValidationError(
                {"due_date": ["a hard due date (due_date_is_hard) needs a due_date."]}
            )
        both = set(current(self, attrs, "preferred_dates") or ()) & set(
            current(self, attrs, "unavailable_dates") or ()
        )
        if both:
            raise serializers.ValidationError(
                {"preferred_dates": [f"also listed as unavailable: {', '.join(sorted(both))}."]}
            )
        return attrs


class JobDetailSerializer(JobSerializer):
    """A job with its history: status steps and crew reports, oldest first.

    Partners read their own company's reports only. Of the status steps they
    read their own company's in full, other steps (coordinators, system)
    without author or note, and none of another partner company's.
    """

    # Both come from dispatch.selectors for the user of the serializer's
    # ``request`` (nothing without one): a job that moved from one partner
    # company to another must not bring the first one's people and words
    # along. The view prefetches them into ``visible_status_changes`` and
    # ``visible_reports``; without that they are read through the selectors.
    status_changes = serializers.SerializerMethodField()
    reports = serializers.SerializerMethodField()

    class Meta(JobSerializer.Meta):
        fields = [*JobSerializer.Meta.fields, "status_changes", "reports"]

    def _viewer(self) -> Any:
        request = self.context.get("request")
        return getattr(request, "user", None)

    @extend_schema_field(JobStatusChangeSerializer(many=True, read_only=True))
    def get_status_changes(self, job: Job) -> list[dict[str, Any]]:
        changes = getattr(job, "visible_status_changes", None)
        if changes is None:
            changes = status_changes_visible_to(self._viewer()).filter(job=job)
        return JobStatusChangeSerializer(changes, many=True).data

    @extend_schema_field(JobReportSerializer(many=True, read_only=True))
    def get_reports(self, job: Job) -> list[dict[str, Any]]:
        reports = getattr(job, "visible_reports", None)
        if reports is None:
            reports = reports_visible_to(self._viewer()).filter(job=job)
        return JobReportSerializer(reports, many=True).data


class JobTransitionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=JobStatus.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_job_version(self)
        return attrs
