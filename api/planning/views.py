"""Plans, optimization runs and visits. Thin: every write is a call to a dispatch service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from accounts.models import Role
from api.dates import check_date
from dispatch import batches, editing, plans, runs
from dispatch.models import OptimizationRun, Plan, PlanningBatch, Visit
from dispatch.selectors import (
    plan_changes_visible_to,
    plans_visible_to,
    visits_visible_to,
)

from ..errors import ApiError
from ..permissions import READ, WRITE, role_of
from . import serializers as s

COORDINATOR_ONLY = {Role.COORDINATOR.value: WRITE}


class PlanFilter(filters.FilterSet):
    region = filters.CharFilter(field_name="region__code")
    starts_after = filters.DateFilter(field_name="start_date", lookup_expr="gte")
    starts_before = filters.DateFilter(field_name="start_date", lookup_expr="lte")

    class Meta:
        model = Plan
        fields = ["status", "region", "starts_after", "starts_before"]


def _require_coordinator(request: Request) -> None:
    if role_of(request) != Role.COORDINATOR:
        raise ApiError(403, "permission_denied", _("only coordinators may do this"))


def _version(request: Request) -> int | None:
    form = s.VersionSerializer(data=request.data)
    form.is_valid(raise_exception=True)
    return form.validated_data.get("version")


@extend_schema_view(
    list=extend_schema(summary="Plans (partners: published plans with their crews)"),
    retrieve=extend_schema(summary="One plan with its key figures and unplanned jobs"),
    create=extend_schema(request=s.PlanCreateSerializer, responses={201: s.PlanSerializer}),
    partial_update=extend_schema(summary="Rename or change solver parameters (send version)"),
)
class PlanViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    roles = {Role.COORDINATOR.value: WRITE, Role.PARTNER.value: READ}
    filterset_class = PlanFilter
    ordering_fields = ["start_date", "created_at", "status"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Plan]:
        return plans_visible_to(self.request.user).select_related("region").order_by("-id")

    def get_serializer_class(self) -> type[BaseSerializer]:
        if role_of(self.request) == Role.PARTNER:
            return s.PartnerPlanSerializer
        return s.PlanSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = s.PlanCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        plan = plans.plan_create(by=request.user, **form.validated_data)
        return Response(s.PlanSerializer(plan).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        plan = self.get_object()
        form = s.PlanSerializer(plan, data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        extra = set(form.validated_data) - {"name", "params"}
        if extra:
            raise ApiError(
                400,
                "invalid",
                _("only name and params can be changed"),
                fields={name: [_("cannot be changed")] for name in sorted(extra)},
            )
        plan = plans.plan_update(
            plan=plan,
            name=form.validated_data.get("name"),
            params=form.validated_data.get("params"),
            expected_version=_version(request),
        )
        return Response(s.PlanSerializer(plan).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=s.OptimizeSerializer, responses={202: s.RunSerializer})
    @action(detail=True, methods=["post"])
    def optimize(self, request: Request, pk: str | None = None) -> Response:
        """Queue an optimization; poll the run's link for progress (202 Accepted)."""
        _require_coordinator(request)
        form = s.OptimizeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        run = runs.plan_request_optimization(
            plan=self.get_object(), by=request.user, **form.validated_data
        )
        data = s.RunSerializer(run).data
        return Response(
            data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["links"]["self"]}
        )

    @extend_schema(request=s.VersionSerializer, responses={200: s.PlanSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        """Make the proposal the plan crews see; records what changed per crew."""
        _require_coordinator(request)
        plan = plans.plan_publish(
            plan=self.get_object(), by=request.user, expected_version=_version(request)
        )
        return Response(s.PlanSerializer(plan).data)

    @extend_schema(responses={200: s.PublishPreviewSerializer(many=True)})
    @action(
        detail=True,
        pagination_class=None,
        filter_backends=[],
        methods=["get"],
        url_path="publish-preview",
    )
    def publish_preview(self, request: Request, pk: str | None = None) -> Response:
        """What publishing would change, per partner company (nothing is written)."""
        _require_coordinator(request)
        preview = plans.publish_preview(plan=self.get_object())
        return Response(s.PublishPreviewSerializer(preview, many=True).data)

    @extend_schema(request=None, responses={201: s.PlanSerializer})
    @action(detail=True, methods=["post"])
    def revise(self, request: Request, pk: str | None = None) -> Response:
        """Start changing a published plan: a proposed copy that replaces it when published."""
        _require_coordinator(request)
        revision = plans.plan_revise(plan=self.get_object(), by=request.user)
        return Response(s.PlanSerializer(revision).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.PlanSerializer})
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk: str | None = None) -> Response:
        _require_coordinator(request)
        plan = plans.plan_discard(plan=self.get_object())
        return Response(s.PlanSerializer(plan).data)

    @extend_schema(responses={200: s.RunSerializer(many=True)})
    @action(detail=True, pagination_class=None, filter_backends=[], methods=["get"])
    def runs(self, request: Request, pk: str | None = None) -> Response:
        _require_coordinator(request)
        runs = OptimizationRun.objects.filter(plan=self.get_object()).order_by("-id")[:50]
        return Response(s.RunSerializer(runs, many=True).data)

    @extend_schema(
        methods=["GET"],
        parameters=[OpenApiParameter("crew", int), OpenApiParameter("date", str)],
        responses={200: s.VisitSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"], request=s.VisitPlaceSerializer, responses={201: s.VisitSerializer}
    )
    @action(detail=True, pagination_class=None, filter_backends=[], methods=["get", "post"])
    def visits(self, request: Request, pk: str | None = None) -> Response:
        """The plan's visits (partners: their own crews'); POST places a job from the queue."""
        plan = self.get_object()
        if request.method == "POST":
            _require_coordinator(request)
            form = s.VisitPlaceSerializer(data=request.data)
            form.is_valid(raise_exception=True)
            data = form.validated_data
            visit = editing.visit_place(
                plan=plan,
                job=data["job"],
                crew=data["crew"],
                date=data["date"],
                position=data.get("position"),
                expected_version=data.get("version"),
                by=request.user,
                take_over=data["take_over"],
            )
            return Response(s.VisitSerializer(visit).data, status=status.HTTP_201_CREATED)
        visits = (
            visits_visible_to(request.user)
            .filter(plan=plan)
            .select_related("job__site", "crew")
            .order_by("crew_id", "date", "sequence")
        )
        crew = request.query_params.get("crew")
        if crew:
            visits = visits.filter(crew_id=_int_param("crew", crew))
        date = request.query_params.get("date")
        if date:
            visits = visits.filter(date=_date_param("date", date))
        return Response(s.VisitSerializer(visits, many=True).data)

    @extend_schema(
        parameters=[OpenApiParameter("version", int, description="A published version")],
        responses={200: s.PlanChangeSerializer(many=True)},
    )
    @action(detail=True, pagination_class=None, filter_backends=[], methods=["get"])
    def changes(self, request: Request, pk: str | None = None) -> Response:
        """What each publication changed, per crew (partners: their own crews only)."""
        plan = self.get_object()
        changes = (
            plan_changes_visible_to(request.user).filter(plan=plan).select_related("crew", "job")
        )
        version = request.query_params.get("version")
        if version:
            changes = changes.filter(published_version=_int_param("version", version))
        return Response(s.PlanChangeSerializer(changes, many=True).data)


def _int_param(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ApiError(
            400,
            "invalid",
            _("%(name)s must be a whole number") % {"name": name},
            fields={name: [raw]},
        ) from None


def _date_param(name: str, raw: str) -> dt.date:
    try:
        return check_date(dt.date.fromisoformat(raw))
    except ValueError:
        raise ApiError(
            400,
            "invalid",
            _("%(name)s must be a date YYYY-MM-DD") % {"name": name},
            fields={name: [raw]},
        ) from None
    except serializers.ValidationError as exc:
        raise ApiError(400, "invalid", f"{name} {exc.detail[0]}", fields={name: [raw]}) from None


class RunViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Optimization runs: poll progress, cancel."""

    roles = COORDINATOR_ONLY
    serializer_class = s.RunSerializer
    queryset = OptimizationRun.objects.all()

    @extend_schema(request=None, responses={202: s.RunSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        run = runs.run_cancel(run=self.get_object())
        return Response(s.RunSerializer(run).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={200: s.RunSerializer})
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Keep the run's proposal; closes its before/after comparison."""
        run = runs.run_accept(run=self.get_object(), by=request.user)
        return Response(s.RunSerializer(run).data)

    @extend_schema(request=None, responses={200: s.RunSerializer})
    @action(detail=True, methods=["post"])
    def discard(self, request: Request, pk: str | None = None) -> Response:
        """Put back the plan as it was before the run (409 once the plan changed since)."""
        run = runs.run_discard(run=self.get_object(), by=request.user)
        return Response(s.RunSerializer(run).data)


class VisitViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One visit; coordinators move, lock, unlock and unassign it (checked by the validator)."""

    roles = {Role.COORDINATOR.value: WRITE, Role.PARTNER.value: READ}
    serializer_class = s.VisitSerializer

    def get_queryset(self) -> QuerySet[Visit]:
        return visits_visible_to(self.request.user).select_related("job__site", "crew", "plan")

    @extend_schema(request=s.VisitMoveSerializer, responses={200: s.VisitSerializer})
    @action(detail=True, methods=["post"])
    def move(self, request: Request, pk: str | None = None) -> Response:
        """Move to another crew-day or position; 409 with the broken rule when not allowed."""
        _require_coordinator(request)
        form = s.VisitMoveSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        visit = editing.visit_move(
            visit=self.get_object(),
            crew=data["crew"],
            date=data["date"],
            position=data.get("position"),
            expected_version=data.get("version"),
            by=request.user,
        )
        return Response(s.VisitSerializer(visit).data)

    @extend_schema(request=s.VersionSerializer, responses={200: s.VisitSerializer})
    @action(detail=True, methods=["post"])
    def lock(self, request: Request, pk: str | None = None) -> Response:
        return self._set_locked(request, True)

    @extend_schema(request=s.VersionSerializer, responses={200: s.VisitSerializer})
    @action(detail=True, methods=["post"])
    def unlock(self, request: Request, pk: str | None = None) -> Response:
        return self._set_locked(request, False)

    def _set_locked(self, request: Request, locked: bool) -> Response:
        _require_coordinator(request)
        visit = editing.visit_set_locked(
            visit=self.get_object(), locked=locked, expected_version=_version(request)
        )
        return Response(s.VisitSerializer(visit).data)

    @extend_schema(request=s.VersionSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def unassign(self, request: Request, pk: str | None = None) -> Response:
        """Back to the queue; the rest of the crew's day is re-timed."""
        _require_coordinator(request)
        editing.visit_unassign(
            visit=self.get_object(), expected_version=_version(request), by=request.user
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(summary="Planning batches: weeks planned for all regions at once"),
    retrieve=extend_schema(summary="One batch: status, its region plans and summary"),
)
class PlanBatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A range planned for every region in one action, and published in one action."""

    roles = COORDINATOR_ONLY
    serializer_class = s.PlanBatchSerializer
    queryset = PlanningBatch.objects.order_by("-id")

    @extend_schema(
        summary="Plan a range for all (or some) regions: one plan and run per region",
        request=s.PlanBatchCreateSerializer,
        responses={202: s.PlanBatchSerializer},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Share the crew-days among the regions, create the plans and queue their runs (202)."""
        form = s.PlanBatchCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        params = {name: data[name] for name in ("time_limit_seconds", "seed") if name in data}
        batch = batches.planning_batch_start(
            start_date=data["start_date"],
            end_date=data["end_date"],
            regions=data.get("regions"),
            by=request.user,
            params=params,
        )
        body = s.PlanBatchSerializer(batch).data
        return Response(
            body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["links"]["self"]}
        )

    @extend_schema(request=None, responses={200: s.PlanBatchPublishSerializer})
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        """Publish every region plan, each on its own; per plan: published or why not (409s)."""
        batch = self.get_object()
        outcomes = batches.batch_publish(batch=batch, by=request.user)
        published = sum(row["outcome"] in ("published", "already_published") for row in outcomes)
        return Response(
            {
                "published": published,
                "not_published": len(outcomes) - published,
                "plans": outcomes,
                "batch": s.PlanBatchSerializer(batch).data,
            }
        )
