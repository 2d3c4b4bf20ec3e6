"""The planning API writes reasons and refusals in the request's language.

``Accept-Language: ja`` gets Japanese ``message``s, anything else English;
``rule`` stays the code programs switch on and ``params`` the raw values.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch import texts
from dispatch.models import Plan, Skill, Visit
from dispatch.plans import plan_revise
from tests.api.conftest import MONDAY, Cast
from tests.factories import make_crew

pytestmark = pytest.mark.django_db

Client = Callable[[User | None], APIClient]

MEMBERS = {"rule": "members", "template": "no crew with the skills has {members} members"}


@pytest.fixture
def plan_with_a_reason(cast: Cast) -> Plan:
    plan = cast.plan
    plan.unassigned = [
        {
            "job_id": cast.job_a.pk,
            "reference": cast.job_a.reference,
            "reasons": [
                texts.stored("members", MEMBERS["template"], {"members": 3}),
                {"rule": "shift", "message": "an old row, stored before templates"},
            ],
        }
    ]
    plan.save(update_fields=["unassigned"])
    return plan


def reasons(response: object) -> list[dict]:
    body = response.json()  # type: ignore[attr-defined]
    return body["unassigned"][0]["reasons"]


def test_a_plans_reasons_come_in_japanese_with_accept_language_ja(
    cast: Cast, client_for: Client, plan_with_a_reason: Plan
) -> None:
    response = client_for(cast.coordinator).get(
        f"/api/v1/plans/{plan_with_a_reason.pk}/", HTTP_ACCEPT_LANGUAGE="ja"
    )
    assert response.status_code == 200
    members, old = reasons(response)
    assert members["rule"] == "members"
    assert members["message"] == "必要な技能を持つ班に 3 名以上の班がありません"
    assert members["params"] == {"members": 3}
    assert old == {
        "rule": "shift",
        "message": "an old row, stored before templates",
        "params": {},
    }


def test_a_plans_reasons_come_in_english_without_accept_language(
    cast: Cast, client_for: Client, plan_with_a_reason: Plan
) -> None:
    response = client_for(cast.coordinator).get(f"/api/v1/plans/{plan_with_a_reason.pk}/")
    members, _ = reasons(response)
    assert members["message"] == "no crew with the skills has 3 members"
    assert members["params"] == {"members": 3}


def test_a_refused_move_answers_in_japanese_and_names_the_crew(
    cast: Cast, client_for: Client
) -> None:
    revision = plan_revise(plan=cast.plan)
    skill = cast.crew_a.skills.get()
    Skill.objects.filter(pk=skill.pk).update(name="融着接続", name_en="Splicing")
    cast.job_a.required_skills.add(skill)
    novice = make_crew(company=cast.company_b, name="新人班")
    visit = Visit.objects.get(plan=revision, job_id=cast.job_a.pk)
    client = client_for(cast.coordinator)
    path = f"/api/v1/visits/{visit.pk}/move/"
    body = {"crew": novice.pk, "date": str(MONDAY)}

    japanese = client.post(path, body, HTTP_ACCEPT_LANGUAGE="ja")
    english = client.post(path, body)

    assert japanese.status_code == english.status_code == 409
    (violation,) = japanese.json()["error"]["violations"]
    assert violation["rule"] == "skill"
    assert violation["message"] == "新人班 には技能「融着接続」がありません"
    assert violation["params"] == {"crew": "新人班", "skills": [skill.code]}
    assert japanese.json()["error"]["message"] == f"skill: {violation['message']}"
    assert english.json()["error"]["violations"][0]["message"] == (
        "crew 新人班 lacks skill(s) Splicing"
    )
