"""OpenAPI schema tweaks (drf-spectacular post-processing)."""

from __future__ import annotations

from typing import Any

TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$"


def _local_times(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "time":
            # JSON Schema's "time" demands a UTC offset; our times of day are
            # local (access hours, shifts), so say what we really send.
            del node["format"]
            node["pattern"] = TIME_PATTERN
            node.setdefault("example", "08:30:00")
        for value in node.values():
            _local_times(value)
    elif isinstance(node, list):
        for value in node:
            _local_times(value)


def local_time_of_day(result: dict, generator: Any, request: Any, public: bool) -> dict:
    _local_times(result)
    return result


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error the API returns (api/errors.py).",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string", "description": "Stable; clients switch on it."},
                "message": {"type": "string", "description": "For people."},
                "fields": {
                    "type": "object",
                    "description": "Each offending input field and its messages.",
                    "additionalProperties": {"type": "array", "items": {}},
                },
            },
            # 409s add what the caller needs to decide (conflicts, blockers, rule...).
            "additionalProperties": True,
        }
    },
}

ERROR_DESCRIPTIONS = {
    "400": "The request is not valid: `fields` says which input and why.",
    "401": "Not signed in, or the token is unknown, revoked or expired.",
    "403": "Signed in, but this role or company may not do this.",
    "404": "No such object (or not visible to the caller), or no such page.",
    "405": "The method is not allowed here.",
    "406": "The requested content type cannot be produced.",
    "409": "Conflicts with the current state: `code` says which (stale version, "
    "schedule conflict, illegal transition, object in use...).",
    "412": "`If-Match` names an older version: reload and apply the change again.",
    "413": "The request body is too large.",
    "415": "The request body's content type is not accepted.",
    "429": "Too many requests: retry after the `Retry-After` header's seconds.",
    "503": "The database or the job queue is unavailable for a moment: retry shortly.",
}
WRITE_METHODS = {"post", "put", "patch", "delete"}
BODY_METHODS = {"post", "put", "patch"}


def _error_codes(method: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses an operation can answer, given how api/errors.py maps failures."""
    codes = ["401", "403", "404", "405", "406", "429", "503"]
    if method in BODY_METHODS or operation.get("parameters"):
        codes.append("400")
    if method in WRITE_METHODS:
        codes += ["409", "412"]
    if method in BODY_METHODS:
        codes += ["413", "415"]
    return sorted(codes)


def document_errors(result: dict, generator: Any, request: Any, public: bool) -> dict:
    """Document the one error shape under every status each operation can answer.

    drf-spectacular documents success answers only; clients (and schemathesis'
    status-code check) need the failures too. Responses an operation documents
    itself (e.g. 409 ``handover_blocked`` with its ``blockers``) are kept.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error_content = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for code in _error_codes(method, operation):
                responses.setdefault(
                    code, {"description": ERROR_DESCRIPTIONS[code], "content": error_content}
                )
    return result


def error_responses(
    serializer: Any, descriptions: dict[int, str], codes: tuple[int, ...], *, media_type: str = ""
) -> dict[Any, Any]:
    """``responses={...}`` entries for an endpoint's error codes, in the one error shape.

    Each API module keeps its own words for what a 400 or a 409 means there;
    the shape of the entries is the same everywhere. ``media_type`` keys them
    by ``(code, media_type)`` for endpoints whose success is not JSON.
    """
    from drf_spectacular.utils import OpenApiResponse

    return {
        ((code, media_type) if media_type else code): OpenApiResponse(
            serializer, description=descriptions[code]
        )
        for code in codes
    }
