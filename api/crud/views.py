"""CRUD endpoints for the reference data coordinators keep: companies, crews, sites, jobs….

Each viewset states who may do what in ``roles`` and which objects a caller
sees in ``visible_to``. Partners get their querysets from ``dispatch.selectors``,
so another partner's object is simply not found (404, never 403) and filters
only ever narrow what the caller may already see.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Role, User
from api.concurrency import ETagMixin, etag_of
from api.errors import ApiError
from api.permissions import READ, WRITE
from dispatch.models import (
    Crew,
    CrewUnavailability,
    Job,
    PartnerCompany,
    Skill,
)
from dispatch.selectors import (
    companies_visible_to,
    crews_visible_to,
    jobs_visible_to,
    reports_visible_to,
    sites_visible_to,
    status_changes_visible_to,
)
from dispatch.services import job_check_off_schedule, job_transition
from sites.models import (
    ConstructionRecord,
    Contract,
    Customer,
    Permission,
    Region,
    Site,
    SiteSurvey,
)
from sites.services import site_create, site_update, survey_record_access

from . import filters
from . import serializers as s

COORDINATOR = {Role.COORDINATOR.value: WRITE}
COORDINATOR_AND_SUPPORT = {Role.COORDINATOR.value: WRITE, Role.SUPPORT.value: READ}
COORDINATOR_AND_PARTNER = {Role.COORDINATOR.value: WRITE, Role.PARTNER.value: READ}
EVERYONE_READS = {Role.COORDINATOR.value: WRITE, Role.SUPPORT.value: READ, Role.PARTNER.value: READ}

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "The ETag you read. If the resource changed since, the write answers 412 "
        "and changes nothing."
    ),
)


def in_use(message: str) -> ApiError:
    """The 409 for deleting something other records still need, as ``ProtectedError`` gives."""
    return ApiError(status.HTTP_409_CONFLICT, "in_use", message)


def with_concurrency_docs(viewset: type[Any]) -> type[Any]:
    """Document the optional If-Match header on the writes of ``viewset``."""
    return extend_schema_view(
        update=extend_schema(parameters=[IF_MATCH]),
        partial_update=extend_schema(parameters=[IF_MATCH]),
        destroy=extend_schema(parameters=[IF_MATCH]),
    )(viewset)


class CrudViewSet(ETagMixin, viewsets.ModelViewSet):
    """A model's CRUD with ETag/If-Match, a role table and a per-caller scope.

    ``queryset`` tells the schema generator the model and is what roles
    without a narrower scope see; ``visible_to`` builds what one caller may
    see (from ``dispatch.selectors`` where partners are concerned), with the
    joins and prefetches its serializer needs.
    """

    roles: ClassVar[dict[str, str]] = COORDINATOR
    queryset: QuerySet[Any]

    def visible_to(self, user: User) -> QuerySet[Any]:
        return self.queryset.all()

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            # Schema generation has no real user to scope by.
            return self.queryset.none()
        return self.visible_to(self.request.user)

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        # The row and its many-to-many links commit together or not at all.
        with transaction.atomic():
            serializer.save()


@with_concurrency_docs
class PartnerCompanyViewSet(CrudViewSet):
    """Partner construction companies. A partner sees only its own company."""

    roles = COORDINATOR_AND_PARTNER
    queryset = PartnerCompany.objects.all()
    serializer_class = s.PartnerCompanySerializer
    filterset_class = filters.PartnerCompanyFilter
    ordering_fields = ["id", "name", "is_group_company"]

    def visible_to(self, user: User) -> QuerySet[PartnerCompany]:
        return companies_visible_to(user).prefetch_related("regions")


@with_concurrency_docs
class SkillViewSet(CrudViewSet):
    """Skills that crews have and jobs require, referred to by ``code``."""

    roles = EVERYONE_READS
    queryset = Skill.objects.all()
    serializer_class = s.SkillSerializer
    filterset_class = filters.SkillFilter
    ordering_fields = ["id", "code", "name"]

    def perform_destroy(self, instance: Skill) -> None:
        # Many-to-many links do not protect: deleting a skill in use would
        # silently drop a job's requirement and let the planner send a crew
        # that cannot do the work.
        if instance.crews.exists() or instance.jobs.exists():
            raise in_use(_("crews or jobs still refer to this one; remove or reassign them first"))
        instance.delete()


@with_concurrency_docs
class RegionViewSet(CrudViewSet):
    """Planning areas."""

    roles = COORDINATOR_AND_SUPPORT
    queryset = Region.objects.all()
    serializer_class = s.RegionSerializer
    filterset_class = filters.RegionFilter
    ordering_fields = ["id", "code", "name"]

    def perform_destroy(self, instance: Region) -> None:
        # Sites and plans protect their region; the companies' region list
        # would just lose it silently.
        if instance.partner_companies.exists():
            raise in_use(
                _("partner companies still refer to this one; remove or reassign them first")
            )
        instance.delete()


@with_concurrency_docs
class CrewViewSet(CrudViewSet):
    """Partner crews with their skills. A partner sees its own company's crews only."""

    roles = COORDINATOR_AND_PARTNER
    queryset = Crew.objects.select_related("company").prefetch_related("skills")
    serializer_class = s.CrewSerializer
    filterset_class = filters.CrewFilter
    ordering_fields = ["id", "name", "company__name", "members", "is_active", "shift_start"]

    def visible_to(self, user: User) -> QuerySet[Crew]:
        return crews_visible_to(user).select_related("company").prefetch_related("skills")


