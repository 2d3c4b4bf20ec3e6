"""One sane range for every date the API accepts.

A plan for 0001-01-01 or 9999-12-27, a report "occurred" in the year 219, a
crew absence over a whole century: each parsed fine and then misled the
planner or the people reading it. Every date and time the API takes goes
through these fields (model serializers map their date fields here in
:class:`api.apps.ApiConfig`), so a nonsense value is a 400 naming the field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers

FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2099, 12, 31)


def check_date(value: dt.date) -> dt.date:
    """``value`` if it lies in the sane range, else a validation error saying which."""
    if not FIRST_DATE <= value <= LAST_DATE:
        raise serializers.ValidationError(
            f"must be between {FIRST_DATE.isoformat()} and {LAST_DATE.isoformat()}"
        )
    return value


class SaneDateField(serializers.DateField):
    def to_internal_value(self, value: Any) -> dt.date:
        return check_date(super().to_internal_value(value))


class SaneDateTimeField(serializers.DateTimeField):
    def to_internal_value(self, value: Any) -> dt.datetime:
        parsed = super().to_internal_value(value)
        check_date(parsed.date())
        return parsed
