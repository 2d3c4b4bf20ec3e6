"""Optimistic concurrency for REST updates: ETag on reads, If-Match on writes.

A coordinator who edits a crew that someone else changed a second ago must
not silently overwrite that change. Detail responses carry an ``ETag`` (a hash
of the representation); a ``PUT``/``PATCH``/``DELETE`` that sends ``If-Match``
with an older tag answers 412 and writes nothing. The check and the write
happen under one row lock, so two writers holding the same tag cannot both win.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from .errors import ApiError


def etag_of(data: Any) -> str:
    payload = json.dumps(data, sort_keys=True, default=str).encode()
    return '"' + hashlib.sha256(payload).hexdigest()[:32] + '"'


class ETagMixin:
    """For ``ModelViewSet`` subclasses: ETag on retrieve, If-Match checked on writes."""

    def _etag(self, instance: Any) -> str:
        return etag_of(self.get_serializer(instance).data)  # type: ignore[attr-defined]

    def _locked_object(self) -> Any:
        instance = self.get_object()  # type: ignore[attr-defined]  # scoping and 404 first
        return type(instance).objects.select_for_update().get(pk=instance.pk)

    def _check_if_match(self, request: Request, instance: Any) -> None:
        wanted = request.headers.get("If-Match")
        if not wanted or wanted.strip() == "*":
            return
        current = self._etag(instance)
        tags = {tag.strip().removeprefix("W/") for tag in wanted.split(",")}
        if current not in tags:
            raise ApiError(
                status.HTTP_412_PRECONDITION_FAILED,
                "precondition_failed",
                _("the resource changed since you read it; reload it and apply your change again"),
                current_etag=current,
            )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        response = super().retrieve(request, *args, **kwargs)  # type: ignore[misc]
        response["ETag"] = etag_of(response.data)
        return response

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        partial = kwargs.pop("partial", False)
        with transaction.atomic():
            instance = self._locked_object()
            self._check_if_match(request, instance)
            serializer = self.get_serializer(instance, data=request.data, partial=partial)  # type: ignore[attr-defined]
            serializer.is_valid(raise_exception=True)
            self.perform_update(serializer)  # type: ignore[attr-defined]
        response = Response(serializer.data)
        response["ETag"] = etag_of(serializer.data)
        return response

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        with transaction.atomic():
            instance = self._locked_object()
            self._check_if_match(request, instance)
            self.perform_destroy(instance)  # type: ignore[attr-defined]
        return Response(status=status.HTTP_204_NO_CONTENT)
