"""The admin's rule for records whose writes must go through services.

Plans carry a status machine and a version the live schedule and the partners'
change lists depend on; visits, runs, reports, bookings and the like are written
by services that validate, transition and record history together. An admin form
saving such a row directly would skip all of that, so the admin shows them and
nothing more: changes go through the app's pages and API (docs/OPERATIONS.md).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """View-only in the admin: no add, change or delete, even for a superuser."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyTabularInline(ReadOnlyAdminMixin, admin.TabularInline):
    """An inline that lists related records without offering to edit them."""

    extra = 0
    can_delete = False
