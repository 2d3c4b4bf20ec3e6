from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = _("Webhooks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Signals, not calls from dispatch: dispatch sits below this app in the
        # layers (tests/test_layers.py) and must not import it.
        from . import receivers

        receivers.connect()
