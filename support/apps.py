from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _rebuild_stale_search_entries(sender: AppConfig, **kwargs: Any) -> None:
    """After ``migrate``: entries written by older indexing rules are rebuilt."""
    from django.db import connections

    from .indexing import site_search_reindex_stale
    from .models import SiteSearchEntry

    # A migrate that stops short of (or unapplies) this app has no table to read.
    with connections[kwargs.get("using", "default")].cursor() as cursor:
        tables = connections[kwargs.get("using", "default")].introspection.table_names(cursor)
    if SiteSearchEntry._meta.db_table in tables:
        site_search_reindex_stale()


class SupportConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "support"
    verbose_name = _("Support desk")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the search index to site writes)

        post_migrate.connect(_rebuild_stale_search_entries, sender=self)
