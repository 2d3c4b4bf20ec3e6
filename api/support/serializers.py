"""Shapes of the support API: plain output serializers over the selectors' dataclasses,
input serializers that only check types (the services check the rules)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Role, User
from api.dates import SaneDateField, SaneDateTimeField
from api.model_serializer import ModelSerializer
from dispatch.models import Job, JobReport, Visit
from sites.models import ConstructionRecord, Contract, Permission, SiteSurvey
from support.inbox import HandoffView, current_handoff_views
from support.models import (
    AMENDABLE_FIELDS,
    CallAmendment,
    CallCategory,
    FaultIsolation,
    HandoffEvent,
    HandoffStatus,
    HandoffTeam,
    MaintenanceBooking,
)
from support.search import Matched
from support.selectors import CallView, Grouping

from ..crud.serializers import AccessHoursField, describe_access
from ..partner.serializers import PartnerErrorSerializer

ErrorSerializer = PartnerErrorSerializer


def _person(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


class SearchHitSerializer(serializers.Serializer):
    site = serializers.IntegerField(source="site_id")
    name = serializers.CharField()
    address = serializers.CharField()
    customers = serializers.CharField()
    contracts = serializers.CharField()
    phones = serializers.CharField()
    matched = serializers.ChoiceField(
        choices=Matched.ALL, help_text="What the query matched: the operator's reason to trust it."
    )
    matched_text = serializers.CharField(
        help_text="For a contact match: the contact (or caller) as written, with the phone a "
        "caller used; empty otherwise."
    )
    score = serializers.FloatField()


class SearchResultSerializer(serializers.Serializer):
    query = serializers.CharField()
    truncated = serializers.BooleanField(
        help_text="More sites matched than were ranked: add a word to narrow down."
    )
    results = SearchHitSerializer(many=True, source="hits")


class ContractBriefSerializer(ModelSerializer):
    customer = serializers.CharField(source="customer.name")
    customer_kana = serializers.CharField(source="customer.name_kana")
    contact_person = serializers.CharField(source="customer.contact_person")
    phone = serializers.CharField(source="customer.phone")
    phone_alt = serializers.CharField(source="customer.phone_alt")

    class Meta:
        model = Contract
        fields = [
            "id",
            "contract_id",
            "circuit_id",
            "service_name",
            "status",
            "customer",
            "customer_kana",
            "contact_person",
            "phone",
            "phone_alt",
            "handed_over_at",
        ]
        read_only_fields = fields


class ConstructionNoteSerializer(ModelSerializer):
    recorded_by = serializers.SerializerMethodField()

    class Meta:
        model = ConstructionRecord
        fields = [
            "id",
            "media_converter_location",
            "media_converter_serial",
            "port",
            "light_level_dbm",
            "cable_route",
            "riser",
            "notes",
            "recorded_by",
            "recorded_at",
            "archived_at",
            "job",
        ]
        read_only_fields = fields

    def get_recorded_by(self, record: ConstructionRecord) -> str:
        return record.recorded_by_name or _person(record.recorded_by)


class SurveyFindingsSerializer(ModelSerializer):
    """A survey as support reads it: the access hours as data and as one line for people."""

    access_hours = AccessHoursField(
        read_only=True, help_text="Weekly access hours; empty = no restriction."
    )
    access_description = serializers.SerializerMethodField(
        help_text="The access hours for people, in the request's language (Accept-Language)."
    )

    class Meta:
        model = SiteSurvey
        fields = [
            "id",
            "surveyed_on",
            "surveyor",
            "structure",
            "conduit_status",
            "riser_route",
            "distance_to_base_station_m",
            "parking",
            "parking_arrangement",
            "access_hours",
            "access_description",
            "access_rules",
            "findings",
            "needs_key",
            "needs_escort",
            "needs_elevator_booking",
        ]
        read_only_fields = fields

    def get_access_description(self, survey: SiteSurvey) -> str:
        return describe_access(survey)


class PermissionBriefSerializer(ModelSerializer):
    class Meta:
        model = Permission
        fields = ["id", "party", "party_name", "status", "requested_on", "decided_on", "expires_on"]
        read_only_fields = fields


class CrewReportSerializer(ModelSerializer):
    crew = serializers.CharField(source="crew.name")

    class Meta:
        model = JobReport
        fields = ["id", "kind", "reason_code", "reason_text", "occurred_at", "crew"]
        read_only_fields = fields


class JobHistorySerializer(ModelSerializer):
    reports = CrewReportSerializer(many=True)

    class Meta:
        model = Job
        fields = [
            "id",
            "reference",
            "kind",
            "status",
            "priority",
            "due_date",
            "work_instructions",
            "created_at",
            "reports",
        ]
        read_only_fields = fields


class UpcomingVisitSerializer(ModelSerializer):
    job_reference = serializers.CharField(source="job.reference")
    job_kind = serializers.CharField(source="job.kind")
    crew = serializers.CharField(source="crew.name")
    company = serializers.CharField(source="crew.company.name")

    class Meta:
        model = Visit
        fields = [
            "id",
            "date",
            "planned_start",
            "planned_end",
            "job",
            "job_reference",
            "job_kind",
            "crew",
            "company",
        ]
        read_only_fields = fields


class AmendmentSerializer(ModelSerializer):
    author = serializers.SerializerMethodField()

    class Meta:
        model = CallAmendment
        fields = ["id", "created_at", "author", "text", "corrections"]
        read_only_fields = fields

    def get_author(self, amendment: CallAmendment) -> str:
        return _person(amendment.author)


class BookingSerializer(ModelSerializer):
    job_reference = serializers.CharField(source="job.reference")
    job_status = serializers.CharField(source="job.status")
    priority = serializers.IntegerField(source="job.priority")
    due_date = SaneDateField(source="job.due_date", allow_null=True)
    booked_by = serializers.SerializerMethodField()

    class Meta:
        model = MaintenanceBooking
        fields = [
            "job",
            "job_reference",
            "job_status",
            "priority",
            "due_date",
            "decision",
            "reason",
            "booked_by",
            "booked_at",
        ]
        read_only_fields = fields

    def get_booked_by(self, booking: MaintenanceBooking) -> str:
        return _person(booking.booked_by)


class CurrentCallSerializer(serializers.Serializer):
    """The call as it stands after its amendments."""

    caller_name = serializers.CharField()
    caller_phone = serializers.CharField()
    category = serializers.ChoiceField(choices=CallCategory.choices)
    fault_isolation = serializers.ChoiceField(choices=FaultIsolation.choices)
    description = serializers.CharField()
    handoff_team = serializers.ChoiceField(choices=HandoffTeam.choices, allow_blank=True)
    handoff_note = serializers.CharField(allow_blank=True)
    follow_up_needed = serializers.BooleanField()
    follow_up_due = SaneDateField(allow_null=True)
    follow_up_note = serializers.CharField(allow_blank=True)


class HandoffEventSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[HandoffStatus.ACKNOWLEDGED, HandoffStatus.DONE])
    by = serializers.IntegerField(source="by_id")
    by_name = serializers.SerializerMethodField()
    at = SaneDateTimeField()
    note = serializers.CharField(allow_blank=True)

    def get_by_name(self, event: HandoffEvent) -> str:
        return _person(event.by)


class HandoffStateSerializer(serializers.Serializer):
    """The call's current hand-off: who receives it, where it stands, how old, when it is due."""

    id = serializers.IntegerField(source="handoff.pk")
    team = serializers.ChoiceField(
        source="handoff.team", choices=HandoffTeam.choices, allow_blank=True
    )
    user = serializers.IntegerField(source="handoff.user_id", allow_null=True)
    user_name = serializers.SerializerMethodField()
    note = serializers.CharField(source="handoff.note", allow_blank=True)
    handed_off_by = serializers.IntegerField(source="handoff.handed_off_by_id")
    handed_off_at = SaneDateTimeField(source="handoff.created_at")
    status = serializers.ChoiceField(choices=HandoffStatus.choices)
    age_minutes = serializers.SerializerMethodField(
        help_text="Minutes since the hand-off (until done, for a finished one)."
    )
    acknowledge_due_at = SaneDateTimeField(source="handoff.acknowledge_due_at")
    done_due_at = SaneDateTimeField(source="handoff.done_due_at")
    overdue = serializers.BooleanField(
        help_text="Not acknowledged by its acknowledge target, or not done by its done target."
    )
    events = HandoffEventSerializer(many=True)

    def get_user_name(self, view: HandoffView) -> str:
        return _person(view.handoff.user)

    def get_age_minutes(self, view: HandoffView) -> int:
        return int(view.age.total_seconds() // 60)


class CallSerializer(serializers.Serializer):
    """A call as logged (``original``), as it stands now (``current``), and how it got there."""

    id = serializers.IntegerField(source="call.pk")
    site = serializers.IntegerField(source="call.site_id")
    site_name = serializers.CharField(source="call.site.name")
    contract = serializers.IntegerField(source="call.contract_id", allow_null=True)
    started_at = SaneDateTimeField(source="call.started_at")
    created_at = SaneDateTimeField(source="call.created_at")
    operator = serializers.IntegerField(source="call.operator_id")
    operator_name = serializers.SerializerMethodField()
    handoff_user = serializers.IntegerField(source="call.handoff_user_id", allow_null=True)
    handoff_user_name = serializers.SerializerMethodField()
    original = serializers.SerializerMethodField()
    current = CurrentCallSerializer()
    amendments = AmendmentSerializer(many=True)
    booking = serializers.SerializerMethodField()
    handoff = serializers.SerializerMethodField(
        help_text="The current hand-off and its status; null when the call is not handed off."
    )

    def get_operator_name(self, view: CallView) -> str:
        return _person(view.call.operator)

    def get_handoff_user_name(self, view: CallView) -> str:
        return _person(view.call.handoff_user)

    def get_original(self, view: CallView) -> dict[str, Any]:
        return dict(
            CurrentCallSerializer({f: getattr(view.call, f) for f in AMENDABLE_FIELDS}).data
        )

    def get_booking(self, view: CallView) -> dict[str, Any] | None:
        booking = view.booking
        return None if booking is None else dict(BookingSerializer(booking).data)

    @extend_schema_field(HandoffStateSerializer(allow_null=True))
    def get_handoff(self, view: CallView) -> dict[str, Any] | None:
        """From the ``handoffs`` the view read for the whole page, else read for this call."""
        known = self.context.get("handoffs")
        if known is None:
            known = current_handoff_views([view.call.pk])
        state = known.get(view.call.pk)
        return None if state is None else dict(HandoffStateSerializer(state).data)


class CallPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = CallSerializer(many=True)


class SiteCardSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="site.pk")
    name = serializers.CharField(source="site.name")
    name_kana = serializers.CharField(source="site.name_kana")
    address = serializers.CharField(source="site.address")
    postal_code = serializers.CharField(source="site.postal_code")
    region = serializers.CharField(source="site.region.name", allow_null=True, default=None)
    building_type = serializers.CharField(source="site.building_type")
    floors = serializers.IntegerField(source="site.floors", allow_null=True)
    notes = serializers.CharField(source="site.notes")
    construction_records = ConstructionNoteSerializer(many=True)
    contracts = ContractBriefSerializer(many=True)
    surveys = SurveyFindingsSerializer(many=True)
    permissions = PermissionBriefSerializer(many=True)
    jobs = JobHistorySerializer(many=True)
    upcoming_visits = UpcomingVisitSerializer(many=True)
    calls = CallSerializer(many=True)


