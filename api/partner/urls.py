"""Partner crew endpoints: routes, field reports, calendar feeds, GeoJSON."""

from django.urls import path, re_path

from . import views, webhooks

urlpatterns = [
    path("routes/", views.RoutesView.as_view(), name="routes"),
    path("routes/geojson/", views.RouteGeoJSONView.as_view(), name="routes-geojson"),
    path("jobs/<int:job_id>/reports/", views.JobReportsView.as_view(), name="job-reports"),
    path(
        "crews/<int:crew_id>/calendar-feeds/",
        views.CrewCalendarFeedsView.as_view(),
        name="crew-calendar-feeds",
    ),
    path(
        "calendar-feeds/<int:pk>/",
        views.CalendarFeedDetailView.as_view(),
        name="calendar-feed-detail",
    ),
    # token_urlsafe(32) is 43 characters of [A-Za-z0-9_-]; the range leaves room to grow.
    re_path(
        r"^calendar/(?P<token>[A-Za-z0-9_-]{20,128})\.ics$",
        views.CalendarFeedIcsView.as_view(),
        name="calendar-feed-ics",
    ),
    *webhooks.urlpatterns,
]
