"""The names people read for the rule codes the planner, the validator and the API use.

Codes (``max_utilization``, ``closed_day``) are stable identifiers for programs;
the week board's queue and refusals show these labels instead, in the
coordinator's language. A code without a label (one added later) falls back
to a readable form of itself, never to the raw identifier.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

RULE_LABELS: dict[str, Promise] = {
    "access": _("Access hours"),
    "capacity": _("Equipment"),
    "capacity_used": _("Crew-days full"),
    "closed_day": _("Closed day"),
    "crew_day_scope": _("Another region's crew-day"),
    "crew_day_taken": _("Crew-day already live"),
    "day": _("Dates"),
    "duplicate": _("Planned twice"),
    "grid": _("Times"),
    "kpi": _("Figures"),
    "location": _("No map position"),
    "locked": _("Locked"),
    "lunch": _("Lunch break"),
    "manual": _("Taken out by hand"),
    "max_jobs": _("Jobs per day"),
    "max_utilization": _("Day too full"),
    "members": _("Crew size"),
    "min_gap": _("Slack between jobs"),
    "not_planned": _("Not planned yet"),
    "not_ready": _("Not ready to plan"),
    "not_worth": _("Not worth its cost"),
    "permission_expired": _("Permission expired"),
    "permission_missing": _("Permission missing"),
    "permission_pending": _("Permission pending"),
    "permission_refused": _("Permission refused"),
    "promise": _("Customer's promise"),
    "returned_from_field": _("Returned from the field"),
    "scheduled_elsewhere": _("Live in another plan"),
    "search": _("No room found"),
    "shift": _("Shift hours"),
    "skill": _("Skills"),
    "survey_missing": _("Survey missing"),
    "travel": _("Travel times"),
    "unknown": _("Unknown job or crew"),
    "window": _("Time window"),
}


def rule_label(code: str) -> str:
    """The label of ``code`` in the active language (``max_jobs`` → "Jobs per day")."""
    label = RULE_LABELS.get(code)
    if label is not None:
        return str(label)
    return code.replace("_", " ").capitalize()
