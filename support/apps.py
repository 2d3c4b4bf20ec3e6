from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupportConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "support"
    verbose_name = _("Support desk")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the search index to site writes)
