"""The admin shows records with a state machine, a version or a ledger, and never writes them.

Even a superuser: a POST that would change a plan's status or move a visit is
refused (403) and changes nothing, while the list and detail pages still render.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from accounts.models import User
from accounts.tokens import token_create
from core.admin_policy import ReadOnlyAdminMixin
from dispatch.models import (
    CalendarFeed,
    CompletionFacts,
    Job,
    JobReport,
    JobStatusChange,
    OptimizationRun,
    Plan,
    PlanChange,
    PlanningBatch,
    PlanStatus,
    Visit,
)
from sites.models import SitePhoto
from tests.factories import make_visit

pytestmark = pytest.mark.django_db

READ_ONLY = [
    Plan,
    Visit,
    Job,
    JobStatusChange,
    JobReport,
    OptimizationRun,
    PlanChange,
    PlanningBatch,
    CalendarFeed,
    CompletionFacts,
    SitePhoto,
]


@pytest.fixture
def superuser() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.mark.parametrize("model", READ_ONLY, ids=lambda model: model.__name__)
def test_service_written_models_are_view_only_in_the_admin(model: type) -> None:
    model_admin = admin.site._registry[model]
    assert isinstance(model_admin, ReadOnlyAdminMixin)


def test_a_superuser_cannot_change_a_plans_status_in_the_admin(superuser: Client) -> None:
    plan = make_visit().plan
    url = reverse("admin:dispatch_plan_change", args=[plan.pk])

    response = superuser.post(
        url,
        {
            "name": plan.name,
            "start_date": plan.start_date.isoformat(),
            "end_date": plan.end_date.isoformat(),
            "status": PlanStatus.PUBLISHED,
        },
    )

    assert response.status_code == 403
    plan.refresh_from_db()
    assert (plan.status, plan.version) == (PlanStatus.DRAFT, 1)


def test_a_superuser_cannot_move_or_delete_a_visit_in_the_admin(superuser: Client) -> None:
    visit = make_visit()
    before = (visit.date, visit.crew_id, visit.planned_start)
    moved = visit.date + dt.timedelta(days=1)

    change = superuser.post(
        reverse("admin:dispatch_visit_change", args=[visit.pk]),
        {"date": moved.isoformat(), "crew": visit.crew_id, "plan": visit.plan_id},
    )
    delete = superuser.post(
        reverse("admin:dispatch_visit_delete", args=[visit.pk]), {"post": "yes"}
    )
    add = superuser.get(reverse("admin:dispatch_visit_add"))

    assert (change.status_code, delete.status_code, add.status_code) == (403, 403, 403)
    visit.refresh_from_db()
    assert (visit.date, visit.crew_id, visit.planned_start) == before


def test_the_list_and_detail_pages_still_render(superuser: Client) -> None:
    visit = make_visit()
    pages = [
        reverse("admin:dispatch_plan_changelist"),
        reverse("admin:dispatch_plan_change", args=[visit.plan_id]),
        reverse("admin:dispatch_visit_changelist"),
        reverse("admin:dispatch_visit_change", args=[visit.pk]),
        reverse("admin:dispatch_job_change", args=[visit.job_id]),
    ] + [
        reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for model in READ_ONLY
    ]

    for page in pages:
        response = superuser.get(page)
        assert response.status_code == 200, page
        assert b'name="_save"' not in response.content, page


def test_a_token_is_revoked_by_the_admin_action_and_cannot_be_unrevoked(
    superuser: Client,
) -> None:
    owner = User.objects.create_user("owner", password="pw")
    token, _ = token_create(user=owner, name="leaked")
    changelist = reverse("admin:accounts_apitoken_changelist")

    response = superuser.post(
        changelist, {"action": "revoke", "_selected_action": [token.pk]}, follow=True
    )

    assert response.status_code == 200
    assert "1 token revoked." in response.content.decode()
    token.refresh_from_db()
    revoked_at = token.revoked_at
    assert revoked_at is not None
    superuser.post(
        reverse("admin:accounts_apitoken_change", args=[token.pk]),
        {"name": "leaked", "user": owner.pk, "revoked_at_0": "", "revoked_at_1": ""},
    )
    token.refresh_from_db()
    assert token.revoked_at == revoked_at
