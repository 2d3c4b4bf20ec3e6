"""What a customer was promised: preferred dates and an arrival slot, hard or soft.

A job's ``preferred_dates`` and its ``window_start``/``window_end`` (the slot
in which the crew arrives) are either a promise (``promise_is_hard``: the
planner never breaks them) or a wish (breaking it costs, and the plan says
which wishes it could not keep). AM and PM are the two slots customers are
usually offered; any other slot is stored as its times.
"""

from __future__ import annotations

import datetime as dt

TIME_SLOTS: dict[str, tuple[dt.time, dt.time]] = {
    "am": (dt.time(9), dt.time(12)),
    "pm": (dt.time(13), dt.time(17)),
}
"""The named arrival slots: the crew arrives (the visit starts) inside them."""


def slot_name(start: dt.time | None, end: dt.time | None) -> str | None:
    """``"am"``, ``"pm"``, ``"custom"`` for other times, ``None`` without a slot."""
    if start is None or end is None:
        return None
    for name, times in TIME_SLOTS.items():
        if times == (start, end):
            return name
    return "custom"
