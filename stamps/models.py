"""One row per named change counter (``routes``, ``routes:2026-12-07``, ``site-search``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ChangeCounter(models.Model):
    """How many committed changes a named part of the data has seen.

    Only ever incremented, so a cache key built from it is never reused for
    other data. Rows are created on their first bump; a missing row reads 0.
    """

    name = models.CharField(_("name"), max_length=64, primary_key=True)
    value = models.BigIntegerField(_("value"), default=0)

    class Meta:
        verbose_name = _("change counter")
        verbose_name_plural = _("change counters")

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
