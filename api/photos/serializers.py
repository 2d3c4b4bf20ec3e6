"""Photos' request and answer shapes (``/api/v1/photos/``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from sites.models import PhotoKind, SitePhoto

CAPTION_MAX_LENGTH = 300


class PhotoUploadSerializer(serializers.Serializer):
    """The multipart form of an upload."""

    job = serializers.IntegerField(
        min_value=1,
        help_text=(
            "The job the photo was taken on. Partners: one of their crews has a visit of "
            "it on the live schedule (or reported not finished) dated from "
            "PHOTO_UPLOAD_DAYS_AFTER_VISIT days ago (default 14) to today."
        ),
    )
    kind = serializers.ChoiceField(choices=PhotoKind.choices)
    caption = serializers.CharField(
        max_length=CAPTION_MAX_LENGTH, allow_blank=True, required=False, default=""
    )
    file = serializers.FileField(
        allow_empty_file=False,
        help_text=(
            "A JPEG, PNG or WebP image (recognised by its content), at most PHOTO_MAX_BYTES "
            "(default 10 MB), 64 to 12,000 px a side and 50 megapixels."
        ),
    )


class PhotoListQuerySerializer(serializers.Serializer):
    site = serializers.IntegerField(min_value=1, required=False, help_text="Only this site's.")
    job = serializers.IntegerField(min_value=1, required=False, help_text="Only this job's.")


class PhotoSerializer(serializers.ModelSerializer):
    """A stored photo; ``url`` and ``thumbnail_url`` answer the bytes to who may see them."""

    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    bytes = serializers.IntegerField(read_only=True, help_text="Size of the stored image.")

    class Meta:
        model = SitePhoto
        fields = [
            "id",
            "job",
            "site",
            "kind",
            "caption",
            "width",
            "height",
            "bytes",
            "url",
            "thumbnail_url",
            "taken_at",
            "uploaded_by",
            "created_at",
        ]
        read_only_fields = fields

    def _absolute(self, name: str, photo: SitePhoto) -> str:
        path = reverse(f"api:{name}", kwargs={"pk": photo.pk})
        request: Any = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, photo: SitePhoto) -> str:
        return self._absolute("photo-image", photo)

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, photo: SitePhoto) -> str:
        return self._absolute("photo-thumbnail", photo)
