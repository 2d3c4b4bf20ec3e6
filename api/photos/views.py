"""Crews' photos: upload (retry-safe), list, read, and the image bytes behind a check.

Who sees what (``sites.photos.photos_visible_to``): a partner its own
company's uploads, support and coordinators every photo; another partner's
photo is *not found* (404) on every URL, the bytes included. The bytes are
never served from a public /media/ URL: ``image/`` and ``thumbnail/`` check
the caller first, then stream from the storage (or, with
``PHOTO_REDIRECT_TO_STORAGE``, redirect to the storage's short-lived signed URL).

Who may upload to a job: coordinators to any job; a partner to a job one of
its crews has a visit of, on the live schedule or reported not finished,
dated from ``PHOTO_UPLOAD_DAYS_AFTER_VISIT`` days ago to today (a job it
cannot see is "no such job", like one that does not exist).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.http import FileResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role, User
from dispatch.models import Job, ReleaseReason, Visit
from dispatch.selectors import jobs_visible_to
from sites.models import SitePhoto
from sites.photos import (
    earlier_photo,
    photo_add,
    photo_storage,
    photo_too_large,
    photos_visible_to,
    read_upload,
)

from ..errors import ApiError
from ..partner.serializers import PartnerErrorSerializer
from ..permissions import READ, WRITE
from ..schema import error_responses
from .serializers import PhotoListQuerySerializer, PhotoSerializer, PhotoUploadSerializer

PHOTO_ROLES = {Role.PARTNER.value: WRITE, Role.COORDINATOR.value: WRITE, Role.SUPPORT.value: READ}
PHOTO_READERS = dict.fromkeys(PHOTO_ROLES, READ)

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = 64  # SitePhoto.idempotency_key's column
#: Room for the form's other fields and the multipart boundaries around the file.
MULTIPART_OVERHEAD_BYTES = 64 * 1024


_ERROR_TEXTS = {
    400: "Invalid input; `fields` names each offending field (`file`, `job`, `kind`...).",
    401: "Not authenticated.",
    403: "Your role may not use this endpoint.",
    404: "Not found, or not yours (another partner's photos are never revealed).",
    409: "`idempotency_key_reused`: the key was used for a different photo.",
    413: "`payload_too_large`: the file is larger than PHOTO_MAX_BYTES (`fields.file`).",
}


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return error_responses(PartnerErrorSerializer, _ERROR_TEXTS, codes)


def _invalid(field: str, message: str) -> ApiError:
    return ApiError(
        status.HTTP_400_BAD_REQUEST,
        "invalid",
        _("the request is not valid"),
        fields={field: [message]},
    )


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
    if not key and request.user.role == Role.PARTNER:
        raise _invalid(
            IDEMPOTENCY_HEADER, _("required: a unique key per photo, the same key on every retry")
        )
    if len(key) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise _invalid(
            IDEMPOTENCY_HEADER,
            _("at most %(count)s characters") % {"count": IDEMPOTENCY_KEY_MAX_LENGTH},
        )
    return key or None


def upload_window(today: dt.date | None = None) -> tuple[dt.date, dt.date]:
    """The visit dates a partner's crew may still add photos for: recent days up to today."""
    today = today or timezone.localdate()
    return today - dt.timedelta(days=settings.PHOTO_UPLOAD_DAYS_AFTER_VISIT), today


def uploadable_job(user: User, job_id: int) -> Job:
    """The job ``user`` may add a photo to, or a 400 naming ``job``."""
    job = jobs_visible_to(user).select_related("site").filter(pk=job_id).first()
    if job is None:
        raise _invalid("job", _("no such job"))
    if user.role != Role.PARTNER:
        return job
    earliest, latest = upload_window()
    recent = Visit.objects.filter(
        Q(route__isnull=False) | Q(release_reason=ReleaseReason.NOT_FINISHED),
        job=job,
        crew__company_id=user.partner_company_id,
        date__range=(earliest, latest),
    )
    if not recent.exists():
        raise _invalid(
            "job",
            _(
                "none of your crews has a visit of this job between %(earliest)s and "
                "%(latest)s; photos are added from the day of the visit"
            )
            % {"earliest": earliest.isoformat(), "latest": latest.isoformat()},
        )
    return job


def _visible_photo(request: Request, pk: int) -> SitePhoto:
    photo = photos_visible_to(request.user).filter(pk=pk).first()
    if photo is None:
        raise ApiError(status.HTTP_404_NOT_FOUND, "not_found", _("no such photo"))
    return photo