class CallInput(serializers.Serializer):
    site = serializers.IntegerField(min_value=1)
    contract = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    started_at = SaneDateTimeField(required=False)
    caller_name = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default=""
    )
    caller_phone = serializers.CharField(
        max_length=32, required=False, allow_blank=True, default=""
    )
    category = serializers.ChoiceField(choices=CallCategory.choices)
    fault_isolation = serializers.ChoiceField(
        choices=FaultIsolation.choices, default=FaultIsolation.UNKNOWN
    )
    description = serializers.CharField(max_length=5000)
    handoff_team = serializers.ChoiceField(
        choices=HandoffTeam.choices, required=False, allow_blank=True, default=""
    )
    handoff_user = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    handoff_note = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    follow_up_needed = serializers.BooleanField(default=False)
    follow_up_due = SaneDateField(required=False, allow_null=True)
    follow_up_note = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )

    def validate_started_at(self, value: Any) -> Any:
        if value > timezone.now() + dt.timedelta(minutes=5):
            raise serializers.ValidationError(_("a call cannot start in the future"))
        return value

    def validate_handoff_user(self, value: int | None) -> User | None:
        if value is None:
            return None
        user = User.objects.filter(pk=value, is_active=True).exclude(role=Role.PARTNER).first()
        if user is None:
            raise serializers.ValidationError(_("no such active colleague"))
        return user


