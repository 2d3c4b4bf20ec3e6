"""Input and output of the CRUD endpoints.

Cross-field rules (a window that ends before it starts, a hard due date
without a date, half a coordinate) are checked here so a caller gets a 400
that names the field. The same rules are database constraints too: those
stay as the last line of defence, and answer 409 if a code path ever skips
these checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db.models import Model, QuerySet
from django.utils.translation import get_language, gettext_lazy, pgettext
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Role
from api.dates import SaneDateField
from api.model_serializer import ModelSerializer
from api.permissions import role_of
from dispatch.ledger import live_visits_between
from dispatch.models import (
    ALL_WEEKDAYS_MASK,
    Crew,
    CrewUnavailability,
    Job,
    JobReport,
    JobStatusChange,
    PartnerCompany,
    Skill,
    Visit,
)
from dispatch.promises import TIME_SLOTS, slot_name
from dispatch.selectors import reports_visible_to, status_changes_visible_to
from dispatch.states import JobStatus
from sites.access import AccessHours, AccessHoursError
from sites.access_errors import access_error_text
from sites.access_text import parse_access_text
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
from sites.normalize import normalize_postal_code, parse_phone
from sites.postal import lookup_postal_code

MINUTES_PER_DAY = 24 * 60
#: A lunch break longer than this is a data-entry slip (the database refuses it too).
MAX_LUNCH_MINUTES = 240
#: A year of dates is already more than any customer will list.
MAX_LISTED_DATES = 366
#: ``SiteSurvey.access_rules``' column: parsed notes appended must still fit.
ACCESS_RULES_MAX_LENGTH: int = SiteSurvey._meta.get_field("access_rules").max_length or 300


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
            {
                missing: [
                    _("give both %(first)s and %(second)s, or neither.")
                    % {"first": first, "second": second}
                ]
            }
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
        message = (
            _("%(first)s must be before %(second)s.")
            if strict
            else _("%(first)s must be on or before %(second)s.")
        )
        raise serializers.ValidationError({second: [message % {"first": first, "second": second}]})


# --- Reference data ------------------------------------------------------------


class RegionSerializer(ModelSerializer):
    class Meta:
        model = Region
        fields = ["id", "code", "name"]


class SkillSerializer(ModelSerializer):
    class Meta:
        model = Skill
        fields = ["id", "code", "name", "name_en"]


class PartnerCompanySerializer(ModelSerializer):
    class Meta:
        model = PartnerCompany
        fields = [
            "id",
            "name",
            "name_kana",
            "is_group_company",
            "phone",
            "email",
            "regions",
            "lunch_minutes",
            "lunch_earliest_start",
            "lunch_latest_start",
        ]
        extra_kwargs = {"lunch_minutes": {"min_value": 0, "max_value": MAX_LUNCH_MINUTES}}

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_ordered(self, attrs, "lunch_earliest_start", "lunch_latest_start", strict=False)
        return attrs


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
            "lunch_minutes",
            "lunch_earliest_start",
            "lunch_latest_start",
            "is_active",
        ]
        extra_kwargs = {
            "lunch_minutes": {"min_value": 0, "max_value": MAX_LUNCH_MINUTES},
            "members": {"min_value": 1},
            "home_latitude": {"min_value": -90, "max_value": 90},
            "home_longitude": {"min_value": -180, "max_value": 180},
            "working_weekdays": {"min_value": 1, "max_value": ALL_WEEKDAYS_MASK},
            "max_jobs_per_day": {"min_value": 1},
            "max_utilization_percent": {"min_value": 1, "max_value": 100},
        }

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_ordered(self, attrs, "shift_start", "shift_end", strict=True)
        check_ordered(self, attrs, "lunch_earliest_start", "lunch_latest_start", strict=False)
        return attrs


class ClosedDayVisitSerializer(serializers.Serializer):
    """A live visit on a day that is now closed: the plan must be revised to move it."""

    visit = serializers.IntegerField(source="pk")
    job = serializers.IntegerField(source="job_id")
    reference = serializers.CharField(source="job.reference")
    crew = serializers.IntegerField(source="crew_id")
    crew_name = serializers.CharField(source="crew.name")
    date = serializers.DateField()
    plan = serializers.IntegerField(source="plan_id")


class ClosesDaysSerializer(ModelSerializer):
    """A period that closes days for some crews; one such period shows the visits it strands.

    Subclasses list ``live_visits`` in ``Meta.fields``. Whose days close follows
    from the period's model: a crew's (``crew_id``), a partner's
    (``company_id``) or, with neither, every crew's (the company's closure).
    """

    live_visits = serializers.SerializerMethodField(
        help_text="The visits of the live schedule that still send a crew out on these "
        "days; closing days does not change the published routes: revise and publish the "
        "plans named to move these visits. Given to coordinators for one period (the answer "
        "to a create, an update or a read of one); null in lists and for other roles."
    )

    def live_visits_closed(self, period: Any) -> QuerySet[Visit]:
        return live_visits_between(
            period.start_date,
            period.end_date,
            crew_id=getattr(period, "crew_id", None),
            company_id=getattr(period, "company_id", None),
        )

    @extend_schema_field(ClosedDayVisitSerializer(many=True, allow_null=True))
    def get_live_visits(self, period: Any) -> list[dict[str, Any]] | None:
        request = self.context.get("request")
        if isinstance(self.parent, serializers.ListSerializer) or (
            request is None or role_of(request) != Role.COORDINATOR
        ):
            # A list stays a fixed number of queries, and the warning is for who plans:
            # a partner reading the company's closures must not see other partners' visits.
            return None
        return ClosedDayVisitSerializer(self.live_visits_closed(period), many=True).data


class CrewUnavailabilitySerializer(ClosesDaysSerializer):
    class Meta:
        model = CrewUnavailability
        fields = ["id", "crew", "start_date", "end_date", "reason", "live_visits"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_ordered(self, attrs, "start_date", "end_date", strict=False)
        return attrs


# --- Sites and what delivery learns about them ---------------------------------


# --- Access hours (sites.access) ----------------------------------------------


class AccessRangeSerializer(serializers.Serializer):
    """One range of access hours (``SiteSurvey``/``Site.access_hours``), canonical JSON."""

    days = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=7),
        help_text="0 = Monday … 6 = Sunday, 7 = national holidays.",
    )
    opens = serializers.CharField(help_text="HH:MM, local time.", min_length=5, max_length=5)
    closes = serializers.CharField(
        help_text='HH:MM, local time; "24:00" = until midnight.', min_length=5, max_length=5
    )


@extend_schema_field(AccessRangeSerializer(many=True))
class AccessHoursField(serializers.JSONField):
    """Access hours JSON: checked by ``AccessHours.from_json``, stored canonical.

    Its errors name the item and field (``[0].closes: …``), which is what a
    client needs; DRF's nested serializer errors would say less and a second
    set of rules could drift from the planner's.
    """

    def to_internal_value(self, data: Any) -> list[dict[str, Any]]:
        try:
            return AccessHours.from_json(super().to_internal_value(data)).to_json()
        except AccessHoursError as error:
            raise serializers.ValidationError(access_error_text(error)) from error


def describe_access(owner: SiteSurvey | Site) -> str:
    """Access hours for people, in the request's language (Accept-Language).

    Stored hours were checked on the way in; a row written around the API
    that does not read says so instead of failing the whole answer.
    """
    try:
        hours = AccessHours.from_json(owner.access_hours)
    except AccessHoursError as error:
        return _("unreadable access hours: %(error)s") % {"error": access_error_text(error)}
    return hours.describe(get_language() or "en")


def apply_access_text(
    serializer: serializers.Serializer, attrs: dict[str, Any], notes_field: str = "access_rules"
) -> None:
    """Turn a written ``access_text`` into ``access_hours``, its notes onto ``notes_field``.

    All or nothing: any part the parser could not read answers 400 naming
    it, because hours half-read would let the planner send a crew to a
    locked door. The parsed notes (key, escort…) are appended to the
    access notes unless they are there already.
    """
    if "access_text" not in attrs:
        return
    text = attrs.pop("access_text")
    if "access_hours" in attrs:
        raise serializers.ValidationError(
            {"access_text": [_("give access_hours or access_text, not both.")]}
        )
    parsed = parse_access_text(text)
    if parsed.unparsed:
        raise serializers.ValidationError(
            {
                "access_text": [
                    _(
                        "could not read: %(parts)s; give access_hours explicitly or put it "
                        "in %(field)s"
                    )
                    % {"parts": " / ".join(parsed.unparsed), "field": notes_field}
                ]
            }
        )
    attrs["access_hours"] = parsed.hours.to_json()
    notes = parsed.notes.strip()
    rules = current(serializer, attrs, notes_field) or ""
    if notes and notes not in rules:
        rules = f"{rules} / {notes}" if rules else notes
        if len(rules) > ACCESS_RULES_MAX_LENGTH:
            raise serializers.ValidationError(
                {
                    "access_text": [
                        _("its notes do not fit into %(field)s (%(max)s characters).")
                        % {"field": notes_field, "max": ACCESS_RULES_MAX_LENGTH}
                    ]
                }
            )
        attrs[notes_field] = rules


class NormalizedCharField(serializers.CharField):
    """Text in any usual spelling, stored in the one form ``normalize`` returns.

    ``normalize`` raises ``ValueError`` for text that is not one; the field then
    answers its ``invalid`` message. Blank stays blank.
    """

    normalize: Callable[[str], str]
    default_max_length = 64

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", self.default_max_length)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        text = super().to_internal_value(data)
        if not text:
            return ""
        try:
            return type(self).normalize(text)
        except ValueError:
            self.fail("invalid")
            raise  # unreachable: fail() raises


class PostalCodeField(NormalizedCharField):
    """A Japanese postal code in any usual spelling, stored as 7 digits.

    ``160-0004``, ``1600004``, ``１６０－０００４`` and ``〒160-0004`` are one
    code: the import has always accepted them, so the API does too
    (:func:`sites.normalize.normalize_postal_code`).
    """

    normalize = staticmethod(normalize_postal_code)
    default_max_length = 16
    default_error_messages = {
        "invalid": gettext_lazy("not a postal code; write 7 digits, e.g. 160-0004 or 1600004."),
    }


class JapanesePhoneField(NormalizedCharField):
    """A Japanese phone number in any usual spelling, stored as ``03-5259-3118``.

    The national format keeps the domestic digits the searches compare, and
    is what people read; see :func:`sites.normalize.parse_phone`.
    """

    normalize = staticmethod(parse_phone)
    default_max_length = 32
    default_error_messages = {
        "invalid": gettext_lazy(
            "not a valid Japanese phone number (e.g. 03-5259-3118 or 090-1234-5678)."
        ),
    }


def fill_area_from_postal_code(serializer: serializers.Serializer, attrs: dict[str, Any]) -> None:
    """Fill a blank prefecture and city from the postal code, when the code is known.

    Only when this write sets the code, and only blanks: what a coordinator
    typed wins over the data,
    which Japan Post revises. Without the optional data package nothing is
    filled (:mod:`sites.postal`).
    """
    postal_code = attrs.get("postal_code")
    if not postal_code:  # unchanged by this write, or cleared
        return
    area = lookup_postal_code(postal_code)
    if area is None:
        return
    for field, value in (("prefecture", area.prefecture), ("city", area.city)):
        if not current(serializer, attrs, field):
            attrs[field] = value


class SiteSerializer(ModelSerializer):
    """The whole site, for coordinators and support.

    The geocoding fields are the geocoder's to write: coordinates given here
    count as set by hand (``manual``), an address change sends the site back
    to ``pending`` (see the view).
    """

    postal_code = PostalCodeField(
        required=False,
        allow_blank=True,
        help_text="160-0004, 1600004, １６０－０００４ or 〒160-0004; stored and returned as "
        "7 digits. A blank prefecture and city are filled from it when the code is known.",
    )
    access_hours = AccessHoursField(
        required=False,
        help_text="The building's access hours, which the planner keeps to; a filed survey "
        "that records hours replaces them. Empty = any time.",
    )
    access_text = serializers.CharField(
        write_only=True,
        required=False,
        max_length=500,
        help_text="Access hours as written in Japanese, parsed into access_hours; notes in "
        "it are appended to access_notes. 400 when a part cannot be read.",
    )
    access_description = serializers.SerializerMethodField(
        help_text="The access hours for people, in the request's language (Accept-Language)."
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
            "access_hours",
            "access_text",
            "access_description",
            "access_notes",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["geocode_status", "geocode_error", "geocoded_at"]
        extra_kwargs = {
            "latitude": {"min_value": -90, "max_value": 90},
            "longitude": {"min_value": -180, "max_value": 180},
            "floors": {"min_value": 1},
        }

    def get_access_description(self, site: Site) -> str:
        return describe_access(site)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_pair_complete(self, attrs, "latitude", "longitude")
        apply_access_text(self, attrs, notes_field="access_notes")
        fill_area_from_postal_code(self, attrs)
        return attrs


class SiteAccessSerializer(ModelSerializer):
    """What a crew needs from the latest survey to get in and park."""

    access_hours = AccessHoursField(
        read_only=True, help_text="Weekly access hours; empty = no restriction."
    )
    access_description = serializers.SerializerMethodField(
        help_text="The access hours for people, in the request's language (Accept-Language)."
    )

    class Meta:
        model = SiteSurvey
        fields = [
            "surveyed_on",
            "access_hours",
            "access_description",
            "access_rules",
            "parking",
            "parking_arrangement",
            "riser_route",
        ]
        read_only_fields = fields

    def get_access_description(self, survey: SiteSurvey) -> str:
        return describe_access(survey)


class PartnerSiteSerializer(ModelSerializer):
    """A site as a partner crew sees it: where it is and how to get in, nothing else.

    No customer, contract or notes: partners are outside companies, and the
    building's other data is none of their business.
    """

    access_hours = AccessHoursField(
        read_only=True,
        help_text="The building's weekly access hours, as the planner keeps to them (the "
        "newest filed survey's, or as a coordinator corrected them); empty = no restriction.",
    )
    access_description = serializers.SerializerMethodField(
        help_text="The access hours for people, in the request's language (Accept-Language)."
    )
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
            "access_hours",
            "access_description",
            "access_notes",
            "latest_survey",
        ]
        read_only_fields = fields

    def get_access_description(self, site: Site) -> str:
        return describe_access(site)

    @extend_schema_field(SiteAccessSerializer(allow_null=True))
    def get_latest_survey(self, site: Site) -> dict[str, Any] | None:
        # The view prefetches surveys newest first into ``surveys_newest_first``.
        surveys = getattr(site, "surveys_newest_first", None)
        survey = (surveys[0] if surveys else None) if surveys is not None else site.surveys.first()
        return SiteAccessSerializer(survey).data if survey is not None else None


class CustomerSerializer(ModelSerializer):
    phone = JapanesePhoneField(required=False, allow_blank=True)
    phone_alt = JapanesePhoneField(required=False, allow_blank=True)

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
                _(
                    "the line opens through POST /api/v1/contracts/{id}/handover/; "
                    "here the status can only become cancelled"
                )
            )
        return value

    def validate_circuit_id(self, value: str | None) -> str | None:
        # "No circuit yet" is null, never "": two empty strings would collide
        # on the unique index.
        return value or None


class SiteSurveySerializer(ModelSerializer):
    """A survey; its access hours are data (``access_hours``) the planner keeps to.

    ``access_text`` is a convenience for people typing what the building
    manager said (「平日9時〜17時、土日祝休み」): it is parsed into
    ``access_hours`` and never stored as such.
    """

    access_hours = AccessHoursField(
        required=False,
        help_text='[{"days": [0..6, 7 = holidays], "opens": "HH:MM", "closes": "HH:MM"}]; '
        "empty = any time. The whole visit must fit inside one range.",
    )
    access_text = serializers.CharField(
        write_only=True,
        required=False,
        max_length=500,
        help_text="Access hours as written in Japanese (e.g. 「平日 9:00〜17:00 土日祝休」), "
        "parsed into access_hours; notes in it (鍵, 立会い…) are appended to access_rules. "
        "400 when a part cannot be read. Not together with access_hours.",
    )
    access_description = serializers.SerializerMethodField(
        help_text="The access hours for people, in the request's language (Accept-Language)."
    )

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
            "access_hours",
            "access_text",
            "access_description",
            "access_rules",
            "findings",
            "complexity",
            "created_at",
        ]

    def get_access_description(self, survey: SiteSurvey) -> str:
        return describe_access(survey)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        apply_access_text(self, attrs)
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
                {
                    "decided_on": [
                        _("a granted or refused permission needs the date of the decision.")
                    ]
                }
            )
        if current(self, attrs, "expires_on") is not None and decided_on is None:
            raise serializers.ValidationError(
                {"expires_on": [_("only a decided permission can expire.")]}
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
            "media_converter_serial",
            "port",
            "light_level_dbm",
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
            raise serializers.ValidationError({"job": [_("this job is at another site.")]})
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
                    _(
                        "jobs take no version in the request body: send the ETag you read in "
                        "the If-Match header (a stale one answers 412 precondition_failed)."
                    )
                ]
            }
        )


#: What ``dispatch.promises.slot_name`` calls a slot that is neither AM nor PM.
CUSTOM_SLOT = "custom"


class TimeSlotField(serializers.ChoiceField):
    """``time_slot``: read from ``window_start``/``window_end``; written as a shorthand for them.

    ``to_internal_value`` keeps the choice under ``time_slot`` (the field's
    source is the whole job), and :meth:`JobSerializer.validate` turns it
    into the window, so a slot and explicit times that disagree are refused
    in one place.
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=[*TIME_SLOTS, CUSTOM_SLOT], allow_null=True, source="*", **kwargs)

    def to_representation(self, job: Job) -> str | None:
        return slot_name(job.window_start, job.window_end)

    def to_internal_value(self, data: Any) -> dict[str, str | None]:
        return {"time_slot": super().to_internal_value(data)}

    def validate_empty_values(self, data: Any) -> tuple[bool, Any]:
        # ChoiceField answers None for null itself; keep it under ``time_slot``
        # so "no slot" (clear the window) differs from "not given".
        if data is None:
            return True, {"time_slot": None}
        return super().validate_empty_values(data)


