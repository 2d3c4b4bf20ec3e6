"""Who may do what: one declarative table per view, checked in one place.

A view sets ``roles = {Role.COORDINATOR.value: WRITE, Role.SUPPORT.value: READ}``;
a role that is not listed gets 403, an anonymous caller 401. Which *objects* a role sees is
the view's queryset's job (see ``dispatch.selectors``): another partner's object is
simply not found (404), so existence never leaks.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

READ = "read"
WRITE = "write"


class RolePermission(BasePermission):
    # Lazy: the class is built once at import, the refusal is read in each request's language.
    message = gettext_lazy("your role may not use this endpoint")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        access = getattr(view, "roles", {}).get(getattr(user, "role", None))
        if access is None:
            return False
        return access == WRITE or request.method in SAFE_METHODS


def role_of(request: Request) -> str | None:
    return getattr(request.user, "role", None)
