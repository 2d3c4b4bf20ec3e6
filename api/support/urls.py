from django.urls import path

from . import handoffs, slots, views

urlpatterns = [
    path("support/search/", views.SearchView.as_view(), name="support-search"),
    path("support/sites/<int:pk>/card/", views.SiteCardView.as_view(), name="support-site-card"),
    path("support/calls/", views.CallListView.as_view(), name="support-calls"),
    path("support/calls/<int:pk>/", views.CallDetailView.as_view(), name="support-call"),
    path(
        "support/calls/<int:pk>/amendments/",
        views.CallAmendmentView.as_view(),
        name="support-call-amendments",
    ),
    path(
        "support/calls/<int:pk>/maintenance/",
        views.CallMaintenanceView.as_view(),
        name="support-call-maintenance",
    ),
    path(
        "support/calls/<int:pk>/handoff/acknowledge/",
        handoffs.HandoffAcknowledgeView.as_view(),
        name="support-call-handoff-acknowledge",
    ),
    path(
        "support/calls/<int:pk>/handoff/done/",
        handoffs.HandoffDoneView.as_view(),
        name="support-call-handoff-done",
    ),
    path(
        "support/calls/<int:pk>/slot-offers/",
        slots.CallSlotOffersView.as_view(),
        name="support-call-slot-offers",
    ),
    path(
        "support/calls/<int:pk>/book-slot/",
        slots.CallBookSlotView.as_view(),
        name="support-call-book-slot",
    ),
    path(
        "support/jobs/<int:pk>/slot-offers/",
        slots.JobSlotOffersView.as_view(),
        name="support-job-slot-offers",
    ),
    path(
        "support/jobs/<int:pk>/book-slot/",
        slots.JobBookSlotView.as_view(),
        name="support-job-book-slot",
    ),
    path(
        "support/recurring-issues/",
        views.RecurringIssuesView.as_view(),
        name="support-recurring-issues",
    ),
]
