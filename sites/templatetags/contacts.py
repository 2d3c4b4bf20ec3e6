"""Template filters that show postal codes and phone numbers as people write them.

Postal codes are stored as 7 digits and phone numbers in the national form
(older rows as typed); pages show ``〒160-0004`` and ``03-5259-3118`` through
:mod:`sites.normalize`, so the drawer, the support card and the order page
print one spelling.
"""

from __future__ import annotations

from django import template

from sites.normalize import format_phone, format_postal_code

register = template.Library()


@register.filter
def postal_code(value: str | None) -> str:
    """``1600004`` -> ``〒160-0004``; empty stays empty."""
    return format_postal_code(value) if value else ""


@register.filter
def phone(value: str | None) -> str:
    """``0352593118`` -> ``03-5259-3118``; what is no valid number is shown as stored."""
    return format_phone(value) if value else ""
