"""The project's URLs plus the handover API, until ``api/urls.py`` includes it."""

from django.urls import include, path

from api.urls import urlpatterns as api_urlpatterns

urlpatterns = [
    path(
        "api/v1/",
        include(([*api_urlpatterns, path("", include("api.handover.urls"))], "api")),
    ),
]
