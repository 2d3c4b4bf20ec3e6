"""``{{ reason|reason_text }}``: a stored planner reason in the page's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from dispatch.texts import render_row

register = template.Library()


@register.filter
def reason_text(reason: Mapping[str, Any]) -> str:
    """The reason's sentence in the active language (its stored message for older rows)."""
    return render_row(reason)
