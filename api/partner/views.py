"""What partner crews pull into their own tools: routes, reports, calendar feeds, GeoJSON.

Views are thin: they validate input, find the object within the caller's
scope (``dispatch.selectors``: another partner's crew or job is *not found*,
never *forbidden*) and hand over to :mod:`api.partner.routes`,
:mod:`dispatch.reports`, :mod:`dispatch.calendar_feeds` and :mod:`api.partner.ical`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpResponseBase
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.models import Role, User
from dispatch.calendar_feeds import (
    calendar_feed_create,
    calendar_feed_revoke,
    feed_crew_for_token,
)
from dispatch.models import CalendarFeed, Crew, Job, ReleaseReason, Visit
from dispatch.reports import job_report_record
from dispatch.selectors import (
    crews_visible_to,
    jobs_visible_to,
    reports_visible_to,
    visits_visible_to,
)

from ..errors import ApiError
from ..permissions import READ, WRITE
from ..renderers import FastJSONRenderer
from ..representations import conditional_response, representation
from ..schema import error_responses
from .geojson import route_feature_collection
from .ical import LANGUAGE_PARAMETER, crew_calendar, feed_language, feed_url, feed_visits
from .routes import routes_cache_key, routes_for
from .serializers import (
    CalendarFeedSerializer,
    CreatedCalendarFeedSerializer,
    FieldReportSerializer,
    GeoJSONFeatureCollectionSerializer,
    GeoJSONQuerySerializer,
    PartnerErrorSerializer,
    ReportCreateSerializer,
    RouteQuerySerializer,
    RoutesSerializer,
)

ROUTE_READERS = {Role.PARTNER.value: READ, Role.COORDINATOR.value: READ}
CREW_WRITERS = {Role.PARTNER.value: WRITE, Role.COORDINATOR.value: WRITE}

IF_NONE_MATCH = OpenApiParameter(
    "If-None-Match",
    str,
    location=OpenApiParameter.HEADER,
    required=False,
    description="The `ETag` of the copy the client holds: answered 304 if it is still current.",
)
NOT_MODIFIED = OpenApiResponse(description="Not modified: the copy the client holds is current.")

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 64  # JobReport.idempotency_key's column


_ERROR_TEXTS = {
    400: "Invalid input; `fields` names each offending field.",
    401: "Not authenticated.",
    403: "Your role may not use this endpoint.",
    404: "Not found, or not yours (another partner's objects are never revealed).",
    409: "Conflicts with the current state (see `code`).",
    503: "`routing_unavailable`: the routing service that computes the drive home failed;"
    " retry later (only with `TRAVEL_PROVIDER=osrm`).",
}


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(PartnerErrorSerializer, _ERROR_TEXTS, codes)


def _scoped_crew(user: User, crew_id: int) -> Crew:
    crew = crews_visible_to(user).select_related("company").filter(pk=crew_id).first()
    if crew is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", _("no such crew"))
    return crew


# --- routes ---------------------------------------------------------------------------


def _cached_route_answer(
    request: Request, name: str, *, date: dt.date, crew_id: int | None, data: Callable[[], Any]
) -> HttpResponseBase:
    """A route's answer from the cache (``api.representations``), with an ETag and 304.

    The browsable API (DEBUG only) renders HTML around the data: never cached.
    """
    renderer = request.accepted_renderer
    if not isinstance(renderer, FastJSONRenderer):
        return Response(data())
    key = routes_cache_key(user=request.user, date=date, crew_id=crew_id)
    found = representation(
        name=name,
        key=f"{name}:{renderer.media_type}:{key}",
        seconds=settings.ROUTE_CACHE_SECONDS,
        content_type=renderer.media_type,
        build=lambda: renderer.render(data(), renderer.media_type),
    )
    return conditional_response(
        request, found, vary=("Accept", "Accept-Language", "Authorization", "Cookie")
    )


class RoutesView(APIView):
    """A day's published routes: partners get their own crews, coordinators any crew."""

    roles = ROUTE_READERS

    @extend_schema(
        operation_id="routes_list",
        summary="Published routes of a day, stop by stop",
        description=(
            "Each stop's `access` is the building's: its weekly `hours`, the ranges of the "
            "visit's date (`today`, national holidays included), a `description` in the "
            "request's language and the access `notes`. Until issue 20 it was "
            "`{start, end, source, rules}`, mixing the job's window in; that window is now "
            "the customer's promised arrival slot: `job.time_slot`, `job.window_start`/"
            "`window_end` and `job.promise_is_hard`. Each route carries the `lunch` break "
            "the plan placed, or null. Every answer has an `ETag`: send it back in "
            "`If-None-Match` and an unchanged day answers `304 Not Modified` with no body."
        ),
        parameters=[RouteQuerySerializer, IF_NONE_MATCH],
        responses={200: RoutesSerializer, 304: NOT_MODIFIED, **_errors(400, 401, 403, 404, 503)},
    )
    def get(self, request: Request) -> HttpResponseBase:
        query = RouteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        date = query.validated_data["date"]
        crew_id = query.validated_data.get("crew")

        def data() -> Any:
            routes = routes_for(user=request.user, date=date, crew_id=crew_id)
            return RoutesSerializer({"date": date, "routes": routes}).data

        return _cached_route_answer(request, "routes", date=date, crew_id=crew_id, data=data)


