"""How the planning pages write durations, shares and changes."""

from __future__ import annotations


def hm(minutes: int | float | None) -> str:
    """190 -> "3:10": durations the way a dispatcher reads them."""
    if minutes is None:
        return ""
    sign = "-" if minutes < 0 else ""
    total = abs(round(minutes))
    return f"{sign}{total // 60}:{total % 60:02d}"


def pct(value: float | None) -> str:
    """0.823 -> "82%"."""
    if value is None:
        return ""
    return f"{round(value * 100)}%"


def css_pct(value: float) -> str:
    """A CSS percentage with one decimal, whatever the active locale's decimal mark."""
    return f"{value:.1f}%"


def delta(after: float | int | None, before: float | int | None) -> str:
    """Signed change between two figures, "" when either is missing or nothing changed."""
    if after is None or before is None:
        return ""
    change = round(after - before, 2)
    if change == 0:
        return "±0"
    return f"{change:+g}"
