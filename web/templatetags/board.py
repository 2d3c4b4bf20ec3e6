"""Template helpers of the planning pages: number formats and the board cell."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from dispatch.board import Cell, QueueItem

from .. import rules
from ..cells import Labels, cell_html
from ..formats import css_pct, delta, hm, pct

register = template.Library()
register.filter("hm", hm)
register.filter("pct", pct)
register.filter("css_pct", css_pct)
register.filter("delta", delta)


@register.filter
def returned_count(queue: list[QueueItem]) -> int:
    """How many queued jobs came back from the field."""
    return sum(1 for item in queue if item.job.is_returned_from_field)


@register.simple_tag(takes_context=True)
def board_cell(context: template.Context, cell: Cell, editable: bool) -> SafeString:
    """One crew-day cell; the labels are translated once per page, not once per cell."""
    labels = context.render_context.get("board_labels")
    if labels is None:
        labels = context.render_context["board_labels"] = Labels.current()
    return mark_safe(cell_html(cell, editable, labels))


@register.filter
def rule_label(code: str) -> str:
    """A rule code as the coordinator reads it (see :mod:`web.rules`)."""
    return rules.rule_label(code)
