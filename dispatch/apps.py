from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "dispatch"

    def ready(self) -> None:
        from django.core import checks

        from .travel import check_travel_settings

        checks.register(check_travel_settings)

        from . import route_stamps  # noqa: F401  (connects the routes' change counters)
