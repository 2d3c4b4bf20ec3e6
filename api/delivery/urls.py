from django.urls import path

from . import views

urlpatterns = [
    path("orders/", views.OrdersView.as_view(), name="orders"),
    path("jobs/<int:pk>/blockers/", views.JobBlockersView.as_view(), name="job-blockers"),
    path("jobs/<int:pk>/estimate/", views.JobEstimateView.as_view(), name="job-estimate"),
    path("surveys/<int:pk>/estimate/", views.SurveyEstimateView.as_view(), name="survey-estimate"),
]
