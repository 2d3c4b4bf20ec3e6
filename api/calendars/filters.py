"""Query filters of the calendar endpoints; ids are plain ids, as in :mod:`api.crud.filters`."""

from __future__ import annotations

from django_filters import rest_framework as filters

from api.crud.filters import IdFilter
from dispatch.models import CompanyClosure, CrewWorkingDay, PartnerClosure


def _period_filters() -> tuple[filters.DateFilter, filters.DateFilter]:
    return (
        filters.DateFilter(
            field_name="end_date",
            lookup_expr="gte",
            help_text="Periods that last until this day or later.",
        ),
        filters.DateFilter(
            field_name="start_date",
            lookup_expr="lte",
            help_text="Periods that start on this day or earlier.",
        ),
    )


class CompanyClosureFilter(filters.FilterSet):
    date_from, date_to = _period_filters()

    class Meta:
        model = CompanyClosure
        fields = ["date_from", "date_to"]


class PartnerClosureFilter(filters.FilterSet):
    company = IdFilter(field_name="company_id")
    date_from, date_to = _period_filters()

    class Meta:
        model = PartnerClosure
        fields = ["company", "date_from", "date_to"]


class CrewWorkingDayFilter(filters.FilterSet):
    crew = IdFilter(field_name="crew_id")
    company = IdFilter(field_name="crew__company_id")
    date_from = filters.DateFilter(field_name="date", lookup_expr="gte")
    date_to = filters.DateFilter(field_name="date", lookup_expr="lte")

    class Meta:
        model = CrewWorkingDay
        fields = ["crew", "company", "date_from", "date_to"]
