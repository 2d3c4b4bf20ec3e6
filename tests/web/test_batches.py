"""The "Optimize all regions" button, the batch page and its "Publish all" button."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import Role
from dispatch.ledger import ledger_problems
from dispatch.models import Plan, PlanningBatch, PlanStatus
from dispatch.tasks import optimize_plan
from sites.models import Region
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_job, make_site, make_user

pytestmark = pytest.mark.django_db


def client_as(role: str, **fields: object) -> Client:
    client = Client()
    client.force_login(make_user(role, **fields))
    return client


@pytest.fixture
def coordinator() -> Client:
    return client_as(Role.COORDINATOR)


@pytest.fixture
def two_regions(world: World) -> World:
    saitama = Region.objects.create(code="saitama", name="Saitama")
    world.company.regions.add(saitama)
    make_job(site=make_site(region=saitama, latitude=35.906, longitude=139.624), status="ready")
    return world


def test_the_plans_page_has_the_button(coordinator: Client) -> None:
    page = coordinator.get("/plans/").content.decode()
    assert 'action="/batches/start/"' in page and "Optimize all regions" in page


def test_the_button_starts_a_batch_that_links_to_its_plans_and_publishes_them_all(
    two_regions: World, coordinator: Client
) -> None:
    response = coordinator.post(
        "/batches/start/", {"start_date": str(MONDAY), "days": "5", "time_limit_seconds": "1"}
    )
    batch = PlanningBatch.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/batches/{batch.pk}/"
    plans = list(Plan.objects.filter(runs__batch=batch))
    assert len(plans) == 2

    optimizing = coordinator.get(f"/batches/{batch.pk}/").content.decode()
    assert 'http-equiv="refresh"' in optimizing and "Publish all" not in optimizing
    for run in batch.runs.all():
        optimize_plan(run.pk)

    page = coordinator.get(f"/batches/{batch.pk}/").content.decode()
    for plan in plans:
        assert f'href="/plans/{plan.pk}/"' in page
    assert "Publish all" in page and 'http-equiv="refresh"' not in page

    published = coordinator.post(f"/batches/{batch.pk}/publish/", follow=True)
    assert published.status_code == 200
    assert "Plans published: 2." in published.content.decode()
    assert Plan.objects.filter(status=PlanStatus.PUBLISHED).count() == 2
    assert ledger_problems() == []
    listing = coordinator.get("/batches/").content.decode()
    assert f'href="/batches/{batch.pk}/"' in listing


def test_a_bad_date_goes_back_to_the_plans_page_with_the_reason(coordinator: Client) -> None:
    response = coordinator.post("/batches/start/", {"start_date": "soon", "days": "5"}, follow=True)
    assert response.redirect_chain[-1][0] == "/plans/"
    assert "Enter the first day as a date" in response.content.decode()
    assert not PlanningBatch.objects.exists()


@pytest.mark.parametrize("role", [Role.SUPPORT, Role.PARTNER])
def test_only_coordinators_use_the_batch_pages(world: World, role: str) -> None:
    extra = {"partner_company": world.company} if role == Role.PARTNER else {}
    client = client_as(role, **extra)
    batch = PlanningBatch.objects.create(start_date=MONDAY, end_date=MONDAY)
    assert client.post("/batches/start/", {"start_date": str(MONDAY)}).status_code == 403
    assert client.get(f"/batches/{batch.pk}/").status_code == 403
    assert client.get("/batches/").status_code == 403
    assert client.post(f"/batches/{batch.pk}/publish/").status_code == 403
    assert not Plan.objects.exists()