class AmendmentInput(serializers.Serializer):
    text = serializers.CharField(max_length=5000)
    corrections = serializers.DictField(required=False, default=dict)


class MaintenanceInput(serializers.Serializer):
    """Book a visit; when open jobs exist (409 ``open_job_exists``), say which way to go."""

    priority = serializers.IntegerField(
        min_value=1, max_value=5, required=False, help_text="Required to create a job."
    )
    due_date = SaneDateField(required=False, help_text="Required to create a job.")
    earliest_date = SaneDateField(required=False, allow_null=True)
    due_date_is_hard = serializers.BooleanField(default=False)
    duration_minutes = serializers.IntegerField(min_value=1, max_value=1440, default=60)
    attach_to_job = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="Link the call to this open job of its contract (or site) instead of "
        "creating one; one of the `open_jobs` of the 409.",
    )
    create_anyway = serializers.BooleanField(
        default=False, help_text="Create a new job although open jobs exist; needs `reason`."
    )
    reason = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text="Why a new job is needed beside the open ones (with `create_anyway` only).",
    )


class OpenJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    kind = serializers.CharField()
    status = serializers.CharField()
    scheduled_date = SaneDateField(
        allow_null=True, help_text="Next day of a published visit, if any."
    )


class BookingConflictBodySerializer(ErrorSerializer.Body):
    job_id = serializers.IntegerField(required=False)
    matched_by = serializers.ChoiceField(
        choices=["contract", "site"],
        required=False,
        help_text="Open jobs of the call's contract, or of its site when it has none.",
    )
    open_jobs = OpenJobSerializer(many=True, required=False)


