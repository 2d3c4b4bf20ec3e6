"""The REST API under ``/api/v1/`` (grown by the API issue)."""

from django.urls import path

from . import views

app_name = "api"

urlpatterns = [
    path("health/", views.health, name="health"),
]
