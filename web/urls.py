from django.contrib.auth import views as auth_views
from django.urls import path

from . import batches, board, calendars, crew, facts, imports, password_reset, slots, views

app_name = "web"

urlpatterns = [
    path("", board.home, name="home"),
    path("orders/", views.orders, name="orders"),
    path("crew/", crew.crew_day, name="crew"),
    path("crew/sw.js", crew.crew_service_worker, name="crew-sw"),
    path("plans/", board.plans, name="plans"),
    path("plans/<int:pk>/", board.board, name="board"),
    path("slots/<int:pk>/confirm/", slots.confirm_slot, name="confirm-slot"),
    path("plans/<int:pk>/fragment/", board.board_fragment, name="board-fragment"),
    path("plans/<int:pk>/queue/", board.queue, name="board-queue"),
    path("plans/<int:pk>/publish-summary/", board.publish_summary, name="publish-summary"),
    path("plans/<int:pk>/map.json", board.map_data, name="board-map"),
    path("runs/<int:pk>/progress/", board.run_progress, name="run-progress"),
    path("imports/", imports.imports, name="imports"),
    path("facts/", facts.facts_list, name="facts"),
    path("facts/<int:pk>/decide/", facts.facts_decide, name="facts-decide"),
    path("calendar/", calendars.calendar, name="calendar"),
    path("calendar/<slug:kind>/", calendars.calendar_add, name="calendar-add"),
    path(
        "calendar/<slug:kind>/<int:pk>/delete/", calendars.calendar_delete, name="calendar-delete"
    ),
    path("batches/", batches.batch_list, name="batches"),
    path("batches/start/", batches.batch_start, name="batch-start"),
    path("batches/<int:pk>/", batches.batch_detail, name="batch"),
    path("batches/<int:pk>/publish/", batches.batch_publish_all, name="batch-publish"),
    path("jobs/<int:pk>/drawer/", board.job_drawer, name="job-drawer"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "password-reset/",
        password_reset.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "password-reset/sent/",
        password_reset.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        password_reset.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        password_reset.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
