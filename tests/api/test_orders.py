"""/api/v1/orders/ and /api/v1/jobs/{id}/blockers/: what the delivery teams look at."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.api.conftest import Cast

pytestmark = pytest.mark.django_db

Client = Callable[[User | None], APIClient]


def test_coordinators_and_support_see_open_orders_with_stage_counts(
    cast: Cast, client_for: Client
) -> None:
    from tests.factories import make_contract

    contract = make_contract(delivery_team=2)
    cast.job_a.contract = contract
    cast.job_a.save()
    contract.sites.add(cast.job_a.site)
    for user in (cast.coordinator, cast.support):
        body = client_for(user).get("/api/v1/orders/").json()
        assert body["count"] == 1
        order = body["results"][0]
        assert (order["contract_id"], order["stage"], order["team"]) == (
            contract.contract_id,
            "planned",
            2,
        )
        assert order["blocker"].startswith("planned for 2026-11-30")
        assert body["stages"]["planned"] == 1


def test_bad_filters_are_400_naming_the_field(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    assert set(client.get("/api/v1/orders/?team=9").json()["error"]["fields"]) == {"team"}
    assert set(client.get("/api/v1/orders/?stage=done").json()["error"]["fields"]) == {"stage"}


def test_partners_cannot_see_the_order_view(cast: Cast, client_for: Client) -> None:
    assert client_for(cast.partner_a).get("/api/v1/orders/").status_code == 403


def test_job_blockers_say_exactly_what_is_missing(cast: Cast, client_for: Client) -> None:
    survey = cast.job_a.site.surveys.get()
    survey.needed_parties = ["owner"]
    survey.save()
    body = client_for(cast.coordinator).get(f"/api/v1/jobs/{cast.job_a.pk}/blockers/").json()
    assert body["plannable"] is False
    assert body["blockers"] == [
        {"code": "permission_missing", "message": "Building owner: permission not requested"}
    ]


def test_forcing_a_blocked_job_to_ready_through_the_api_is_refused(
    cast: Cast, client_for: Client
) -> None:
    survey = cast.job_b.site.surveys.get()
    survey.needed_parties = ["management"]
    survey.save()
    type(cast.job_b).objects.filter(pk=cast.job_b.pk).update(status="awaiting_permission")
    response = client_for(cast.coordinator).post(
        f"/api/v1/jobs/{cast.job_b.pk}/transition/", {"status": "ready"}
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "job_blocked"
    assert error["blockers"][0]["code"] == "permission_missing"


def test_estimating_a_job_from_its_survey(cast: Cast, client_for: Client) -> None:
    survey = cast.job_a.site.surveys.get()
    survey.conduit_status = "none"
    survey.save()
    client = client_for(cast.coordinator)
    preview = client.get(f"/api/v1/surveys/{survey.pk}/estimate/?kind=new_line").json()
    assert preview["duration_minutes"] == 210
    applied = client.post(f"/api/v1/jobs/{cast.job_a.pk}/estimate/", {"survey": survey.pk})
    assert applied.status_code == 200
    assert applied.json()["duration_minutes"] == 210
    no_note = client.post(
        f"/api/v1/jobs/{cast.job_a.pk}/estimate/", {"survey": survey.pk, "override_minutes": 300}
    )
    assert no_note.status_code == 400
    assert "override_note" in no_note.json()["error"]["fields"]