class BookingConflictSerializer(serializers.Serializer):
    """The 409s of booking: ``already_booked`` (with ``job_id``) or ``open_job_exists``."""

    error = BookingConflictBodySerializer()


class RecurringIssueSerializer(serializers.Serializer):
    group = serializers.ChoiceField(choices=Grouping.ALL)
    key = serializers.CharField()
    label = serializers.CharField()
    site = serializers.IntegerField(source="site_id", allow_null=True)
    call_count = serializers.IntegerField()
    site_count = serializers.IntegerField()
    carrier_side_count = serializers.IntegerField()
    last_call_at = SaneDateTimeField()
    categories = serializers.DictField(child=serializers.IntegerField())


class HandoffActionInput(serializers.Serializer):
    note = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    handoff = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        help_text="The hand-off you saw (`handoff.id`): refused with 409 `handoff_superseded` "
        "when an amendment handed the call off anew meanwhile.",
    )


class HandoffConflictBodySerializer(ErrorSerializer.Body):
    current_status = serializers.ChoiceField(choices=HandoffStatus.choices, required=False)
    current_handoff = serializers.IntegerField(required=False)


class HandoffConflictSerializer(serializers.Serializer):
    """409 ``no_handoff``, ``handoff_superseded`` or ``illegal_transition``."""

    error = HandoffConflictBodySerializer()
