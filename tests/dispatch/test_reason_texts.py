"""Planner reasons and rule refusals are written in the reader's language.

The plan stores each reason's rule, English message, template and params;
whoever shows it renders it in the active language: Japanese for a Japanese
coordinator (skills by their Japanese names, days as ``12/1 (火)``), English
otherwise, and an old row without a template as the sentence it was stored with.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import translation

import scheduler
from dispatch import texts
from dispatch.editing import RuleViolation, visit_move
from dispatch.models import Job, Plan, PlanStatus, Skill, Visit
from dispatch.runs import plan_request_optimization, run_optimization
from scheduler.phrases import TEMPLATES
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_crew, make_job, make_site, make_skill

pytestmark = pytest.mark.django_db

#: English words that must not be left in a Japanese sentence.
ENGLISH = re.compile(r"[A-Za-z]{3,}")


def optimized(world: World) -> Plan:
    plan = world.plan()
    run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan.refresh_from_db()
    return plan


def reasons_of(plan: Plan, reference: str) -> list[dict]:
    (row,) = [row for row in plan.unassigned if row["reference"] == reference]
    return row["reasons"]


@pytest.fixture
def big_job(world: World) -> Job:
    """A job for three people: both crews of the world have two."""
    site = make_site(region=world.region, latitude=35.693, longitude=139.75)
    job = make_job(site=site, status="ready", duration_minutes=60, members_needed=3)
    return job


def test_a_screened_reason_is_stored_with_its_template_and_raw_params(
    world: World, big_job: Job
) -> None:
    plan = optimized(world)
    (reason,) = reasons_of(plan, big_job.reference)
    assert reason == {
        "rule": "members",
        "message": "no crew with the skills has 3 members",
        "template": "no crew with the skills has {members} members",
        "params": {"members": 3},
    }


def test_a_japanese_coordinator_reads_the_reason_in_japanese(world: World, big_job: Job) -> None:
    plan = optimized(world)
    (reason,) = reasons_of(plan, big_job.reference)
    with translation.override("ja"):
        japanese = texts.render_row(reason)
    with translation.override("en"):
        english = texts.render_row(reason)
    assert japanese == "必要な技能を持つ班に 3 名以上の班がありません"
    assert not ENGLISH.search(japanese)
    assert english == "no crew with the skills has 3 members"


def test_skills_are_named_and_days_dated_in_the_readers_language(world: World) -> None:
    Skill.objects.filter(code="fibre_splicing").update(name="融着接続", name_en="Fibre splicing")
    friday = MONDAY + dt.timedelta(days=4)
    row = {
        "rule": "skill",
        "message": "crew 3 lacks skill(s) fibre_splicing",
        "template": "crew {crew} lacks skill(s) {skills}",
        "params": {"crew": "3", "crew_name": "第1班（佐藤）", "skills": ["fibre_splicing"]},
    }
    day = {"day": 4, "date": friday.isoformat()}
    with translation.override("ja"):
        assert texts.render_row(row) == "第1班（佐藤） には技能「融着接続」がありません"
        assert texts.render("{day} is outside the plan's dates", {"day": day}) == (
            "12/4 (金) は計画の期間外です"
        )
    with translation.override("en"):
        assert texts.render_row(row) == "crew 第1班（佐藤） lacks skill(s) Fibre splicing"
        assert texts.render("{day} is outside the plan's dates", {"day": day}) == (
            "Fri 12/4 is outside the plan's dates"
        )


def test_lists_are_joined_the_way_each_language_writes_them(world: World) -> None:
    make_skill("onu_setup")
    Skill.objects.filter(code="onu_setup").update(name="ONU 設定", name_en="ONU setup")
    Skill.objects.filter(code="fibre_splicing").update(name="融着接続", name_en="Splicing")
    row = {
        "rule": "skill",
        "message": "no crew has the skill(s) fibre_splicing, onu_setup",
        "template": "no crew has the skill(s) {skills}",
        "params": {"skills": ["fibre_splicing", "onu_setup"]},
    }
    with translation.override("ja"):
        assert texts.render_row(row) == "技能「融着接続、ONU 設定」を持つ班がありません"
    with translation.override("en"):
        assert texts.render_row(row) == "no crew has the skill(s) Splicing, ONU setup"


def test_an_old_row_without_a_template_shows_its_stored_message() -> None:
    old = {"rule": "shift", "message": "no single crew-day satisfies all rules at once"}
    with translation.override("ja"):
        assert texts.render_row(old) == "no single crew-day satisfies all rules at once"
        assert texts.localized_row(old)["params"] == {}


def test_every_scheduler_template_is_marked_for_translation_and_translated() -> None:
    assert set(TEMPLATES) <= set(texts.SCHEDULER_TEMPLATES)
    with translation.override("ja"):
        untranslated = [t for t in TEMPLATES if translation.gettext(t) == t]
    assert untranslated == []


def test_a_refused_move_names_the_crew_in_japanese(world: World) -> None:
    plan = optimized(world)
    assert plan.status == PlanStatus.PROPOSED
    novice = make_crew(company=world.company, name="新人班")  # no fibre_splicing
    Skill.objects.filter(code="fibre_splicing").update(name="融着接続")
    visit = Visit.objects.filter(plan=plan, job=world.jobs[0]).get()
    with translation.override("ja"), pytest.raises(RuleViolation) as refused:
        visit_move(visit=visit, crew=novice, date=MONDAY)
    # What the API sends: written when the move was refused, in the request's language.
    (violation,) = refused.value.details["violations"]
    assert violation["rule"] == "skill"
    assert violation["message"] == "新人班 には技能「融着接続」がありません"
    assert violation["params"] == {"crew": "新人班", "skills": ["fibre_splicing"]}
    assert str(refused.value) == "skill: 新人班 には技能「融着接続」がありません"


def test_a_refused_move_in_english_names_the_crew_not_its_id(world: World) -> None:
    plan = optimized(world)
    novice = make_crew(company=world.company, name="Novice")
    Skill.objects.filter(code="fibre_splicing").update(name="融着接続", name_en="Splicing")
    visit = Visit.objects.filter(plan=plan, job=world.jobs[0]).get()
    with translation.override("en"), pytest.raises(RuleViolation) as refused:
        visit_move(visit=visit, crew=novice, date=MONDAY)
    assert refused.value.details["violations"][0]["message"] == (
        "crew Novice lacks skill(s) Splicing"
    )
    assert f"crew {novice.pk}" not in str(refused.value)
    # The English sentence kept for logs names the crew too.
    assert refused.value.violations[0].message == "crew Novice lacks skill(s) fibre_splicing"


def test_a_move_outside_the_plan_is_refused_with_the_date_in_japanese(world: World) -> None:
    plan = optimized(world)
    visit = Visit.objects.filter(plan=plan, job=world.jobs[0]).get()
    with translation.override("ja"), pytest.raises(RuleViolation) as refused:
        visit_move(visit=visit, crew=world.west_crew, date=MONDAY + dt.timedelta(days=7))
    assert refused.value.details["violations"][0]["message"] == "12/7 (月) は計画の期間外です"


def test_a_validator_violation_renders_the_same_in_both_languages_from_its_params() -> None:
    violation = scheduler.Violation.of(
        "max_jobs",
        "{jobs} jobs, at most {max_jobs} a day",
        {
            "jobs": 5,
            "max_jobs": 4,
        },
    )
    with translation.override("ja"):
        assert texts.text_of(violation) == "5 件入っていますが、1日の上限は 4 件です"
    with translation.override("en"):
        assert texts.text_of(violation) == "5 jobs, at most 4 a day" == violation.message
