"""Partners' webhook endpoints and their delivery log (``webhooks`` app, issue 25).

Thin views over :mod:`webhooks.services`. A partner sees and configures only
its own company's endpoints and deliveries: another company's id is *not
found* (404), as everywhere in the partner API. The secret is in the answer
to create and rotate only.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Role, User
from api.model_serializer import ModelSerializer
from webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from webhooks.services import (
    deliveries_visible_to,
    delivery_replay,
    endpoint_create,
    endpoint_rotate_secret,
    endpoint_update,
    endpoints_visible_to,
)
from webhooks.signing import SIGNATURE_HEADER, TIMESTAMP_HEADER

from ..errors import ApiError
from ..permissions import READ, WRITE
from ..schema import error_responses
from .serializers import PartnerErrorSerializer

#: Partners configure their own company's endpoints; coordinators read every log (support).
PARTNERS = {Role.PARTNER.value: WRITE, Role.COORDINATOR.value: READ}

_ERROR_TEXTS = {
    400: "Invalid input; `fields` names each offending field (`url`: https only).",
    401: "Not authenticated.",
    403: "Only partner users change webhooks; coordinators read them.",
    404: "Not found, or not yours (another partner's objects are never revealed).",
    409: "`delivery_in_progress`: an attempt is under way; replay after it.",
}


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(PartnerErrorSerializer, _ERROR_TEXTS, codes)


class EndpointSerializer(ModelSerializer):
    url = serializers.CharField(
        max_length=500,
        help_text="https://...; plain http only to localhost in development.",
    )
    secret_hint = serializers.SerializerMethodField(help_text="The secret's first characters.")

    class Meta:
        model = WebhookEndpoint
        fields = [
            "id",
            "url",
            "description",
            "is_active",
            "secret_hint",
            "created_at",
            "secret_rotated_at",
        ]
        read_only_fields = ["id", "secret_hint", "created_at", "secret_rotated_at"]

    def get_secret_hint(self, endpoint: WebhookEndpoint) -> str:
        return endpoint.secret[:10] + "…"


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(
        read_only=True,
        help_text=f"Shown once. Verify {SIGNATURE_HEADER} = v1=HMAC-SHA256(secret, "
        f"{TIMESTAMP_HEADER} + '.' + body).",
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class AttemptSerializer(ModelSerializer):
    class Meta:
        model = WebhookAttempt
        fields = [
            "number",
            "started_at",
            "duration_ms",
            "status_code",
            "error",
            "succeeded",
            "next_retry_at",
        ]
        read_only_fields = fields


class DeliverySerializer(ModelSerializer):
    event_id = serializers.UUIDField(source="event.id", read_only=True)
    event_type = serializers.CharField(source="event.type", read_only=True)
    payload = serializers.JSONField(source="event.payload", read_only=True)
    attempt_log = AttemptSerializer(many=True, read_only=True)

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "status",
            "attempts",
            "next_attempt_at",
            "delivered_at",
            "last_status_code",
            "last_error",
            "created_at",
            "payload",
            "attempt_log",
        ]
        read_only_fields = fields


def _endpoint(request: Request, pk: int) -> WebhookEndpoint:
    endpoint = endpoints_visible_to(request.user).filter(pk=pk).first()
    if endpoint is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", _("no such webhook endpoint"))
    return endpoint


class EndpointListView(GenericAPIView):
    """The caller's company's endpoints; registering one answers its secret once."""

    roles = PARTNERS
    serializer_class = EndpointSerializer
    filter_backends: list[Any] = []

    def get_queryset(self) -> Any:
        return endpoints_visible_to(self.request.user)

    @extend_schema(
        operation_id="webhooks_list",
        summary="Your company's webhook endpoints",
        responses={200: EndpointSerializer(many=True), **_errors(401, 403)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(EndpointSerializer(page, many=True).data)

    @extend_schema(
        operation_id="webhooks_create",
        summary="Register an endpoint (the answer holds its secret, shown once)",
        request=EndpointSerializer,
        responses={201: EndpointWithSecretSerializer, **_errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        form = EndpointSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        user: User = request.user
        endpoint = endpoint_create(
            company=user.partner_company,  # type: ignore[arg-type]
            url=form.validated_data["url"],
            description=form.validated_data.get("description", ""),
            by=user,
        )
        return Response(EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)


class EndpointDetailView(GenericAPIView):
    roles = PARTNERS
    serializer_class = EndpointSerializer

    @extend_schema(
        operation_id="webhooks_retrieve",
        summary="One endpoint",
        responses={200: EndpointSerializer, **_errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(EndpointSerializer(_endpoint(request, pk)).data)

    @extend_schema(
        operation_id="webhooks_partial_update",
        summary="Change the URL, description or active flag",
        request=EndpointSerializer,
        responses={200: EndpointSerializer, **_errors(400, 401, 403, 404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        endpoint = _endpoint(request, pk)
        form = EndpointSerializer(endpoint, data=request.data, partial=True)
        form.is_valid(raise_exception=True)
        endpoint = endpoint_update(endpoint=endpoint, **form.validated_data)
        return Response(EndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhooks_destroy",
        summary="Delete an endpoint and its delivery log",
        responses={204: None, **_errors(401, 403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        _endpoint(request, pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointRotateView(GenericAPIView):
    roles = PARTNERS
    serializer_class = EndpointWithSecretSerializer

    @extend_schema(
        operation_id="webhooks_rotate_secret",
        summary="A new secret (shown once); later attempts are signed with it",
        request=None,
        responses={200: EndpointWithSecretSerializer, **_errors(401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        endpoint = endpoint_rotate_secret(endpoint=_endpoint(request, pk))
        return Response(EndpointWithSecretSerializer(endpoint).data)


class DeliveryListView(GenericAPIView):
    """The delivery log of one endpoint, newest first, each with its attempts."""

    roles = PARTNERS
    serializer_class = DeliverySerializer
    filter_backends: list[Any] = []

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        summary="An endpoint's delivery log (attempts, status codes, errors, next retry)",
        responses={200: DeliverySerializer(many=True), **_errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        endpoint = _endpoint(request, pk)
        deliveries = (
            deliveries_visible_to(request.user)
            .filter(endpoint=endpoint)
            .select_related("event")
            .prefetch_related("attempt_log")
        )
        page = self.paginate_queryset(deliveries)
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)


class DeliveryReplayView(GenericAPIView):
    roles = PARTNERS
    serializer_class = DeliverySerializer

    @extend_schema(
        operation_id="webhooks_deliveries_replay",
        summary="Send a logged delivery again (same event id; a fresh attempt budget)",
        request=None,
        responses={202: DeliverySerializer, **_errors(401, 403, 404, 409)},
    )
    def post(self, request: Request, pk: int) -> Response:
        delivery = deliveries_visible_to(request.user).filter(pk=pk).first()
        if delivery is None:
            raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", _("no such delivery"))
        delivery = delivery_replay(delivery=delivery)
        return Response(DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("webhooks/", EndpointListView.as_view(), name="webhooks"),
    path("webhooks/<int:pk>/", EndpointDetailView.as_view(), name="webhook-detail"),
    path("webhooks/<int:pk>/rotate-secret/", EndpointRotateView.as_view(), name="webhook-rotate"),
    path("webhooks/<int:pk>/deliveries/", DeliveryListView.as_view(), name="webhook-deliveries"),
    path(
        "webhook-deliveries/<int:pk>/replay/",
        DeliveryReplayView.as_view(),
        name="webhook-delivery-replay",
    ),
]