def apply_time_slot(attrs: dict[str, Any]) -> None:
    """Turn a written ``time_slot`` into ``window_start``/``window_end`` in ``attrs``.

    Explicit window fields in the same request must say the same thing: a
    client sending ``"am"`` with 13:00-17:00 has a bug, and guessing which of
    the two it meant would promise the customer the wrong slot.
    """
    if "time_slot" not in attrs:
        return
    slot = attrs.pop("time_slot")
    given = (attrs.get("window_start"), attrs.get("window_end"))
    explicit = "window_start" in attrs or "window_end" in attrs
    if slot == CUSTOM_SLOT:
        if "window_start" not in attrs or "window_end" not in attrs:
            raise serializers.ValidationError(
                {"time_slot": [_("a custom slot needs window_start and window_end.")]}
            )
        if slot_name(*given) != CUSTOM_SLOT:
            raise serializers.ValidationError(
                {
                    "time_slot": [
                        _("the window given is %(slot)s, not custom.") % {"slot": slot_name(*given)}
                    ]
                }
            )
        return
    window = TIME_SLOTS[slot] if slot is not None else (None, None)
    if explicit and given != window:
        raise serializers.ValidationError(
            {
                "time_slot": [
                    _("disagrees with window_start/window_end: %(slot)s is %(hours)s.")
                    % {"slot": slot, "hours": _hours(window)}
                ]
            }
        )
    attrs["window_start"], attrs["window_end"] = window