class PhotoListView(GenericAPIView):
    """Photos of the as-built record: list them, or upload one from the field."""

    roles = PHOTO_ROLES
    serializer_class = PhotoSerializer
    filter_backends: list[Any] = []
    parser_classes = [MultiPartParser]

    def get_queryset(self) -> Any:
        return photos_visible_to(self.request.user)

    @extend_schema(
        operation_id="photos_list",
        summary="Photos, newest first (partners: their own company's)",
        parameters=[PhotoListQuerySerializer],
        responses={200: PhotoSerializer(many=True), **_errors(400, 401, 403)},
    )
    def get(self, request: Request) -> Response:
        query = PhotoListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        photos = self.get_queryset()
        if "site" in query.validated_data:
            photos = photos.filter(site_id=query.validated_data["site"])
        if "job" in query.validated_data:
            photos = photos.filter(job_id=query.validated_data["job"])
        page = self.paginate_queryset(photos)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        operation_id="photos_create",
        summary="Upload a photo taken on a job (retry-safe with Idempotency-Key)",
        description=(
            "multipart/form-data: `job`, `kind`, `caption` (may be blank), `file`. The file's "
            "type is read from its content (JPEG, PNG or WebP), never from its name; it is "
            "turned upright and stored without any metadata (EXIF, GPS, device), with a "
            "thumbnail. A damaged or truncated image, one under 64 px or over 12,000 px a "
            "side or 50 megapixels answers 400 naming `file`; a file over PHOTO_MAX_BYTES "
            "(default 10 MB) 413 `payload_too_large`. A retry with the same Idempotency-Key "
            "answers 200 with the stored photo and stores nothing; the key with another "
            "file or fields answers 409 `idempotency_key_reused`."
        ),
        request={"multipart/form-data": PhotoUploadSerializer},
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Required for partners; at most 64 characters; unique per user.",
            )
        ],
        responses={
            201: PhotoSerializer,
            200: OpenApiResponse(PhotoSerializer, description="A retry: the stored photo."),
            **_errors(400, 401, 403, 409, 413),
        },
    )
    def post(self, request: Request) -> Response:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.PHOTO_MAX_BYTES + MULTIPART_OVERHEAD_BYTES:
            raise photo_too_large()
        key = _idempotency_key(request)
        form = PhotoUploadSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        earlier = earlier_photo(by=request.user, idempotency_key=key)
        if earlier is not None:
            # A retry: answered from what is stored (or 409), even if the job has left
            # the caller's reach since (re-planned, or the upload window passed).
            site, job_id = earlier.site, form.validated_data["job"]
        else:
            job = uploadable_job(request.user, form.validated_data["job"])
            site, job_id = job.site, job.pk
        upload = form.validated_data["file"]
        data = read_upload(upload, size=upload.size)
        photo, created = photo_add(
            site=site,
            job_id=job_id,
            kind=form.validated_data["kind"],
            caption=form.validated_data["caption"],
            data=data,
            by=request.user,
            idempotency_key=key,
        )
        response = Response(
            PhotoSerializer(photo, context={"request": request}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
        if not created:
            response["Idempotent-Replayed"] = "true"
        return response


class PhotoDetailView(APIView):
    roles = PHOTO_READERS

    @extend_schema(
        operation_id="photos_retrieve",
        summary="One photo",
        responses={200: PhotoSerializer, **_errors(401, 403, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        photo = _visible_photo(request, pk)
        return Response(PhotoSerializer(photo, context={"request": request}).data)


class _JSONForErrors(BaseContentNegotiation):
    """Images are asked for with any Accept header; errors still answer JSON."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(
        self, request: Request, renderers: list[Any], format_suffix: str | None = None
    ) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


def _bytes_schema(what: str) -> dict[str, Any]:
    errors = {(code, "application/json"): r for code, r in _errors(401, 403, 404).items()}
    return {
        "summary": f"The photo's {what} (checked like the photo itself)",
        "responses": {
            (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description=what),
            (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY, description=what),
            (302, "application/json"): OpenApiResponse(
                description="With PHOTO_REDIRECT_TO_STORAGE: the storage's signed URL."
            ),
            **errors,
        },
    }


class _PhotoBytesView(APIView):
    roles = PHOTO_READERS
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _JSONForErrors
    variant = "file"

    def get(self, request: Request, pk: int) -> Any:
        photo = _visible_photo(request, pk)
        name = getattr(photo, self.variant).name
        storage = photo_storage()  # looked up now, not when the model was imported
        if settings.PHOTO_REDIRECT_TO_STORAGE:
            return HttpResponseRedirect(storage.url(name))
        content_type = photo.content_type if self.variant == "file" else "image/jpeg"
        extension = "png" if content_type == "image/png" else "jpg"
        suffix = "" if self.variant == "file" else "-thumbnail"
        try:
            stored = storage.open(name, "rb")
        except FileNotFoundError as exc:  # lost from the storage: say so, not a 500
            raise ApiError(
                status.HTTP_404_NOT_FOUND, "not_found", _("the photo's file is missing")
            ) from exc
        response = FileResponse(
            stored,
            content_type=content_type,
            filename=f"photo-{photo.pk}{suffix}.{extension}",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class PhotoImageView(_PhotoBytesView):
    variant = "file"

    @extend_schema(operation_id="photos_image", **_bytes_schema("image"))
    def get(self, request: Request, pk: int) -> Any:
        return super().get(request, pk)


class PhotoThumbnailView(_PhotoBytesView):
    variant = "thumbnail"

    @extend_schema(operation_id="photos_thumbnail", **_bytes_schema("thumbnail"))
    def get(self, request: Request, pk: int) -> Any:
        return super().get(request, pk)
