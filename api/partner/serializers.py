"""Input and output shapes of the partner endpoints.

Output serializers read the plain objects of :mod:`api.partner.routes` and the
models; they exist as much for the OpenAPI schema (partners generate clients
from it) as for rendering. Times render in ``settings.TIME_ZONE`` with their
offset (``2026-11-23T09:00:00+09:00``): a crew reads local time.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.dates import SaneDateField, SaneDateTimeField
from api.model_serializer import ModelSerializer
from dispatch.models import (
    LIGHT_LEVEL_MAX_DBM,
    LIGHT_LEVEL_MIN_DBM,
    CalendarFeed,
    CompletionFacts,
    IncompleteReason,
    Job,
    JobReport,
    ReportKind,
)
from dispatch.promises import slot_name
from dispatch.reports import normalise_serial
from dispatch.states import JobKind, JobStatus
from sites.access import END_OF_DAY
from sites.models import BuildingType, ConduitStatus

from ..crud.serializers import AccessRangeSerializer, TimeSlotField


class PartnerErrorSerializer(serializers.Serializer):
    """The one error shape of the API (see ``api.errors``), for the schema."""

    class Body(serializers.Serializer):
        status = serializers.IntegerField()
        code = serializers.CharField()
        message = serializers.CharField()
        fields = serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        )

    error = Body()


# --- routes -------------------------------------------------------------------------


class RouteQuerySerializer(serializers.Serializer):
    date = SaneDateField(input_formats=["%Y-%m-%d"], help_text="Day, YYYY-MM-DD.")
    crew = serializers.IntegerField(
        min_value=1, required=False, help_text="Only this crew (coordinators: any crew)."
    )


class GeoJSONQuerySerializer(RouteQuerySerializer):
    crew = serializers.IntegerField(min_value=1, help_text="The crew whose route to draw.")


class HomeBaseSerializer(serializers.Serializer):
    address = serializers.CharField(source="home_base_address")
    latitude = serializers.FloatField(source="home_latitude")
    longitude = serializers.FloatField(source="home_longitude")


class RouteCrewSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    company = serializers.CharField(source="company.name")
    members = serializers.IntegerField()
    shift_start = serializers.TimeField()
    shift_end = serializers.TimeField()
    home_base = HomeBaseSerializer(source="*")


class StopJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    kind = serializers.ChoiceField(choices=JobKind.choices)
    status = serializers.ChoiceField(choices=JobStatus.choices)
    duration_minutes = serializers.IntegerField()
    members_needed = serializers.IntegerField()
    priority = serializers.IntegerField()
    work_instructions = serializers.CharField()
    time_slot = serializers.SerializerMethodField(
        help_text="The customer's slot for the crew's arrival, as in the jobs API: "
        "am = 09:00-12:00, pm = 13:00-17:00, custom = window_start/window_end, null = none."
    )
    window_start = serializers.TimeField(
        allow_null=True, help_text="Arrive at the earliest (the customer's slot), local time."
    )
    window_end = serializers.TimeField(
        allow_null=True, help_text="Arrive at the latest (the customer's slot), local time."
    )
    promise_is_hard = serializers.BooleanField(
        help_text="True: the date and the slot were promised to the customer; arriving "
        "outside them breaks a promise. False: a wish."
    )

    @extend_schema_field(TimeSlotField(read_only=True))
    def get_time_slot(self, job: Job) -> str | None:
        return slot_name(job.window_start, job.window_end)


class StopSiteSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()
    postal_code = serializers.CharField()
    building_type = serializers.ChoiceField(choices=BuildingType.choices)
    floors = serializers.IntegerField(allow_null=True)
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)


def hhmm(value: dt.time) -> str:
    """``HH:MM``; the end of the day (``sites.access.END_OF_DAY``) says ``24:00``, as JSON does."""
    return "24:00" if value == END_OF_DAY else f"{value:%H:%M}"


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "array",
            "items": {"type": "string", "pattern": r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"},
            "minItems": 2,
            "maxItems": 2,
        },
        "example": [["09:00", "12:00"], ["13:00", "17:00"]],
    }
)
class TodayRangesField(serializers.Field):
    """The ranges of the visit's day as ``[["09:00", "17:00"], …]``."""

    def to_representation(self, value: tuple[tuple[dt.time, dt.time], ...]) -> list[list[str]]:
        return [[hhmm(opens), hhmm(closes)] for opens, closes in value]


class AccessSerializer(serializers.Serializer):
    """How the crew gets into the building: its access hours (as planned with) and notes.

    Until issue 20 this was one ``start``/``end`` pair (the job's window or the
    survey's): buildings keep different hours on weekdays, weekends and
    holidays, and the job's window is now the customer's time slot
    (``job.time_slot``), a different thing.
    """

    hours = AccessRangeSerializer(
        source="hours.to_json",
        many=True,
        help_text="The building's weekly access hours; empty = no restriction.",
    )
    today = TodayRangesField(
        help_text="When the crew may be on site on the visit's date (weekday or national "
        'holiday): [["09:00", "17:00"], …]; [] = closed that day; '
        '[["00:00", "24:00"]] = no restriction.'
    )
    description = serializers.CharField(
        help_text="The hours for people, in the request's language (Accept-Language), e.g. "
        "「平日 9:00〜17:00（土日祝休）」."
    )
    notes = serializers.CharField(
        help_text="The building's access notes: key, escort, elevator booking…"
    )