class GeoJSONRenderer(FastJSONRenderer):
    media_type = "application/geo+json"
    format = "geojson"


class RouteGeoJSONView(APIView):
    """One crew's route of a day as a GeoJSON FeatureCollection."""

    roles = ROUTE_READERS
    renderer_classes = [GeoJSONRenderer, FastJSONRenderer]

    @extend_schema(
        operation_id="routes_geojson",
        summary="A crew's route of a day as GeoJSON",
        parameters=[GeoJSONQuerySerializer, IF_NONE_MATCH],
        responses={
            200: GeoJSONFeatureCollectionSerializer,
            304: NOT_MODIFIED,
            **_errors(400, 401, 403, 404, 503),
        },
    )
    def get(self, request: Request) -> HttpResponseBase:
        query = GeoJSONQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        date, crew_id = query.validated_data["date"], query.validated_data["crew"]

        def data() -> Any:
            (route,) = routes_for(user=request.user, date=date, crew_id=crew_id, with_lunch=False)
            return route_feature_collection(route)

        return _cached_route_answer(request, "geojson", date=date, crew_id=crew_id, data=data)


# --- reports --------------------------------------------------------------------------


def _reporting_visit(user: User, job: Job) -> Visit:
    """The visit a report on ``job`` belongs to: its live one, else the last not finished.

    The latter only serves retries (answered with the original report) and a
    clear refusal: a visit off the schedule takes no new report.
    """
    visits = visits_visible_to(user).filter(job=job).select_related("crew")
    visit = visits.filter(route__isnull=False).first() or (
        visits.filter(release_reason=ReleaseReason.NOT_FINISHED)
        .order_by("-released_at", "-pk")
        .first()
    )
    if visit is None:
        # Only a coordinator gets here: a partner cannot even see such a job.
        raise ApiError(
            status.HTTP_409_CONFLICT,
            "not_dispatched",
            _("the job is not on the live schedule, so no crew can report on it"),
            current_status=job.status,
        )
    return visit


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    problem = None
    if not key and request.user.role == Role.PARTNER:
        problem = _("required: a unique key per report, the same key on every retry")
    elif len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        problem = _("at most %(count)s characters") % {"count": IDEMPOTENCY_KEY_MAX_LENGTH}
    if problem:
        raise ApiError(
            status.HTTP_400_BAD_REQUEST,
            "invalid",
            _("the request is not valid"),
            fields={IDEMPOTENCY_HEADER: [problem]},
        )
    return key or None


