"""Sign-in for the web UI (session + CSRF) and API tokens for partners' machine clients."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.middleware.csrf import get_token
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.models import ApiToken
from accounts.tokens import token_create, token_revoke

from .errors import ApiError
from .permissions import WRITE

ALL_ROLES = {"coordinator": WRITE, "partner": WRITE, "support": WRITE}


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField()
    partner_company = serializers.IntegerField(source="partner_company_id", allow_null=True)


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


class LoginView(APIView):
    """Start a browser session. Throttled per client, and locked per username and address
    after repeated failures (429 ``locked_out``): guessing passwords is slow on purpose."""

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(request=LoginSerializer, responses={200: MeSerializer})
    def post(self, request: Request) -> Response:
        form = LoginSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # The Django request, so django-axes can flag a lockout on it (answered by its middleware).
        user = authenticate(request._request, **form.validated_data)
        if user is None:
            raise ApiError(401, "bad_credentials", "wrong username or password")
        login(request._request, user)
        get_token(request._request)  # rotate the CSRF cookie with the session
        return Response(MeSerializer(user).data)


class LogoutView(APIView):
    roles = ALL_ROLES

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    roles = ALL_ROLES

    @extend_schema(responses={200: MeSerializer})
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request.user).data)


class TokenSerializer(serializers.ModelSerializer):
    class Meta:
        model = ApiToken
        fields = ["id", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class TokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class TokenListView(APIView):
    """Your own API tokens. The secret appears once, in the answer to the POST."""

    roles = ALL_ROLES
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "tokens"

    @extend_schema(responses={200: TokenSerializer(many=True)})
    def get(self, request: Request) -> Response:
        tokens = ApiToken.objects.filter(user=request.user)
        return Response(TokenSerializer(tokens, many=True).data)

    @extend_schema(
        request=TokenCreateSerializer,
        responses={
            201: inline_serializer(
                "CreatedToken",
                {"token": serializers.CharField(), "details": TokenSerializer()},
            )
        },
    )
    def post(self, request: Request) -> Response:
        form = TokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token, secret = token_create(user=request.user, name=form.validated_data["name"])
        return Response(
            {"token": secret, "details": TokenSerializer(token).data},
            status=status.HTTP_201_CREATED,
        )


class TokenDetailView(APIView):
    roles = ALL_ROLES
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "tokens"

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        token = ApiToken.objects.filter(user=request.user, pk=pk).first()
        if token is None:
            raise ApiError(404, "not_found", "no such token")
        token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