class ParkingSerializer(serializers.Serializer):
    arrangement = serializers.CharField(
        source="parking_arrangement",
        help_text="Arranged for this job, else what the latest survey noted.",
    )
    # A plain string, not an enum: the choices are sites.models.Parking, already
    # published in the schema under the survey's own field name.
    kind = serializers.CharField(
        source="parking_kind", allow_null=True, help_text="none, street, tenant_lot, building_lot"
    )


class SurveyNotesSerializer(serializers.Serializer):
    surveyed_on = SaneDateField()
    structure = serializers.CharField()
    conduit_status = serializers.ChoiceField(choices=ConduitStatus.choices)
    riser_route = serializers.CharField()
    distance_to_base_station_m = serializers.IntegerField()
    complexity = serializers.CharField()
    findings = serializers.CharField()


class AsBuiltNotesSerializer(serializers.Serializer):
    media_converter_location = serializers.CharField()
    port = serializers.CharField()
    riser = serializers.CharField()
    cable_route = serializers.CharField()
    notes = serializers.CharField()
    recorded_at = SaneDateTimeField()


class SiteNotesSerializer(serializers.Serializer):
    survey = SurveyNotesSerializer(allow_null=True, help_text="The site's latest survey.")
    as_built = AsBuiltNotesSerializer(
        allow_null=True,
        help_text="Latest construction record; only for plan changes and maintenance.",
    )


class CustomerContactSerializer(serializers.Serializer):
    contract_id = serializers.CharField()
    name = serializers.CharField()
    contact_person = serializers.CharField()
    phone = serializers.CharField(help_text="Call on arrival.")
    phone_alt = serializers.CharField()


class StopSerializer(serializers.Serializer):
    sequence = serializers.IntegerField(source="visit.sequence")
    visit_id = serializers.IntegerField(source="visit.pk")
    plan_id = serializers.IntegerField(source="visit.plan_id")
    on_schedule = serializers.BooleanField(
        source="visit.is_live",
        help_text="False once the crew reported the visit not finished: it left the schedule "
        "and went back to the coordinators (kept here as the day's history).",
    )
    left_schedule_because = serializers.CharField(
        source="visit.release_reason",
        help_text="Empty while on the schedule; `not_finished` after a not-finished report.",
    )
    planned_arrival = SaneDateTimeField(
        help_text="Previous stop's end plus the drive, never after the start; "
        "for the first stop the planned start."
    )
    planned_start = SaneDateTimeField(source="visit.planned_start")
    planned_end = SaneDateTimeField(source="visit.planned_end")
    wait_minutes = serializers.IntegerField(help_text="Slack between arrival and start.")
    travel_minutes_from_previous = serializers.IntegerField(
        source="visit.travel_minutes_from_previous",
        help_text="From the previous stop, or from the home base for the first stop.",
    )
    travel_km_from_previous = serializers.FloatField()
    job = StopJobSerializer()
    site = StopSiteSerializer()
    map_url = serializers.URLField(allow_null=True)
    access = AccessSerializer()
    parking = ParkingSerializer(source="*")
    site_notes = SiteNotesSerializer(source="*")
    customer = CustomerContactSerializer(allow_null=True)


class RouteTotalsSerializer(serializers.Serializer):
    stops = serializers.IntegerField()
    travel_km = serializers.FloatField(help_text="Home to the last stop.")
    travel_minutes = serializers.IntegerField()
    return_home_km = serializers.FloatField(
        allow_null=True,
        help_text=(
            "With the planner's travel model: straight line x detour at its speed, or the"
            " road distance from the routing service (docs/TRAVEL.md)."
        ),
    )
    return_home_minutes = serializers.IntegerField(allow_null=True)
    total_km = serializers.FloatField()
    total_drive_minutes = serializers.IntegerField()
    work_minutes = serializers.IntegerField()
    leave_home_at = SaneDateTimeField(allow_null=True)
    first_start = SaneDateTimeField(allow_null=True)
    last_end = SaneDateTimeField(allow_null=True)
    back_home_at = SaneDateTimeField(allow_null=True)


class LunchSerializer(serializers.Serializer):
    """The crew's lunch break as the plan placed it between the stops."""

    start = SaneDateTimeField()
    end = SaneDateTimeField()


class RouteSerializer(serializers.Serializer):
    crew = RouteCrewSerializer()
    date = SaneDateField()
    home_map_url = serializers.URLField()
    stops = StopSerializer(many=True)
    lunch = LunchSerializer(
        allow_null=True,
        help_text="The lunch break the plan placed on this day; null when it placed none "
        "(no stops, or the crew takes no planned break).",
    )
    totals = RouteTotalsSerializer()


