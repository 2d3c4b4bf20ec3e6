"""The signature partners verify: HMAC-SHA256 over ``timestamp + "." + body``.

Signing the timestamp with the body lets a receiver refuse a captured request
replayed later (the timestamp is too old) without being able to forge a fresh
one; the event id header lets it drop a duplicate delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SIGNATURE_HEADER = "X-Dispatch-Signature"
TIMESTAMP_HEADER = "X-Dispatch-Timestamp"
EVENT_ID_HEADER = "X-Dispatch-Event-Id"
EVENT_TYPE_HEADER = "X-Dispatch-Event-Type"
ATTEMPT_HEADER = "X-Dispatch-Delivery-Attempt"

#: Scheme tag in the signature header, so the algorithm can change without ambiguity.
SCHEME = "v1"
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` under ``secret``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int | str, body: bytes) -> str:
    return f"{SCHEME}={signature(secret, timestamp, body)}"


def verify(secret: str, timestamp: str, body: bytes, header: str) -> bool:
    """What a receiver does (and the tests): constant-time compare of the ``v1=`` value."""
    expected = signature_header(secret, timestamp, body)
    return any(hmac.compare_digest(expected, part.strip()) for part in header.split(","))