class JobReportsView(GenericAPIView):
    """Field reports on a job: en route, arrived, started, completed, not finished."""

    roles = {**CREW_WRITERS, Role.SUPPORT.value: READ}  # support reads job history
    serializer_class = FieldReportSerializer
    filter_backends: list[Any] = []

    def _job(self, job_id: int) -> Job:
        job = jobs_visible_to(self.request.user).filter(pk=job_id).first()
        if job is None:
            raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", _("no such job"))
        return job

    @extend_schema(
        operation_id="job_reports_list",
        summary="A job's field reports, oldest first",
        responses={200: FieldReportSerializer(many=True), **_errors(401, 403, 404)},
    )
    def get(self, request: Request, job_id: int) -> Response:
        job = self._job(job_id)
        # The job may have been another partner's before a re-plan: the
        # selector keeps a partner to its own crews' reports.
        reports = (
            reports_visible_to(request.user)
            .filter(job=job)
            .select_related("completion_facts__company", "completion_facts__crew")
        )
        page = self.paginate_queryset(reports)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="job_reports_create",
        summary="Report from the field (retry-safe with Idempotency-Key)",
        description=(
            "The job's status follows the report: en_route/arrived dispatch a scheduled job, "
            "started puts it in progress (through dispatched), completed completes it, "
            "incomplete records the reason and sends it back to the planning queue (ready). "
            "A retry with the same Idempotency-Key answers 200 with the original report "
            "and writes nothing; the same key with a different body answers 409 "
            "`idempotency_key_reused`. A report the job's status does not allow answers "
            "409 `illegal_transition` with `current_status`. A completed report may carry "
            "`facts` (media converter serial, port, light level in dBm, a note): they are "
            "stored as a proposal for the site's as-built record, which delivery confirms "
            "or rejects at handover (`/completion-facts/`); any other kind with `facts` "
            "answers 400 naming `facts`. The facts are part of the report: a retry with "
            "other facts under the same key answers 409 `idempotency_key_reused`."
        ),
        request=ReportCreateSerializer,
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Required for partners; at most 64 characters; unique per crew.",
            )
        ],
        responses={
            201: FieldReportSerializer,
            200: OpenApiResponse(FieldReportSerializer, description="A retry: the original."),
            **_errors(400, 401, 403, 404, 409),
        },
    )
    def post(self, request: Request, job_id: int) -> Response:
        job = self._job(job_id)
        key = _idempotency_key(request)
        form = ReportCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        report, created = job_report_record(
            job=job,
            visit=_reporting_visit(request.user, job),
            idempotency_key=key,
            by=request.user,
            **form.validated_data,
        )
        response = Response(
            FieldReportSerializer(report).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


# --- calendar feeds -------------------------------------------------------------------


class CrewCalendarFeedsView(APIView):
    """A crew's calendar subscriptions: list them, or create one (its URL is shown once)."""

    roles = CREW_WRITERS

    @extend_schema(
        operation_id="crew_calendar_feeds_list",
        summary="A crew's calendar feeds (without their secrets)",
        responses={200: CalendarFeedSerializer(many=True), **_errors(401, 403, 404)},
    )
    def get(self, request: Request, crew_id: int) -> Response:
        crew = _scoped_crew(request.user, crew_id)
        feeds = CalendarFeed.objects.filter(crew=crew).order_by("-created_at", "-id")
        return Response(CalendarFeedSerializer(feeds, many=True).data)

    @extend_schema(
        operation_id="crew_calendar_feeds_create",
        summary="New secret iCalendar URL for a crew",
        request=None,
        responses={201: CreatedCalendarFeedSerializer, **_errors(401, 403, 404)},
    )
    def post(self, request: Request, crew_id: int) -> Response:
        crew = _scoped_crew(request.user, crew_id)
        feed, token = calendar_feed_create(crew=crew, by=request.user)
        url = feed_url(request, token)  # in the creator's language (?lang=ja)
        body = {"url": url, "token": token, "feed": feed}
        return Response(CreatedCalendarFeedSerializer(body).data, status=status.HTTP_201_CREATED)


class CalendarFeedDetailView(APIView):
    roles = CREW_WRITERS

    @extend_schema(
        operation_id="calendar_feeds_revoke",
        summary="Revoke a calendar feed: its URL answers 404 from now on",
        request=None,
        responses={204: None, **_errors(401, 403, 404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        feed = CalendarFeed.objects.filter(pk=pk, crew__in=crews_visible_to(request.user)).first()
        if feed is None:
            raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", _("no such calendar feed"))
        calendar_feed_revoke(feed=feed)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ICalendarRenderer(BaseRenderer):
    media_type = "text/calendar"
    format = "ics"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> bytes:
        return data


class _FirstRenderer(BaseContentNegotiation):
    """Calendar apps send all sorts of Accept headers; a feed is iCalendar whatever they say."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: str | None = None
    ) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


class CalendarFeedIcsView(APIView):
    """The feed itself. The secret in the URL is the only credential (no headers needed)."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]
    # Unauthenticated by necessity, so guessing tokens is rate-limited per client.
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "calendar"
    renderer_classes = [ICalendarRenderer]
    content_negotiation_class = _FirstRenderer

    @extend_schema(
        operation_id="calendar_feed_ics",
        summary="A crew's published visits as iCalendar (7 days back, 60 ahead)",
        auth=[],
        parameters=[LANGUAGE_PARAMETER],
        responses={
            (200, "text/calendar"): OpenApiResponse(OpenApiTypes.BINARY, description="VCALENDAR"),
            (400, "application/json"): OpenApiResponse(
                PartnerErrorSerializer, description="`lang` is not a language of the feed."
            ),
            (404, "application/json"): OpenApiResponse(
                PartnerErrorSerializer, description="Unknown or revoked feed."
            ),
        },
    )
    def get(self, request: Request, token: str) -> Response:
        crew = feed_crew_for_token(token)
        if crew is None:
            raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", _("no such calendar"))
        language = feed_language(request)
        visits = feed_visits(crew=crew)
        response = Response(crew_calendar(crew=crew, visits=visits, language=language))
        response["Content-Disposition"] = f'inline; filename="crew-{crew.pk}.ics"'
        # Revocation must bite on the next fetch, and the content is personal data.
        response["Cache-Control"] = "no-store"
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response) and response.status_code >= 400:
            # Errors keep the API's one JSON shape.
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
