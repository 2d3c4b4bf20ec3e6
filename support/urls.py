from django.urls import path

from . import recurring, views

app_name = "support"

urlpatterns = [
    path("", views.desk, name="desk"),
    path("search/", views.search_fragment, name="search"),
    path("sites/<int:pk>/", views.card_fragment, name="card"),
    path("sites/<int:pk>/calls/", views.log_call, name="log-call"),
    path("calls/<int:pk>/amend/", views.amend_call, name="amend-call"),
    path("calls/<int:pk>/book/", views.book_visit, name="book-visit"),
    path("recurring/", recurring.recurring_page, name="recurring"),
    path("recurring/export.csv", recurring.recurring_export, name="recurring-export"),
]