@with_concurrency_docs
class CrewUnavailabilityViewSet(CrudViewSet):
    """Days a crew cannot work (holiday, training, vehicle in repair)."""

    roles = COORDINATOR
    queryset = CrewUnavailability.objects.all()
    serializer_class = s.CrewUnavailabilitySerializer
    filterset_class = filters.CrewUnavailabilityFilter
    ordering_fields = ["id", "crew", "start_date", "end_date"]


SITE_FOR_ROLE = PolymorphicProxySerializer(
    component_name="SiteForRole",
    serializers=[s.SiteSerializer, s.PartnerSiteSerializer],
    resource_type_field_name=None,
)


@extend_schema_view(
    list=extend_schema(
        description="Coordinators and support get `Site`; partners get `PartnerSite`.",
        responses=SITE_FOR_ROLE,
    ),
    retrieve=extend_schema(
        description="Coordinators and support get `Site`; partners get `PartnerSite`.",
        responses=SITE_FOR_ROLE,
    ),
)
@with_concurrency_docs
class SiteViewSet(CrudViewSet):
    """Buildings. Partners see only the sites of their published visits, in a restricted shape.

    Geocoding follows the data: a site created without coordinates is queued
    for the geocoder; a changed address (unless the coordinates were set by
    hand) sends it back to ``pending``; coordinates given here count as manual.
    """

    roles = EVERYONE_READS
    queryset = Site.objects.all()
    filterset_class = filters.SiteFilter
    ordering_fields = ["id", "name", "city", "postal_code", "geocode_status", "updated_at"]

    def _is_partner(self) -> bool:
        return getattr(self.request.user, "role", None) == Role.PARTNER

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return s.PartnerSiteSerializer if self._is_partner() else s.SiteSerializer

    def visible_to(self, user: User) -> QuerySet[Site]:
        sites = sites_visible_to(user)
        if user.role != Role.PARTNER:
            return sites
        newest_first = SiteSurvey.objects.order_by("-surveyed_on", "-id")
        return sites.prefetch_related(
            Prefetch("surveys", queryset=newest_first, to_attr="surveys_newest_first")
        )

    # The geocoding rule is sites.services.site_follow_location, shared with imports.
    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = site_create(fields=serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        # ETagMixin.update runs us inside a transaction, with the row locked.
        serializer.instance = site_update(
            site=serializer.instance, changes=serializer.validated_data
        )


@with_concurrency_docs
class CustomerViewSet(CrudViewSet):
    """Customers with their contacts; support looks them up during calls."""

    roles = COORDINATOR_AND_SUPPORT
    queryset = Customer.objects.all()
    serializer_class = s.CustomerSerializer
    filterset_class = filters.CustomerFilter
    ordering_fields = ["id", "name", "name_kana", "created_at"]


@with_concurrency_docs
class ContractViewSet(CrudViewSet):
    roles = COORDINATOR_AND_SUPPORT
    queryset = Contract.objects.select_related("customer").prefetch_related("sites")
    serializer_class = s.ContractSerializer
    filterset_class = filters.ContractFilter
    ordering_fields = ["id", "contract_id", "status", "signed_on"]


@with_concurrency_docs
class SiteSurveyViewSet(CrudViewSet):
    roles = COORDINATOR_AND_SUPPORT
    queryset = SiteSurvey.objects.all()
    serializer_class = s.SiteSurveySerializer
    filterset_class = filters.SiteSurveyFilter
    ordering_fields = ["id", "site", "surveyed_on", "complexity", "created_at"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        # The building's access follows its newest survey, in the same transaction.
        with transaction.atomic():
            survey_record_access(survey=serializer.save())

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        with transaction.atomic():
            survey_record_access(survey=serializer.save())


@with_concurrency_docs
class SitePermissionViewSet(CrudViewSet):
    """Consents of customer, management company, owner and tenants (``sites.Permission``)."""

    roles = COORDINATOR_AND_SUPPORT
    queryset = Permission.objects.all()
    serializer_class = s.SitePermissionSerializer
    filterset_class = filters.SitePermissionFilter
    ordering_fields = ["id", "site", "party", "status", "requested_on", "decided_on", "expires_on"]


@with_concurrency_docs
class ConstructionRecordViewSet(CrudViewSet):
    """As-built notes, written by delivery for support to read years later."""

    roles = COORDINATOR_AND_SUPPORT
    queryset = ConstructionRecord.objects.all()
    serializer_class = s.ConstructionRecordSerializer
    filterset_class = filters.ConstructionRecordFilter
    ordering_fields = ["id", "site", "recorded_at"]

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        user: User = self.request.user
        name = serializer.validated_data.get("recorded_by_name") or (
            user.get_full_name() or user.get_username()
        )
        serializer.save(recorded_by=user, recorded_by_name=name)


@extend_schema_view(
    update=extend_schema(
        parameters=[IF_MATCH], request=s.JobSerializer, responses=s.JobDetailSerializer
    ),
    partial_update=extend_schema(
        parameters=[IF_MATCH], request=s.JobSerializer, responses=s.JobDetailSerializer
    ),
    destroy=extend_schema(parameters=[IF_MATCH]),
    create=extend_schema(request=s.JobSerializer, responses={201: s.JobDetailSerializer}),
)
class JobViewSet(CrudViewSet):
    """Jobs with their history. Status moves only through ``transition``, via the state machine.

    Concurrent edits are caught with ``If-Match`` only, as on every other CRUD
    endpoint: a write (``transition`` included) that sends the ETag it read
    answers 412 ``precondition_failed`` if the job changed since, checked under
    the job's row lock. ``version`` is read-only (every change bumps it); a
    request body that sends it answers 400 rather than being ignored.
    """

    # One mechanism, not two: If-Match is what the other endpoints and their
    # clients use (the week board's body ``version`` is a plan's, not a job's).
    # An ignored body version would leave its client believing itself protected.

    roles = EVERYONE_READS
    queryset = Job.objects.prefetch_related("required_skills")
    filterset_class = filters.JobFilter
    ordering_fields = [
        "id",
        "reference",
        "status",
        "priority",
        "earliest_date",
        "due_date",
        "status_changed_at",
        "created_at",
        "updated_at",
    ]

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        # One representation for retrieve and for writes: the ETag of a read
        # must match the one If-Match is checked against.
        return s.JobSerializer if self.action == "list" else s.JobDetailSerializer

    def visible_to(self, user: User) -> QuerySet[Job]:
        jobs = jobs_visible_to(user).prefetch_related("required_skills")
        if self.action == "list":
            return jobs
        # A job moved from partner A to partner B keeps A's reports and
        # history; the selectors decide what of them B may read.
        return jobs.prefetch_related(
            Prefetch(
                "status_changes",
                queryset=status_changes_visible_to(user),
                to_attr="visible_status_changes",
            ),
            Prefetch("reports", queryset=reports_visible_to(user), to_attr="visible_reports"),
        )

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        job: Job = serializer.instance  # locked (and If-Match checked) by ETagMixin.update
        site = serializer.validated_data.get("site")
        if site is not None and site.pk != job.site_id:
            # A crew would drive to the new building at times planned for the old one.
            job_check_off_schedule(job, field="site")
        serializer.save(version=job.version + 1)

    @extend_schema(
        parameters=[IF_MATCH],
        request=s.JobTransitionSerializer,
        responses={200: s.JobDetailSerializer},
        description=(
            "Move the job to another status if the state machine allows it; an illegal "
            "move answers 409 illegal_transition with current_status. Coordinators only."
        ),
    )
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str | None = None) -> Response:
        job: Job = self.get_object()
        form = s.JobTransitionSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        job_transition(
            job=job,
            to_status=form.validated_data["status"],
            by=request.user,
            note=form.validated_data["note"],
            precondition=lambda locked: self._check_if_match(request, locked),
        )
        fresh = self.get_queryset().get(pk=job.pk)
        data = s.JobDetailSerializer(fresh, context=self.get_serializer_context()).data
        return Response(data, headers={"ETag": etag_of(data)})


__all__ = [
    "ConstructionRecordViewSet",
    "ContractViewSet",
    "CrewUnavailabilityViewSet",
    "CrewViewSet",
    "CustomerViewSet",
    "JobViewSet",
    "PartnerCompanyViewSet",
    "RegionViewSet",
    "SitePermissionViewSet",
    "SiteSurveyViewSet",
    "SiteViewSet",
    "SkillViewSet",
]
