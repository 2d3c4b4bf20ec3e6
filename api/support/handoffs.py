"""Hand-offs in the API: the call log's hand-off filters, acknowledging and finishing.

``GET /support/calls/`` filters by the *current* hand-off of each call
(``handoff_team``, ``handoff_user``, ``handoff_status``, ``overdue``) and
every call carries its ``handoff`` state. ``POST
/support/calls/{id}/handoff/acknowledge/`` and ``…/done/`` append an event:
support and coordinators who receive the hand-off (team members, the named
person) may; other support operators and coordinators get 403
``not_a_receiver``; partners never reach it. See :mod:`support.inbox`.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from support.inbox import (
    TEAMS,
    HandoffRefused,
    current_handoff_views,
    current_handoffs,
    handoff_acknowledge,
    handoff_done,
    handoffs_filtered,
)
from support.models import Call, HandoffStatus
from support.selectors import call_view, calls_visible_to

from ..errors import ApiError
from ..permissions import WRITE
from . import serializers as s

HANDOFF_ACTORS = {Role.SUPPORT.value: WRITE, Role.COORDINATOR.value: WRITE}

HANDOFF_PARAMETERS = [
    OpenApiParameter(
        "handoff_team", str, enum=list(TEAMS), description="Calls currently handed off to a team."
    ),
    OpenApiParameter("handoff_user", int, description="Calls currently handed off to a person."),
    OpenApiParameter(
        "handoff_status",
        str,
        enum=HandoffStatus.values,
        description="Where the current hand-off stands (open, acknowledged, done).",
    ),
    OpenApiParameter(
        "overdue",
        bool,
        description="true: hand-offs past their acknowledge or done target (Asia/Tokyo times "
        "in the answer); false: the others.",
    ),
]


def _invalid(name: str, value: str, message: str) -> ApiError:
    return ApiError(
        400,
        "invalid",
        message,
        fields={name: [_("'%(value)s' is not valid") % {"value": value}]},
    )


def handoff_filtered(request: Request, calls: QuerySet[Call]) -> QuerySet[Call]:
    """``calls`` narrowed by the hand-off parameters; a bad value is a 400 naming the field."""
    params = request.query_params
    team = params.get("handoff_team") or None
    if team is not None and team not in TEAMS:
        raise _invalid(
            "handoff_team",
            team,
            _("handoff_team must be one of %(teams)s") % {"teams": ", ".join(TEAMS)},
        )
    raw_user = params.get("handoff_user") or None
    if raw_user is not None and (not raw_user.isdigit() or int(raw_user) < 1):
        raise _invalid("handoff_user", raw_user, _("handoff_user must be a user id"))
    state = params.get("handoff_status") or None
    if state is not None and state not in HandoffStatus.values:
        raise _invalid(
            "handoff_status",
            state,
            _("handoff_status must be one of %(statuses)s")
            % {"statuses": ", ".join(HandoffStatus.values)},
        )
    raw_overdue = params.get("overdue") or None
    if raw_overdue is not None and raw_overdue not in ("true", "false"):
        raise _invalid("overdue", raw_overdue, _("overdue must be true or false"))
    if not any((team, raw_user, state, raw_overdue)):
        return calls
    handoffs = handoffs_filtered(
        current_handoffs(now=timezone.now()),
        team=team,
        user_id=int(raw_user) if raw_user else None,
        status=state,
        overdue=None if raw_overdue is None else raw_overdue == "true",
    )
    return calls.filter(pk__in=handoffs.values("call_id"))


def handoff_context(call_ids: list[int]) -> dict[str, Any]:
    """Serializer context with the current hand-off of every call of a page (two queries)."""
    return {"handoffs": current_handoff_views(call_ids)}


_ACTION_RESPONSES = {
    400: OpenApiResponse(s.ErrorSerializer, description="`note` too long, or a bad `handoff`."),
    401: OpenApiResponse(s.ErrorSerializer, description="Not signed in."),
    403: OpenApiResponse(
        s.ErrorSerializer,
        description="Partners; or `not_a_receiver`: neither in the receiving team nor the "
        "named person.",
    ),
    404: OpenApiResponse(s.ErrorSerializer, description="No such call."),
    409: OpenApiResponse(
        s.HandoffConflictSerializer,
        description="`no_handoff` (never handed off, or withdrawn), `handoff_superseded` "
        "(`current_handoff`), or `illegal_transition` (`current_status`: acknowledged twice, "
        "done before acknowledged, anything after done).",
    ),
}


class _HandoffAction(APIView):
    roles = HANDOFF_ACTORS
    action = ""

    def post(self, request: Request, pk: int) -> Response:
        call = get_object_or_404(calls_visible_to(request.user), pk=pk)
        form = s.HandoffActionInput(data=request.data)
        form.is_valid(raise_exception=True)
        act = handoff_acknowledge if self.action == HandoffStatus.ACKNOWLEDGED else handoff_done
        try:
            act(
                call=call,
                by=request.user,
                note=form.validated_data["note"],
                handoff_id=form.validated_data.get("handoff"),
            )
        except HandoffRefused as exc:
            raise ApiError(exc.status, exc.code, str(exc), **exc.details) from exc
        call = calls_visible_to(request.user).get(pk=pk)
        return Response(
            s.CallSerializer(call_view(call), context=handoff_context([call.pk])).data,
            status=status.HTTP_201_CREATED,
        )


class HandoffAcknowledgeView(_HandoffAction):
    """A receiver takes the call's hand-off: open → acknowledged (who and when are kept)."""

    action = HandoffStatus.ACKNOWLEDGED

    @extend_schema(
        operation_id="v1_support_calls_handoff_acknowledge",
        request=s.HandoffActionInput,
        responses={201: s.CallSerializer, **_ACTION_RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)


class HandoffDoneView(_HandoffAction):
    """A receiver finished the call's hand-off: acknowledged → done."""

    action = HandoffStatus.DONE

    @extend_schema(
        operation_id="v1_support_calls_handoff_done",
        request=s.HandoffActionInput,
        responses={201: s.CallSerializer, **_ACTION_RESPONSES},
    )
    def post(self, request: Request, pk: int) -> Response:
        return super().post(request, pk)
