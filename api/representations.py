"""Answers built once and served many times: cached bytes, a strong ETag, 304 on a match.

A crew's day is read far more often than it changes: at 7 a.m. every crew of
every partner opens it, most of them several times. Its representation is
kept in the cache (Redis in production) under a key that names everything it
depends on, including the change counters of its data
(:mod:`stamps.counters`): when the data changes, the key changes, so an
entry is never served stale and never needs deleting. Entries also expire
after a lifetime (the callers' settings) that bounds the one stale case the
counters leave open (a process dying between its commit and its bump).

The ETag is a hash of the bytes, so it is the same in every web process and
after a restart, and a client that sends ``If-None-Match`` gets ``304 Not
Modified`` with no body. ``Cache-Control`` stays ``private, no-store``
(:mod:`config.cache_control`): no browser or proxy keeps customers' data; a
partner's app that keeps its copy itself sends the tag it got. The cache is
an optimisation only: when it is down, the answer is built as if nothing were
cached.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers

from observability import metrics
from stamps.cache import cached


@dataclass(frozen=True)
class Representation:
    body: bytes
    etag: str
    content_type: str


def etag_of(body: bytes) -> str:
    """A strong ETag: the same bytes give the same tag in every process."""
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def representation(
    *, name: str, key: str, seconds: int, content_type: str, build: Callable[[], bytes]
) -> Representation:
    """The cached answer under ``key``, or ``build()`` kept for ``seconds`` (0: never kept).

    ``key`` must name everything the bytes depend on, change counters included
    (read *before* ``build`` runs). ``name`` labels the hit/miss metric.
    """

    def fresh() -> Representation:
        body = build()
        return Representation(body=body, etag=etag_of(body), content_type=content_type)

    found, hit = cached(key, seconds, fresh)
    metrics.representation_served(name, hit=hit)
    return found


def conditional_response(
    request: HttpRequest, found: Representation, *, vary: tuple[str, ...]
) -> HttpResponseBase:
    """200 with the bytes, or 304 when ``If-None-Match`` names the current ETag."""
    response = HttpResponse(found.body, content_type=found.content_type)
    response["ETag"] = found.etag
    patch_vary_headers(response, vary)
    return get_conditional_response(request, etag=found.etag, response=response) or response
