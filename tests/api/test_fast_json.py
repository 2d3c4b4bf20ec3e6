"""The API's orjson renderer writes exactly the bytes DRF's own JSON renderer writes."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer

from api.renderers import FastJSONRenderer

JST = dt.timezone(dt.timedelta(hours=9))

PAYLOADS: dict[str, Any] = {
    "a route's shapes": {
        "date": dt.date(2026, 12, 7),
        "routes": [
            {
                "crew": {"id": 5, "name": "A1 班", "shift_start": dt.time(8, 30)},
                "stops": [
                    {
                        "planned_start": dt.datetime(2026, 12, 7, 9, 0, tzinfo=JST),
                        "arrival": dt.datetime(2026, 12, 7, 0, 5, 1, 123456, tzinfo=dt.UTC),
                        "naive": dt.datetime(2026, 12, 7, 9, 0, 0, 500),
                        "km": 4.2,
                        "ok": True,
                        "missing": None,
                        "notes": '守衛室で入館証 "quoted" \\ back\tslash\n',
                    }
                ],
            }
        ],
    },
    "types DRF's encoder knows": {
        "amount": decimal.Decimal("12.50"),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "lazy": gettext_lazy("Not found."),
        "took": dt.timedelta(minutes=90),
        "tuple": (1, 2),
        "int keys": {1: "one", 2: "two"},
    },
    "line separators JavaScript cannot hold": {"text": "a\u2028b\u2029c", "emoji": "🙂"},
    "empty": {},
    "a list at the top": [1, "two", 3.5, None],
}


@pytest.mark.parametrize("name", PAYLOADS)
def test_the_bytes_are_drfs(name: str) -> None:
    data = PAYLOADS[name]

    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


def test_indentation_asked_for_is_given_by_drf() -> None:
    data = {"a": [1, 2]}
    media_type = "application/json; indent=2"

    assert FastJSONRenderer().render(data, media_type) == JSONRenderer().render(data, media_type)
    assert b"\n  " in FastJSONRenderer().render(data, media_type)


def test_no_data_is_an_empty_body() -> None:
    assert FastJSONRenderer().render(None) == b""


def test_a_string_utf8_cannot_carry_fails_as_drfs_does() -> None:
    data = {"text": "\ud800"}
    with pytest.raises(UnicodeEncodeError):
        JSONRenderer().render(data)
    with pytest.raises(UnicodeEncodeError):
        FastJSONRenderer().render(data)
