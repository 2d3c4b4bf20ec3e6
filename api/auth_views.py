"""Sign-in for the web UI (session + CSRF) and API tokens for partners' machine clients."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login, logout
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import CSRFCheck
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from accounts.models import ApiToken, Role
from accounts.tokens import (
    TokenRevoked,
    token_create,
    token_lifetime_days,
    token_revoke,
    token_rotate,
)
from api.model_serializer import ModelSerializer

from .errors import ApiError
from .partner.serializers import PartnerErrorSerializer as ErrorSerializer
from .permissions import WRITE

ALL_ROLES = {Role.COORDINATOR.value: WRITE, Role.PARTNER.value: WRITE, Role.SUPPORT.value: WRITE}


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField()
    partner_company = serializers.IntegerField(source="partner_company_id", allow_null=True)


class LoginSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


class CsrfTokenSerializer(serializers.Serializer):
    csrf_token = serializers.CharField(help_text="Send it back in the X-CSRFToken header.")


def _enforce_csrf(request: HttpRequest) -> None:
    """Django's CSRF check, as DRF's ``SessionAuthentication`` runs it, answered in our shape."""
    check = CSRFCheck(lambda _request: None)
    check.process_request(request)  # reads the csrftoken cookie
    reason = check.process_view(request, None, (), {})
    if reason:
        raise ApiError(
            status.HTTP_403_FORBIDDEN,
            "csrf_failed",
            _(
                "CSRF check failed: %(reason)s GET /api/v1/auth/login/ first; it sets the "
                "csrftoken cookie, whose value goes back in the X-CSRFToken header"
            )
            % {"reason": reason},
        )


class LoginView(APIView):
    """Start a browser session. Throttled per client, and locked per username and address
    after repeated failures (429 ``locked_out``): guessing passwords is slow on purpose.

    The sign-in checks CSRF (issue 18, finding 8: login CSRF). Without the check a
    foreign page could sign a victim's browser into the attacker's account, and
    what the victim then entered would land there. This view only ever starts a
    cookie session (machine clients get their tokens from ``auth/tokens/`` once
    signed in), so the check always applies: ``GET`` sets the ``csrftoken``
    cookie and returns its value, ``POST`` must send it in ``X-CSRFToken``
    (403 ``csrf_failed`` otherwise). ``authentication_classes`` stays empty, so
    an old session or token on the request plays no part in who signs in.
    """

    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    def get_throttles(self) -> list[BaseThrottle]:
        # Fetching the CSRF cookie guesses no password; it must not eat the login budget.
        return [] if self.request.method == "GET" else super().get_throttles()

    @extend_schema(
        summary="Get the CSRF cookie (and its value) to send with the sign-in",
        request=None,
        responses={200: CsrfTokenSerializer},
    )
    def get(self, request: Request) -> Response:
        return Response({"csrf_token": get_token(request._request)})

    @extend_schema(
        request=LoginSerializer,
        responses={
            200: MeSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Invalid input."),
            401: OpenApiResponse(ErrorSerializer, description="Wrong username or password."),
            403: OpenApiResponse(
                ErrorSerializer, description="`csrf_failed`: no or a wrong CSRF token."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        _enforce_csrf(request._request)
        form = LoginSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        # The Django request, so django-axes can flag a lockout on it (answered by its middleware).
        user = authenticate(request._request, **form.validated_data)
        if user is None:
            raise ApiError(401, "bad_credentials", _("wrong username or password"))
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


class TokenSerializer(ModelSerializer):
    expired = serializers.SerializerMethodField(help_text="Past `expires_at`: rotate it.")

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "created_at",
            "expires_at",
            "expired",
            "last_used_at",
            "revoked_at",
        ]
        read_only_fields = fields

    def get_expired(self, token: ApiToken) -> bool:
        return token.is_expired


class TokenLifetimeSerializer(serializers.Serializer):
    expires_in_days = serializers.IntegerField(
        required=False,
        help_text="Days until the token expires: 1 to API_TOKEN_LIFETIME_DAYS (the default).",
    )

    def validate_expires_in_days(self, days: int) -> int:
        # Checked here rather than with max_value: the lifetime is a setting, read per request.
        lifetime = token_lifetime_days()
        if not 1 <= days <= lifetime:
            raise serializers.ValidationError(
                ngettext(
                    "must be between 1 and %(max)d day",
                    "must be between 1 and %(max)d days",
                    lifetime,
                )
                % {"max": lifetime}
            )
        return days


class TokenCreateSerializer(TokenLifetimeSerializer):
    name = serializers.CharField(max_length=100)


class CreatedTokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="The secret; shown this once.")
    details = TokenSerializer()


def _own_token(request: Request, pk: int) -> ApiToken:
    """The caller's token ``pk``; anyone else's is a 404, so its existence is not revealed."""
    token = ApiToken.objects.filter(user=request.user, pk=pk).first()
    if token is None:
        raise ApiError(404, "not_found", _("no such token"))
    return token


def _created(token: ApiToken, secret: str) -> Response:
    return Response(
        CreatedTokenSerializer({"token": secret, "details": token}).data,
        status=status.HTTP_201_CREATED,
    )


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
            201: CreatedTokenSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="Invalid input; `fields` names the field."
            ),
        },
    )
    def post(self, request: Request) -> Response:
        form = TokenCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        token, secret = token_create(
            user=request.user,
            name=form.validated_data["name"],
            expires_in_days=form.validated_data.get("expires_in_days"),
        )
        return _created(token, secret)


class TokenDetailView(APIView):
    roles = ALL_ROLES
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "tokens"

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, pk: int) -> Response:
        token_revoke(token=_own_token(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TokenRotateView(APIView):
    """A new secret for one of your tokens, with a fresh expiry; the old secret stops at once.

    No grace period: the new secret comes back in this same answer, so a client
    swaps it in one step, and a rotation after a suspected leak must cut the
    old secret off immediately. Works on an expired token (the way out of
    expiry), not on a revoked one (409 ``token_revoked``).
    """

    roles = ALL_ROLES
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "tokens"

    @extend_schema(
        request=TokenLifetimeSerializer,
        responses={
            201: CreatedTokenSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="Invalid input; `fields` names the field."
            ),
            404: OpenApiResponse(ErrorSerializer, description="No such token of yours."),
            409: OpenApiResponse(
                ErrorSerializer, description="`token_revoked`: create a new token instead."
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        form = TokenLifetimeSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        try:
            token, secret = token_rotate(
                token=_own_token(request, pk),
                expires_in_days=form.validated_data.get("expires_in_days"),
            )
        except TokenRevoked as exc:
            raise ApiError(status.HTTP_409_CONFLICT, "token_revoked", str(exc)) from exc
        return _created(token, secret)
