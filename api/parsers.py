"""The API's JSON parser: hostile bodies are a 400 in the one error shape, never a 500.

Python's ``json`` accepts what a Python program then cannot use: arrays nested
thousands deep (``RecursionError`` while decoding or later while validating)
and lone UTF-16 surrogates (``"\\ud800"``, valid JSON escapes that no UTF-8
response can carry, so even the 400 that names the field failed to render).
Both are refused here, before any view sees the data.

Every request body this API documents is a JSON object, so a body that is
``null``, a list, a string or a number is refused too: DRF would otherwise
hand ``None`` to a view whose fields are all optional, and the request
succeeded as if it had sent ``{}``.
"""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

#: Deeper than any body this API takes (the deepest is a plan's weights: 3).
MAX_DEPTH = 32


def _check(value: Any) -> None:
    """Walk ``value`` without recursion; refuse depth and strings UTF-8 cannot encode."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ParseError(f"the JSON body is nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            for key, child in item.items():
                _check_text(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            _check_text(item)


def _check_text(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ParseError(
            "the JSON body contains a character that is not valid Unicode (a lone surrogate)"
        ) from exc


class SafeJSONParser(JSONParser):
    """DRF's JSON parser, plus the refusals above."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(f"the JSON body is nested deeper than {MAX_DEPTH} levels") from exc
        _check(data)
        if not isinstance(data, dict):
            raise ParseError(f"the JSON body must be an object, not {_json_type(data)}")
        return data


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number"
