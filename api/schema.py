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