class RoutesSerializer(serializers.Serializer):
    date = SaneDateField()
    routes = RouteSerializer(many=True)


class GeoJSONGeometrySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Point", "LineString"])
    coordinates = serializers.JSONField(help_text="[longitude, latitude] (RFC 7946 order).")


class GeoJSONFeatureSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Feature"])
    geometry = GeoJSONGeometrySerializer()
    properties = serializers.DictField()


class GeoJSONFeatureCollectionSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["FeatureCollection"])
    features = GeoJSONFeatureSerializer(many=True)


# --- reports ------------------------------------------------------------------------


class CompletionFactsInputSerializer(serializers.Serializer):
    """What the crew records on 'done' for support; every field optional."""

    mc_serial = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="The media converter's serial; stored NFKC, upper case, trimmed.",
    )
    port = serializers.CharField(required=False, allow_blank=True, max_length=64)
    light_level_dbm = serializers.DecimalField(
        max_digits=3,
        decimal_places=1,
        min_value=LIGHT_LEVEL_MIN_DBM,
        max_value=LIGHT_LEVEL_MAX_DBM,
        required=False,
        allow_null=True,
        help_text=(
            f"Light level measured at the media converter, in dBm, one decimal "
            f"({LIGHT_LEVEL_MIN_DBM}.0 to +{LIGHT_LEVEL_MAX_DBM}.0)."
        ),
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=1000)

    def validate_mc_serial(self, value: str) -> str:
        value = normalise_serial(value)
        if len(value) > 64:  # NFKC may lengthen it (e.g. ㍿)
            raise serializers.ValidationError(_("at most 64 characters"))
        return value


class CompletionFactsSerializer(ModelSerializer):
    """Completion facts as proposed by the crew, and delivery's decision on them."""

    company_name = serializers.CharField(source="company.name", read_only=True)
    crew_name = serializers.CharField(source="crew.name", read_only=True)

    class Meta:
        model = CompletionFacts
        fields = [
            "id",
            "report",
            "job",
            "site",
            "crew",
            "crew_name",
            "company",
            "company_name",
            "mc_serial",
            "port",
            "light_level_dbm",
            "note",
            "status",
            "proposed_at",
            "decided_by",
            "decided_at",
            "decision_reason",
            "record",
        ]
        read_only_fields = fields


class ReportCreateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ReportKind.choices)
    reason_code = serializers.ChoiceField(
        choices=IncompleteReason.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when kind is 'incomplete', refused otherwise.",
    )
    reason_text = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=2000
    )
    occurred_at = SaneDateTimeField(
        required=False,
        help_text=(
            "When it happened on site; default: when received. Not before the visit's day "
            "(Asia/Tokyo), not in the future (a phone's clock may run 5 minutes ahead)."
        ),
    )
    facts = CompletionFactsInputSerializer(
        required=False,
        allow_null=True,
        help_text=(
            "Only with kind 'completed': what support will need (media converter serial, "
            "port, light level, a note), proposed for the as-built record until delivery "
            "confirms it at handover."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # Said here rather than left to the database constraint so the answer
        # names the field and nothing at all is attempted.
        if attrs["kind"] == ReportKind.INCOMPLETE and not attrs.get("reason_code"):
            raise serializers.ValidationError(
                {"reason_code": [_("required when the visit could not be finished")]}
            )
        if attrs["kind"] != ReportKind.INCOMPLETE and attrs.get("reason_code"):
            raise serializers.ValidationError(
                {"reason_code": [_("only an 'incomplete' report carries a reason")]}
            )
        if attrs["kind"] != ReportKind.COMPLETED and attrs.get("facts"):
            raise serializers.ValidationError(
                {"facts": [_("only a 'completed' report carries completion facts")]}
            )
        return attrs


class FieldReportSerializer(ModelSerializer):
    facts = serializers.SerializerMethodField(
        help_text="The completion facts recorded with a 'completed' report, and their status."
    )

    class Meta:
        model = JobReport
        fields = [
            "id",
            "job",
            "visit",
            "crew",
            "kind",
            "reason_code",
            "reason_text",
            "occurred_at",
            "reported_by",
            "idempotency_key",
            "created_at",
            "facts",
        ]
        read_only_fields = fields

    @extend_schema_field(CompletionFactsSerializer(allow_null=True))
    def get_facts(self, report: JobReport) -> dict[str, Any] | None:
        try:
            facts = report.completion_facts
        except CompletionFacts.DoesNotExist:
            return None
        return CompletionFactsSerializer(facts).data


# --- calendar feeds -----------------------------------------------------------------


class CalendarFeedSerializer(ModelSerializer):
    is_active = serializers.BooleanField(read_only=True)

    class Meta:
        model = CalendarFeed
        fields = ["id", "crew", "created_by", "created_at", "revoked_at", "is_active"]
        read_only_fields = fields


class CreatedCalendarFeedSerializer(serializers.Serializer):
    url = serializers.URLField(help_text="The secret subscription URL. Shown once, never again.")
    token = serializers.CharField(help_text="The secret part of the URL.")
    feed = CalendarFeedSerializer()
