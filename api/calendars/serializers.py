"""Input and output of the calendar endpoints: closures, extra working days, the calendar."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import serializers

from api.crud.serializers import ClosesDaysSerializer, check_ordered, current
from api.dates import SaneDateField
from api.model_serializer import ModelSerializer
from dispatch.calendars import MAX_DAYS
from dispatch.models import CompanyClosure, CrewWorkingDay, PartnerClosure


class CompanyClosureSerializer(ClosesDaysSerializer):
    class Meta:
        model = CompanyClosure
        fields = ["id", "start_date", "end_date", "name", "live_visits"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_ordered(self, attrs, "start_date", "end_date", strict=False)
        return attrs


class PartnerClosureSerializer(ClosesDaysSerializer):
    company_name = serializers.CharField(source="company.name", read_only=True)

    class Meta:
        model = PartnerClosure
        fields = [
            "id",
            "company",
            "company_name",
            "start_date",
            "end_date",
            "reason",
            "live_visits",
        ]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        check_ordered(self, attrs, "start_date", "end_date", strict=False)
        return attrs


class CrewWorkingDaySerializer(ModelSerializer):
    crew_name = serializers.CharField(source="crew.name", read_only=True)

    class Meta:
        model = CrewWorkingDay
        fields = ["id", "crew", "crew_name", "date", "note"]
        # The one-per-crew-and-date rule is checked in validate(), to name the field.
        validators: list[Any] = []

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        crew, date = current(self, attrs, "crew"), current(self, attrs, "date")
        taken = CrewWorkingDay.objects.filter(crew=crew, date=date)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if crew is not None and date is not None and taken.exists():
            # A race past this check meets the unique constraint: 409 constraint_violated.
            raise serializers.ValidationError(
                {
                    "date": [
                        _("%(crew)s already has an extra working day on %(date)s.")
                        % {"crew": crew.name, "date": date.isoformat()}
                    ]
                }
            )
        return attrs


class CalendarQuerySerializer(serializers.Serializer):
    """``?start=&end=&crew=`` of the calendar endpoint."""

    start = SaneDateField()
    end = SaneDateField()
    crew = serializers.IntegerField(required=False, min_value=1)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        start, end = attrs["start"], attrs["end"]
        if end < start:
            raise serializers.ValidationError({"end": [_("start must be on or before end.")]})
        if (end - start).days >= MAX_DAYS:
            raise serializers.ValidationError(
                {
                    "end": [
                        ngettext(
                            "at most %(count)d day at once.",
                            "at most %(count)d days at once.",
                            MAX_DAYS,
                        )
                        % {"count": MAX_DAYS}
                    ]
                }
            )
        return attrs


class CrewClosedSerializer(serializers.Serializer):
    crew = serializers.IntegerField(source="crew_id")
    code = serializers.ChoiceField(
        source="reason.code", choices=["weekday", "holiday", "company", "partner", "absence"]
    )
    label = serializers.CharField(source="reason.label")


class CalendarDaySerializer(serializers.Serializer):
    date = SaneDateField()
    holiday = serializers.CharField(
        allow_null=True, help_text="The national holiday's name, in the request's language."
    )
    company_closures = serializers.ListField(child=serializers.CharField())
    closed_crews = CrewClosedSerializer(
        many=True, help_text="Only the crews that do not work this day, with the reason."
    )
