"""The REST API under ``/api/v1/``. Each area has its own URL module."""

from django.urls import include, path

from . import auth_views, views

app_name = "api"

urlpatterns = [
    path("health/", views.health, name="health"),
    path("auth/login/", auth_views.LoginView.as_view(), name="login"),
    path("auth/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("auth/me/", auth_views.MeView.as_view(), name="me"),
    path("auth/tokens/", auth_views.TokenListView.as_view(), name="tokens"),
    path("auth/tokens/<int:pk>/", auth_views.TokenDetailView.as_view(), name="token-detail"),
    path("auth/tokens/<int:pk>/rotate/", auth_views.TokenRotateView.as_view(), name="token-rotate"),
    path("", include("api.crud.urls")),
    path("", include("api.calendars.urls")),
    path("", include("api.planning.urls")),
    path("", include("api.partner.urls")),
    path("", include("api.delivery.urls")),
    path("", include("api.handover.urls")),
    path("", include("api.imports.urls")),
    path("", include("api.support.urls")),
    path("", include("api.audit.urls")),
    path("", include("api.photos.urls")),
]
