"""Query filters of the CRUD endpoints.

Foreign keys are filtered by plain id (``IdFilter``), never by a model choice
that checks the id exists: the filters run on the caller's already scoped
queryset, so partner A asking for ``?company=<B's id>`` gets an empty list,
the same answer as for an id that does not exist. Nothing leaks.
"""

from __future__ import annotations

from contextlib import suppress

from django import forms
from django.db.models import Q, QuerySet
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import Role
from dispatch.models import Crew, CrewUnavailability, Job, PartnerCompany, Skill
from dispatch.states import JobKind, JobStatus
from sites.models import (
    ConstructionRecord,
    Contract,
    Customer,
    GeocodeStatus,
    Permission,
    Region,
    Site,
    SiteSurvey,
)
from sites.normalize import normalize_postal_code, phone_lookup_values


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """An object id: an integer, matched without checking that the object exists."""

    field_class = forms.IntegerField


class RegionFilter(filters.FilterSet):
    code = filters.CharFilter()
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Region
        fields = ["code", "name"]


class SkillFilter(filters.FilterSet):
    code = filters.CharFilter()
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Skill
        fields = ["code", "name"]


class PartnerCompanyFilter(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    region = IdFilter(field_name="regions", distinct=True)
    is_group_company = filters.BooleanFilter()

    class Meta:
        model = PartnerCompany
        fields = ["name", "region", "is_group_company"]


class CrewFilter(filters.FilterSet):
    company = IdFilter(field_name="company_id")
    skill = filters.CharFilter(
        field_name="skills__code", distinct=True, help_text="Crews that have this skill code."
    )
    is_active = filters.BooleanFilter()
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Crew
        fields = ["company", "skill", "is_active", "name"]


class CrewUnavailabilityFilter(filters.FilterSet):
    crew = IdFilter(field_name="crew_id")
    company = IdFilter(field_name="crew__company_id")
    date_from = filters.DateFilter(
        field_name="end_date",
        lookup_expr="gte",
        help_text="Periods that last until this day or later.",
    )
    date_to = filters.DateFilter(
        field_name="start_date",
        lookup_expr="lte",
        help_text="Periods that start on this day or earlier.",
    )

    class Meta:
        model = CrewUnavailability
        fields = ["crew", "company", "date_from", "date_to"]


class SiteFilter(filters.FilterSet):
    region = IdFilter(field_name="region_id")
    city = filters.CharFilter()
    prefecture = filters.CharFilter()
    geocode_status = filters.ChoiceFilter(choices=GeocodeStatus.choices)
    search = filters.CharFilter(
        method="filter_search",
        help_text=(
            "Part of the building name, its kana or the address; for coordinators and "
            "support also a contract id, circuit id or customer phone number."
        ),
    )

    class Meta:
        model = Site
        fields = ["region", "city", "prefecture", "geocode_status", "search"]

    def filter_search(self, queryset: QuerySet[Site], name: str, value: str) -> QuerySet[Site]:
        term = value.strip()
        if not term:
            return queryset
        match = Q(name__icontains=term) | Q(name_kana__icontains=term)
        match |= Q(address__icontains=term) | Q(postal_code=term)
        with suppress(ValueError):  # 160-0004 and 〒１６０－０００４ find the stored 1600004
            match |= Q(postal_code=normalize_postal_code(term))
        # A support operator on a live call often has only the caller's phone
        # number or contract id. Partners never search by customer data: they
        # could probe which of their sites belongs to whom.
        if getattr(self.request.user, "role", None) != Role.PARTNER:
            match |= Q(contracts__contract_id__iexact=term) | Q(contracts__circuit_id__iexact=term)
            phones = phone_lookup_values(term)
            match |= Q(contracts__customer__phone__in=phones)
            match |= Q(contracts__customer__phone_alt__in=phones)
        return queryset.filter(match).distinct()


class CustomerFilter(filters.FilterSet):
    search = filters.CharFilter(
        method="filter_search", help_text="Part of the name, its kana, the contact or the email."
    )
    phone = filters.CharFilter(
        method="filter_phone",
        help_text="Either phone number, in any spelling (0352593118, 03-5259-3118, +81…).",
    )

    class Meta:
        model = Customer
        fields = ["search", "phone"]

    def filter_search(
        self, queryset: QuerySet[Customer], name: str, value: str
    ) -> QuerySet[Customer]:
        term = value.strip()
        if not term:
            return queryset
        return queryset.filter(
            Q(name__icontains=term)
            | Q(name_kana__icontains=term)
            | Q(contact_person__icontains=term)
            | Q(email__icontains=term)
        )

    def filter_phone(
        self, queryset: QuerySet[Customer], name: str, value: str
    ) -> QuerySet[Customer]:
        # Stored formatted (03-5259-3118), older rows as typed: try both spellings.
        phones = phone_lookup_values(value)
        return queryset.filter(Q(phone__in=phones) | Q(phone_alt__in=phones))


class ContractFilter(filters.FilterSet):
    customer = IdFilter(field_name="customer_id")
    site = IdFilter(field_name="sites", distinct=True)
    status = filters.ChoiceFilter(choices=Contract._meta.get_field("status").choices)
    contract_id = filters.CharFilter(lookup_expr="iexact")
    circuit_id = filters.CharFilter(lookup_expr="iexact")
    signed_on = filters.DateFromToRangeFilter()

    class Meta:
        model = Contract
        fields = ["customer", "site", "status", "contract_id", "circuit_id", "signed_on"]


class SiteSurveyFilter(filters.FilterSet):
    site = IdFilter(field_name="site_id")
    contract = IdFilter(field_name="contract_id")
    complexity = filters.ChoiceFilter(choices=SiteSurvey._meta.get_field("complexity").choices)
    conduit_status = filters.ChoiceFilter(
        choices=SiteSurvey._meta.get_field("conduit_status").choices
    )
    surveyed_on = filters.DateFromToRangeFilter()

    class Meta:
        model = SiteSurvey
        fields = ["site", "contract", "complexity", "conduit_status", "surveyed_on"]


class SitePermissionFilter(filters.FilterSet):
    site = IdFilter(field_name="site_id")
    contract = IdFilter(field_name="contract_id")
    party = filters.ChoiceFilter(choices=Permission._meta.get_field("party").choices)
    status = filters.ChoiceFilter(choices=Permission._meta.get_field("status").choices)
    expires_on = filters.DateFromToRangeFilter()

    class Meta:
        model = Permission
        fields = ["site", "contract", "party", "status", "expires_on"]


class ConstructionRecordFilter(filters.FilterSet):
    site = IdFilter(field_name="site_id")
    job = IdFilter(field_name="job_id")
    recorded_at = filters.IsoDateTimeFromToRangeFilter()

    class Meta:
        model = ConstructionRecord
        fields = ["site", "job", "recorded_at"]


class JobFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(
        choices=JobStatus.choices, help_text="Repeat to match any of several statuses."
    )
    kind = filters.ChoiceFilter(choices=JobKind.choices)
    priority = filters.NumberFilter(field_name="priority")
    priority_min = filters.NumberFilter(field_name="priority", lookup_expr="gte")
    site = IdFilter(field_name="site_id")
    contract = IdFilter(field_name="contract_id")
    region = IdFilter(field_name="site__region_id", help_text="The region of the job's site.")
    due_date = filters.DateFromToRangeFilter()
    skill = filters.CharFilter(
        field_name="required_skills__code",
        distinct=True,
        help_text="Jobs that require this skill code.",
    )
    reference = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Job
        fields = [
            "status",
            "kind",
            "priority",
            "priority_min",
            "site",
            "contract",
            "region",
            "due_date",
            "skill",
            "reference",
        ]
