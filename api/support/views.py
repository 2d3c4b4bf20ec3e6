"""The support desk in the API: search, site card, call log, maintenance booking.

Support operators search, read and log calls; coordinators read the same
(they get 403 on the writes); partners reach none of it. Sites stay
read-only here: support never edits a site or a plan (see the CRUD and
planning views' role tables).
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, User
from sites.models import Contract, Site
from support.models import CallCategory, FaultIsolation
from support.search import cached_site_search
from support.selectors import (
    Grouping,
    call_view,
    calls_filtered,
    calls_visible_to,
    recurring_issues,
    site_card,
)
from support.services import (
    AlreadyBooked,
    DuplicateBooking,
    call_amend,
    call_log,
    maintenance_book,
)

from ..errors import ApiError
from ..pagination import Pagination
from ..permissions import READ, WRITE
from ..schema import error_responses
from . import serializers as s
from .handoffs import HANDOFF_PARAMETERS, handoff_context, handoff_filtered

SUPPORT_READS = {Role.SUPPORT.value: READ, Role.COORDINATOR.value: READ}
SUPPORT_WRITES = {Role.SUPPORT.value: WRITE, Role.COORDINATOR.value: READ}

_ERROR_TEXTS = {
    400: "Invalid input: `fields` names each offending field.",
    401: "Not signed in.",
    403: "Your role may not use this endpoint.",
    404: "No such object.",
    409: "Refused in the current state (e.g. the call already booked a visit).",
}


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(s.ErrorSerializer, _ERROR_TEXTS, codes)


def _int_param(request: Request, name: str, *, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        values = {"name": name, "value": raw, "low": low, "high": high}
        raise ApiError(
            400,
            "invalid",
            _("%(name)s must be a whole number from %(low)s to %(high)s") % values,
            fields={
                name: [_("'%(value)s' is not a whole number from %(low)s to %(high)s") % values]
            },
        )
    return int(raw)


def _datetime_param(request: Request, name: str) -> dt.datetime | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        value = dt.datetime.fromisoformat(raw)
    except ValueError as exc:
        raise ApiError(
            400,
            "invalid",
            _("%(name)s must be an ISO date or date-time") % {"name": name},
            fields={name: [_("'%(value)s' is not an ISO date or date-time") % {"value": raw}]},
        ) from exc
    if value.tzinfo is None:
        value = timezone.make_aware(value)
    return value


class SearchView(APIView):
    """Find a site during a call: contract/circuit id, phone in any format, name, kana, address."""

    roles = SUPPORT_READS

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="What the caller said."),
            OpenApiParameter("limit", int, description="Hits to return (1-50, default 20)."),
        ],
        responses={200: s.SearchResultSerializer, **_errors(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q", "").strip()
        if not query:
            raise ApiError(
                400, "invalid", _("say what to search for"), fields={"q": [_("required")]}
            )
        if len(query) > 200:
            raise ApiError(
                400,
                "invalid",
                _("the query is too long"),
                fields={"q": [_("at most %(max)s characters") % {"max": 200}]},
            )
        limit = _int_param(request, "limit", default=20, low=1, high=50)
        return Response(s.SearchResultSerializer(cached_site_search(query, limit=limit)).data)


class SiteCardView(APIView):
    """Everything support reads during a call, as-built construction notes first."""

    roles = SUPPORT_READS

    @extend_schema(responses={200: s.SiteCardSerializer, **_errors(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        try:
            card = site_card(site_id=pk)
        except Site.DoesNotExist as exc:
            raise ApiError(404, "not_found", _("no such site")) from exc
        context = handoff_context([view.call.pk for view in card.calls])
        return Response(s.SiteCardSerializer(card, context=context).data)


class CallListView(APIView):
    """The call log (filter by site and by operator), and logging a new call (support only)."""

    roles = SUPPORT_WRITES

    @extend_schema(
        operation_id="v1_support_calls_list",
        parameters=[
            OpenApiParameter("site", int, description="Calls about this site."),
            OpenApiParameter("operator", int, description="Calls taken by this operator."),
            OpenApiParameter("since", str, description="ISO date-time: calls started at or after."),
            OpenApiParameter("until", str, description="ISO date-time: calls started before."),
            OpenApiParameter("category", str, enum=CallCategory.values),
            OpenApiParameter("fault_isolation", str, enum=FaultIsolation.values),
            OpenApiParameter("follow_up_needed", bool),
            *HANDOFF_PARAMETERS,
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses={200: s.CallPageSerializer, **_errors(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        for name, choices in (("category", CallCategory), ("fault_isolation", FaultIsolation)):
            value = params.get(name)
            if value and value not in choices.values:
                raise ApiError(
                    400,
                    "invalid",
                    _("unknown %(name)s") % {"name": name},
                    fields={name: [_("'%(value)s' is not valid") % {"value": value}]},
                )
        follow_up = params.get("follow_up_needed")
        if follow_up not in (None, "", "true", "false"):
            raise ApiError(
                400,
                "invalid",
                _("follow_up_needed must be true or false"),
                fields={"follow_up_needed": [follow_up]},
            )
        calls = calls_filtered(
            calls_visible_to(request.user),
            site_id=_int_param(request, "site", default=0, low=1, high=2**63 - 1) or None,
            operator_id=_int_param(request, "operator", default=0, low=1, high=2**63 - 1) or None,
            since=_datetime_param(request, "since"),
            until=_datetime_param(request, "until"),
            category=params.get("category") or None,
            fault_isolation=params.get("fault_isolation") or None,
            follow_up_needed=None if not follow_up else follow_up == "true",
        )
        calls = handoff_filtered(request, calls)
        paginator = Pagination()
        page = paginator.paginate_queryset(calls, request, view=self)
        views = [call_view(call) for call in page or []]
        context = handoff_context([view.call.pk for view in views])
        return paginator.get_paginated_response(
            s.CallSerializer(views, many=True, context=context).data
        )

    @extend_schema(
        request=s.CallInput,
        responses={201: s.CallSerializer, **_errors(400, 401, 403)},
    )
    def post(self, request: Request) -> Response:
        form = s.CallInput(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        site = Site.objects.filter(pk=data["site"]).first()
        if site is None:
            raise ApiError(400, "invalid", _("no such site"), fields={"site": [str(data["site"])]})
        contract = None
        if data.get("contract"):
            contract = Contract.objects.filter(pk=data["contract"]).first()
            if contract is None:
                raise ApiError(
                    400,
                    "invalid",
                    _("no such contract"),
                    fields={"contract": [str(data["contract"])]},
                )
        user: User = request.user
        call = call_log(
            site=site,
            operator=user,
            contract=contract,
            started_at=data.get("started_at"),
            caller_name=data["caller_name"],
            caller_phone=data["caller_phone"],
            category=data["category"],
            fault_isolation=data["fault_isolation"],
            description=data["description"],
            handoff_team=data["handoff_team"],
            handoff_user=data.get("handoff_user"),
            handoff_note=data["handoff_note"],
            follow_up_needed=data["follow_up_needed"],
            follow_up_due=data.get("follow_up_due"),
            follow_up_note=data["follow_up_note"],
        )
        call = calls_visible_to(user).get(pk=call.pk)
        return Response(s.CallSerializer(call_view(call)).data, status=status.HTTP_201_CREATED)


class CallDetailView(APIView):
    """One call as logged, as amended, and the visit it booked."""

    roles = SUPPORT_READS

    @extend_schema(responses={200: s.CallSerializer, **_errors(401, 403, 404)})
    def get(self, request: Request, pk: int) -> Response:
        call = get_object_or_404(calls_visible_to(request.user), pk=pk)
        return Response(s.CallSerializer(call_view(call)).data)


class CallAmendmentView(APIView):
    """Append a correction to a saved call (calls themselves never change)."""

    roles = SUPPORT_WRITES

    @extend_schema(
        request=s.AmendmentInput,
        responses={201: s.CallSerializer, **_errors(400, 401, 403, 404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        call = get_object_or_404(calls_visible_to(request.user), pk=pk)
        form = s.AmendmentInput(data=request.data)
        form.is_valid(raise_exception=True)
        call_amend(
            call=call,
            author=request.user,
            text=form.validated_data["text"],
            corrections=form.validated_data["corrections"],
        )
        call = calls_visible_to(request.user).get(pk=pk)
        return Response(s.CallSerializer(call_view(call)).data, status=status.HTTP_201_CREATED)


class CallMaintenanceView(APIView):
    """Book a maintenance visit from the call: a ready job in the coordinators' queue.

    When the call's contract (or site) already has open jobs, the answer is a
    409 ``open_job_exists`` listing them, and nothing is written; post again
    with ``attach_to_job`` (one of them: the call is linked, no job created)
    or ``create_anyway: true`` with a ``reason``.
    """

    roles = SUPPORT_WRITES

    @extend_schema(
        request=s.MaintenanceInput,
        responses={
            201: s.BookingSerializer,
            **_errors(400, 401, 403, 404),
            409: OpenApiResponse(
                s.BookingConflictSerializer,
                description="The call already booked a visit (`already_booked`, `job_id`), or "
                "open jobs exist and no choice was made (`open_job_exists`, `open_jobs`).",
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        call = get_object_or_404(calls_visible_to(request.user), pk=pk)
        form = s.MaintenanceInput(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            booking = maintenance_book(
                call=call,
                by=request.user,
                priority=data.get("priority"),
                due_date=data.get("due_date"),
                earliest_date=data.get("earliest_date"),
                due_date_is_hard=data["due_date_is_hard"],
                duration_minutes=data["duration_minutes"],
                attach_to_job=data.get("attach_to_job"),
                create_anyway=data["create_anyway"],
                reason=data["reason"],
            )
        except AlreadyBooked as exc:
            raise ApiError(409, exc.code, str(exc), job_id=exc.booking.job_id) from exc
        except DuplicateBooking as exc:
            raise ApiError(
                409, exc.code, str(exc), matched_by=exc.matched_by, open_jobs=exc.as_dicts()
            ) from exc
        return Response(s.BookingSerializer(booking).data, status=status.HTTP_201_CREATED)


class RecurringIssuesView(APIView):
    """Sites or areas with several calls lately: what keeps breaking, for delivery."""

    roles = SUPPORT_READS

    @extend_schema(
        parameters=[
            OpenApiParameter("days", int, description="Look back this many days (1-365, 30)."),
            OpenApiParameter("min_calls", int, description="At least this many calls (2-1000, 3)."),
            OpenApiParameter("group", str, enum=list(Grouping.ALL), description="Default site."),
        ],
        responses={200: s.RecurringIssueSerializer(many=True), **_errors(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        group = request.query_params.get("group") or Grouping.SITE
        if group not in Grouping.ALL:
            raise ApiError(
                400,
                "invalid",
                _("group must be one of %(groups)s") % {"groups": ", ".join(Grouping.ALL)},
                fields={"group": [group]},
            )
        issues = recurring_issues(
            days=_int_param(request, "days", default=30, low=1, high=365),
            min_calls=_int_param(request, "min_calls", default=3, low=2, high=1000),
            group=group,
        )
        return Response(s.RecurringIssueSerializer(issues, many=True).data)
