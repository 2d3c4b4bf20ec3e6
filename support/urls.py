from django.urls import path

from . import inbox_pages, recurring, slot_pages, views

app_name = "support"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("search/", views.search_fragment, name="search"),
    path("sites/<int:pk>/", views.card_fragment, name="card"),
    path("sites/<int:pk>/calls/", views.log_call, name="log-call"),
    path("calls/<int:pk>/amend/", views.amend_call, name="amend-call"),
    path("calls/<int:pk>/book/", views.book_visit, name="book-visit"),
    path("calls/<int:pk>/slots/", slot_pages.slot_offers_page, name="slot-offers"),
    path("calls/<int:pk>/book-slot/", slot_pages.slot_book_page, name="book-slot"),
    path("jobs/<int:pk>/slots/", slot_pages.job_slot_offers_page, name="job-slot-offers"),
    path("jobs/<int:pk>/book-slot/", slot_pages.job_slot_book_page, name="job-book-slot"),
    path("inbox/", inbox_pages.inbox_page, name="inbox"),
    path("inbox/<int:pk>/acknowledge/", inbox_pages.acknowledge, name="inbox-acknowledge"),
    path("inbox/<int:pk>/done/", inbox_pages.done, name="inbox-done"),
    path("recurring/", recurring.recurring_page, name="recurring"),
    path("recurring/export.csv", recurring.recurring_export, name="recurring-export"),
]
