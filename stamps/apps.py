"""Django app: the change counters table (no project imports, so every layer may use it)."""

from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StampsConfig(AppConfig):
    name = "stamps"
    verbose_name = _("Change stamps")
    default_auto_field = "django.db.models.BigAutoField"
