"""Routes of the calendar endpoints under ``/api/v1/``."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("company-closures", views.CompanyClosureViewSet, basename="company-closure")
router.register("partner-closures", views.PartnerClosureViewSet, basename="partner-closure")
router.register("crew-working-days", views.CrewWorkingDayViewSet, basename="crew-working-day")

urlpatterns = [
    path("calendar/", views.CalendarView.as_view(), name="calendar"),
    *router.urls,
]
