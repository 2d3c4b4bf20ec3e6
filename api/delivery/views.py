"""The delivery pipeline in the API: order status, what blocks a job, survey estimates."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from api.dates import SaneDateField
from delivery.orders import Stage, open_orders
from dispatch.estimates import job_apply_estimate, survey_estimate
from dispatch.readiness import job_blockers
from dispatch.selectors import jobs_visible_to
from dispatch.states import JobKind, JobStatus
from sites.models import SiteSurvey

from ..errors import ApiError
from ..pagination import Pagination
from ..permissions import READ, WRITE


class OrderSerializer(serializers.Serializer):
    contract_id = serializers.CharField(source="contract.contract_id")
    contract = serializers.IntegerField(source="contract.pk")
    customer = serializers.CharField(source="contract.customer.name")
    team = serializers.IntegerField(source="contract.delivery_team", allow_null=True)
    site = serializers.SerializerMethodField()
    job = serializers.IntegerField(source="job.pk", allow_null=True, default=None)
    job_reference = serializers.CharField(source="job.reference", allow_null=True, default=None)
    job_status = serializers.CharField(source="job.status", allow_null=True, default=None)
    stage = serializers.ChoiceField(choices=Stage.ALL)
    blocker = serializers.CharField()
    planned_date = SaneDateField(allow_null=True)

    def get_site(self, order: Any) -> str | None:
        site = order.job.site if order.job else next(iter(order.contract.sites.all()), None)
        return None if site is None else f"{site.name} ({site.address})"


OrderPageSerializer = inline_serializer(
    "OrderPage",
    {
        "count": serializers.IntegerField(),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
        "results": OrderSerializer(many=True),
        "stages": serializers.DictField(
            child=serializers.IntegerField(), help_text="Open orders per stage (all pages)."
        ),
    },
)


class OrdersView(APIView):
    """Every open order with its stage and blocker, for the four delivery teams."""

    roles = {Role.COORDINATOR.value: READ, Role.SUPPORT.value: READ}

    @extend_schema(
        parameters=[
            OpenApiParameter("team", int, description="Delivery team 1-4"),
            OpenApiParameter("region", str, description="Region code"),
            OpenApiParameter("stage", str, enum=list(Stage.ALL)),
            OpenApiParameter("search", str, description="Contract id, customer or address"),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: OrderPageSerializer},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        team = params.get("team")
        if team is not None and (not team.isdigit() or not 1 <= int(team) <= 4):
            raise ApiError(400, "invalid", _("team must be 1 to 4"), fields={"team": [team]})
        stage = params.get("stage")
        if stage and stage not in Stage.ALL:
            raise ApiError(
                400,
                "invalid",
                _("stage must be one of %(stages)s") % {"stages": ", ".join(Stage.ALL)},
                fields={"stage": [stage]},
            )
        orders = open_orders(
            team=int(team) if team else None,
            region=params.get("region") or None,
            stage=stage or None,
            search=params.get("search") or None,
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(orders, request, view=self)
        counts = dict.fromkeys(Stage.ALL, 0)
        for order in orders:
            counts[order.stage] += 1
        response = paginator.get_paginated_response(OrderSerializer(page, many=True).data)
        response.data["stages"] = counts
        return response


JobBlockersSerializer = inline_serializer(
    "JobBlockers",
    {
        "job": serializers.IntegerField(),
        "status": serializers.ChoiceField(choices=JobStatus.choices),
        "plannable": serializers.BooleanField(),
        "blockers": inline_serializer(
            "JobBlocker",
            {"code": serializers.CharField(), "message": serializers.CharField()},
            many=True,
        ),
    },
)


class JobBlockersView(APIView):
    """Exactly what keeps a job from being planned (empty when it can be)."""

    roles = {Role.COORDINATOR.value: READ, Role.SUPPORT.value: READ}

    @extend_schema(responses={200: JobBlockersSerializer})
    def get(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(
            jobs_visible_to(request.user)
            .select_related("site", "survey")
            .prefetch_related("site__surveys", "site__permissions"),
            pk=pk,
        )
        blockers = job_blockers(job)
        return Response(
            {
                "job": job.pk,
                "status": job.status,
                "plannable": not blockers,
                "blockers": [{"code": b.code, "message": b.message} for b in blockers],
            }
        )


class EstimateInput(serializers.Serializer):
    survey = serializers.PrimaryKeyRelatedField(queryset=SiteSurvey.objects.all())
    override_minutes = serializers.IntegerField(min_value=1, max_value=1440, required=False)
    override_note = serializers.CharField(max_length=300, required=False, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("override_minutes") and not attrs.get("override_note", "").strip():
            raise serializers.ValidationError(
                {"override_note": _("say why the estimate is overridden")}
            )
        return attrs


class JobEstimateView(APIView):
    """Estimate a job from a survey (duration and skills with reasons), or override it."""

    roles = {Role.COORDINATOR.value: WRITE}

    @extend_schema(request=EstimateInput, responses={200: dict})
    def post(self, request: Request, pk: int) -> Response:
        job = get_object_or_404(jobs_visible_to(request.user), pk=pk)
        form = EstimateInput(data=request.data)
        form.is_valid(raise_exception=True)
        survey = form.validated_data["survey"]
        if survey.site_id != job.site_id:
            raise ApiError(
                400,
                "invalid",
                _("the survey is of another site"),
                fields={"survey": [str(survey.pk)]},
            )
        job = job_apply_estimate(
            job=job,
            survey=survey,
            override_minutes=form.validated_data.get("override_minutes"),
            override_note=form.validated_data.get("override_note", ""),
        )
        return Response(
            {
                "job": job.pk,
                "duration_minutes": job.duration_minutes,
                "required_skills": sorted(job.required_skills.values_list("code", flat=True)),
                "estimate": job.estimate,
                "override_note": job.duration_override_note,
            },
            status=status.HTTP_200_OK,
        )


class SurveyEstimateView(APIView):
    """What a survey implies for a job of a given kind, without changing anything."""

    roles = {Role.COORDINATOR.value: READ, Role.SUPPORT.value: READ}

    @extend_schema(
        parameters=[OpenApiParameter("kind", str, enum=[k.value for k in JobKind])],
        responses={200: dict},
    )
    def get(self, request: Request, pk: int) -> Response:
        survey = get_object_or_404(SiteSurvey.objects.select_related("site"), pk=pk)
        kind = request.query_params.get("kind", JobKind.NEW_LINE)
        if kind not in JobKind.values:
            raise ApiError(400, "invalid", _("unknown kind of job"), fields={"kind": [kind]})
        return Response(survey_estimate(survey=survey, kind=kind).as_dict())