def _hours(window: tuple[dt.time | None, dt.time | None]) -> str:
    start, end = window
    if start is None or end is None:
        return _("no window")
    return f"{start:%H:%M}-{end:%H:%M}"


def check_contract_covers_site(serializer: serializers.Serializer, attrs: dict[str, Any]) -> None:
    """A job's contract must be one of its site's: support and handover find jobs by contract.

    Checked on the merged result, so moving the job to another building under
    the same contract is refused as well (as ``support.services.call_log``
    refuses a call whose contract is not the site's).
    """
    contract, site = current(serializer, attrs, "contract"), current(serializer, attrs, "site")
    if contract is None or site is None or contract.sites.filter(pk=site.pk).exists():
        return
    raise serializers.ValidationError(
        {
            "contract": [
                _("contract %(contract)s is not at this site") % {"contract": contract.contract_id}
            ]
        }
    )


class JobSerializer(ModelSerializer):
    """A job as listed. Its status moves only through ``POST …/transition/``.

    ``window_start``/``window_end`` are the customer's promised slot for the
    crew's arrival (not the building's access hours: those are
    ``Site.access_hours``); ``promise_is_hard`` says whether the preferred dates
    and the slot are a promise the planner must keep or a wish.
    """

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
    time_slot = TimeSlotField(
        required=False,
        help_text=(
            "The customer's slot: am = 09:00-12:00, pm = 13:00-17:00, custom = other "
            "window_start/window_end, null = none. Writing am/pm sets the window (refused "
            "when window_start/window_end in the same request disagree); null clears it."
        ),
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
            "promise_is_hard",
            "unavailable_dates",
            "window_start",
            "window_end",
            "time_slot",
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
            "window_start": {
                "help_text": "Start of the customer's slot for the crew's arrival (local time)."
            },
            "window_end": {"help_text": "End of the customer's slot for the crew's arrival."},
        }

    def validate_preferred_dates(self, value: list[dt.date]) -> list[str]:
        return sorted({day.isoformat() for day in value})

    def validate_unavailable_dates(self, value: list[dt.date]) -> list[str]:
        return sorted({day.isoformat() for day in value})

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        refuse_job_version(self)
        apply_time_slot(attrs)
        check_pair_complete(self, attrs, "window_start", "window_end")
        check_ordered(self, attrs, "window_start", "window_end", strict=True)
        check_ordered(self, attrs, "earliest_date", "due_date", strict=False)
        check_contract_covers_site(self, attrs)
        if current(self, attrs, "due_date_is_hard") and current(self, attrs, "due_date") is None:
            raise serializers.ValidationError(
                {"due_date": [_("a hard due date (due_date_is_hard) needs a due_date.")]}
            )
        both = set(current(self, attrs, "preferred_dates") or ()) & set(
            current(self, attrs, "unavailable_dates") or ()
        )
        if both:
            raise serializers.ValidationError(
                {
                    "preferred_dates": [
                        _("also listed as unavailable: %(dates)s.")
                        % {"dates": pgettext("list separator", ", ").join(sorted(both))}
                    ]
                }
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
