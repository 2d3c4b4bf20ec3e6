"""IP pools and, under each contract, its address, billing and handover.

Explicit paths under ``contracts/<id>/``: the CRUD router owns
``contracts/`` and ``contracts/<id>/`` and these sub-paths never collide with it.
"""

from django.urls import path

from . import views

urlpatterns = [
    path("ip-pools/", views.IpPoolListView.as_view(), name="ip-pools"),
    path("contracts/<int:contract_id>/ip/", views.ContractIpView.as_view(), name="contract-ip"),
    path(
        "contracts/<int:contract_id>/billing/",
        views.ContractBillingView.as_view(),
        name="contract-billing",
    ),
    path(
        "contracts/<int:contract_id>/handover/",
        views.ContractHandoverView.as_view(),
        name="contract-handover",
    ),
    path("completion-facts/", views.CompletionFactsListView.as_view(), name="completion-facts"),
    path(
        "completion-facts/<int:pk>/",
        views.CompletionFactsDetailView.as_view(),
        name="completion-facts-detail",
    ),
    path(
        "completion-facts/<int:pk>/confirm/",
        views.CompletionFactsConfirmView.as_view(),
        name="completion-facts-confirm",
    ),
    path(
        "completion-facts/<int:pk>/reject/",
        views.CompletionFactsRejectView.as_view(),
        name="completion-facts-reject",
    ),
]
