"""IP pools, a contract's address, billing and handover. Thin: each write is one service call.

Coordinators run all of it; support may read a contract's address and what
blocks its handover (both come up during customer calls); partners have no
business here (403).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from delivery import handover
from dispatch.models import CompletionFacts
from sites.models import Contract, IpAssignment, IpPool

from ..errors import ApiError
from ..permissions import READ, WRITE
from ..schema import error_responses
from . import serializers as s

COORDINATOR = {Role.COORDINATOR.value: WRITE}
COORDINATOR_AND_SUPPORT = {Role.COORDINATOR.value: WRITE, Role.SUPPORT.value: READ}

_ERROR_TEXTS = {
    400: "Invalid input; `fields` names each offending field.",
    401: "Not authenticated.",
    403: "Your role may not use this endpoint.",
    404: "No such contract (or completion facts).",
    409: "Conflicts with the contract's state (see `code`).",
}


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(s.ErrorSerializer, _ERROR_TEXTS, codes)


def _contract(contract_id: int) -> Contract:
    contract = Contract.objects.filter(pk=contract_id).first()
    if contract is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", _("no such contract"))
    return contract


def _handover_status(contract_id: int) -> dict[str, Any]:
    contract = (
        Contract.objects.select_related("ip_assignment")
        .prefetch_related("jobs")
        .filter(pk=contract_id)
        .first()
    )
    if contract is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", _("no such contract"))
    blockers = handover.handover_blockers(contract=contract)
    return {
        "contract": contract.pk,
        "contract_id": contract.contract_id,
        "status": contract.status,
        "handed_over_at": contract.handed_over_at,
        "ready": not blockers,
        "blockers": blockers,
        "pending_facts": list(handover.pending_completion_facts(contract=contract)),
    }


@extend_schema(tags=["handover"])
class IpPoolListView(generics.ListCreateAPIView):
    """Address blocks delivery hands out, with how many addresses each has given."""

    roles = COORDINATOR
    serializer_class = s.IpPoolSerializer
    ordering_fields = ["name", "network"]

    def get_queryset(self) -> QuerySet[IpPool]:
        return IpPool.objects.annotate(assigned_count=Count("assignments")).order_by("name")

    @extend_schema(
        summary="Add an IP pool (no overlap with existing pools)",
        request=s.IpPoolCreateSerializer,
        responses={201: s.IpPoolSerializer, **_errors(400, 401, 403)},
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        form = s.IpPoolCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        pool = handover.ip_pool_create(**form.validated_data)
        pool = self.get_queryset().get(pk=pool.pk)
        return Response(s.IpPoolSerializer(pool).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["handover"])
class ContractIpView(APIView):
    """The contract's IP address: read, allocate (idempotent), release."""

    roles = COORDINATOR_AND_SUPPORT

    @extend_schema(
        summary="The contract's IP address",
        responses={200: s.IpAssignmentSerializer, **_errors(401, 403, 404)},
    )
    def get(self, request: Request, contract_id: int) -> Response:
        contract = _contract(contract_id)
        assignment = (
            IpAssignment.objects.select_related("pool", "contract")
            .filter(contract=contract)
            .first()
        )
        if assignment is None:
            raise ApiError(
                status.HTTP_404_NOT_FOUND,
                "not_found",
                _("contract %(contract)s has no IP address") % {"contract": contract.contract_id},
            )
        return Response(s.IpAssignmentSerializer(assignment).data)

    @extend_schema(
        summary="Allocate the lowest free address (200 with the existing one if assigned)",
        request=s.IpAllocateSerializer,
        responses={
            201: OpenApiResponse(s.IpAssignmentSerializer, description="Allocated now."),
            200: OpenApiResponse(s.IpAssignmentSerializer, description="Already assigned."),
            **_errors(400, 401, 403, 404, 409),
        },
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = _contract(contract_id)
        form = s.IpAllocateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        assignment, created = handover.ip_get_or_allocate(
            contract=contract, pool=form.validated_data.get("pool")
        )
        return Response(
            s.IpAssignmentSerializer(assignment).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        summary="Release the address (cancellations; idempotent)",
        request=None,
        responses={204: None, **_errors(401, 403, 404, 409)},
    )
    def delete(self, request: Request, contract_id: int) -> Response:
        handover.ip_release(contract=_contract(contract_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["handover"])
class ContractBillingView(APIView):
    """Billing (direct debit) set-up, one of the two tasks that run beside construction."""

    roles = COORDINATOR

    @extend_schema(
        summary="Move billing set-up: pending → requested → ready",
        request=s.BillingSerializer,
        responses={200: s.BillingStateSerializer, **_errors(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = _contract(contract_id)
        form = s.BillingSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        contract = handover.contract_set_billing(contract=contract, **form.validated_data)
        return Response(s.BillingStateSerializer(contract).data)


@extend_schema(tags=["handover"])
class ContractHandoverView(APIView):
    """Line opening: what still blocks it, and doing it."""

    roles = COORDINATOR_AND_SUPPORT

    @extend_schema(
        summary="What still blocks the handover (empty when ready)",
        responses={200: s.HandoverStatusSerializer, **_errors(401, 403, 404)},
    )
    def get(self, request: Request, contract_id: int) -> Response:
        return Response(s.HandoverStatusSerializer(_handover_status(contract_id)).data)

    @extend_schema(
        summary="Hand the line over (409 handover_blocked lists every missing condition)",
        request=None,
        responses={
            200: s.HandoverStatusSerializer,
            **_errors(401, 403, 404),
            409: OpenApiResponse(
                s.HandoverBlockedSerializer,
                description="Refused: `blockers` lists every missing condition.",
            ),
        },
    )
    def post(self, request: Request, contract_id: int) -> Response:
        contract = _contract(contract_id)
        handover.contract_hand_over(contract=contract, by=request.user)
        return Response(s.HandoverStatusSerializer(_handover_status(contract_id)).data)


# --- completion facts: proposed by crews, decided by delivery at handover -----------------


def _facts_queryset() -> QuerySet[CompletionFacts]:
    return CompletionFacts.objects.select_related("company", "crew", "job").order_by(
        "-proposed_at", "-id"
    )


def _facts(pk: int) -> CompletionFacts:
    facts = _facts_queryset().filter(pk=pk).first()
    if facts is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", _("no such completion facts"))
    return facts


def _decision(facts: CompletionFacts) -> Response:
    body = {"facts": facts, "record": facts.record}
    return Response(s.CompletionFactsDecisionSerializer(body).data)


@extend_schema(tags=["handover"])
class CompletionFactsListView(generics.ListAPIView):
    """What crews recorded on 'done' for the as-built record; partners read theirs on the report."""

    roles = COORDINATOR_AND_SUPPORT
    serializer_class = s.CompletionFactsSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[CompletionFacts]:
        query = s.CompletionFactsQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        filters = {
            name if name != "contract" else "job__contract": value
            for name, value in query.validated_data.items()
        }
        return _facts_queryset().filter(**filters)

    @extend_schema(
        summary="Completion facts crews proposed, newest first",
        parameters=[s.CompletionFactsQuerySerializer],
        responses={200: s.CompletionFactsSerializer(many=True), **_errors(400, 401, 403)},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["handover"])
class CompletionFactsDetailView(APIView):
    roles = COORDINATOR_AND_SUPPORT

    @extend_schema(
        summary="One proposal of completion facts and its decision",
        responses={200: s.CompletionFactsSerializer, **_errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.CompletionFactsSerializer(_facts(pk)).data)


@extend_schema(tags=["handover"])
class CompletionFactsConfirmView(APIView):
    roles = COORDINATOR

    @extend_schema(
        summary="Confirm the facts into the as-built record (a new version of it)",
        description=(
            "Writes a new version of the site's as-built record: the current one with the "
            "crew's serial, port and light level over it and the crew's note appended. "
            "Earlier versions are kept as they were. 409 `facts_already_decided` when the "
            "facts were confirmed or rejected before; 409 `no_construction_record` when the "
            "site has no as-built record to amend yet."
        ),
        request=None,
        responses={200: s.CompletionFactsDecisionSerializer, **_errors(401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        facts = handover.completion_facts_confirm(facts=_facts(pk), by=request.user)
        return _decision(facts)


@extend_schema(tags=["handover"])
class CompletionFactsRejectView(APIView):
    roles = COORDINATOR

    @extend_schema(
        summary="Reject the facts with a reason (the as-built record is not touched)",
        description="409 `facts_already_decided` when the facts were decided before.",
        request=s.CompletionFactsRejectSerializer,
        responses={
            200: s.CompletionFactsDecisionSerializer,
            **_errors(400, 401, 403, 404, 409),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        form = s.CompletionFactsRejectSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        facts = _facts(pk)
        facts = handover.completion_facts_reject(
            facts=facts, by=request.user, reason=form.validated_data["reason"]
        )
        return _decision(facts)
