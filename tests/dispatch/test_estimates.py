"""The survey estimates the job from the editable rule table, and says why."""

from __future__ import annotations

import pytest

from dispatch.estimates import BASE_MINUTES, job_apply_estimate, survey_estimate
from dispatch.models import EstimateRule
from dispatch.states import JobKind
from sites.models import ConduitStatus, Parking
from tests.factories import make_job, make_site, make_skill, make_survey

pytestmark = pytest.mark.django_db


def test_an_easy_site_gets_the_base_duration_of_its_kind() -> None:
    survey = make_survey(make_site(floors=3), conduit_status=ConduitStatus.AVAILABLE)
    estimate = survey_estimate(survey=survey, kind=JobKind.NEW_LINE)
    assert estimate.duration_minutes == BASE_MINUTES[JobKind.NEW_LINE]
    assert estimate.lines == ()
    assert estimate.skills == ("fibre_splicing",)


def test_no_conduit_adds_time_and_a_cabling_skill_with_the_reason() -> None:
    survey = make_survey(make_site(floors=3), conduit_status=ConduitStatus.NONE)
    estimate = survey_estimate(survey=survey, kind=JobKind.NEW_LINE)
    assert estimate.duration_minutes == BASE_MINUTES[JobKind.NEW_LINE] + 90
    assert "riser_cabling" in estimate.skills
    assert [line.rule for line in estimate.lines] == ["No conduit in shared areas"]
    assert "no conduit" in estimate.lines[0].reason


def test_distance_rules_stack_and_thresholds_are_strict() -> None:
    site = make_site(floors=3)
    at_500 = survey_estimate(
        survey=make_survey(site, distance_to_base_station_m=500), kind=JobKind.NEW_LINE
    )
    over_1000 = survey_estimate(
        survey=make_survey(site, distance_to_base_station_m=1200), kind=JobKind.NEW_LINE
    )
    assert at_500.lines == ()
    assert [line.minutes for line in over_1000.lines] == [30, 30]


def test_coordinators_edit_the_table_and_the_next_estimate_follows() -> None:
    survey = make_survey(make_site(floors=25), complexity="high")
    before = survey_estimate(survey=survey, kind=JobKind.PLAN_CHANGE).duration_minutes
    EstimateRule.objects.filter(name="Tall building").update(add_minutes=60)
    EstimateRule.objects.filter(name="High complexity").update(is_active=False)
    after = survey_estimate(survey=survey, kind=JobKind.PLAN_CHANGE).duration_minutes
    assert after == before + 40 - 30


def test_a_rule_on_the_kind_of_job() -> None:
    EstimateRule.objects.create(
        name="Relocations remove the old line",
        field="job_kind",
        operator="eq",
        value=JobKind.RELOCATION,
        add_minutes=45,
        add_skill=make_skill("removal"),
        reason="relocation: the old line is removed too",
    )
    survey = make_survey(make_site(floors=2))
    assert "removal" in survey_estimate(survey=survey, kind=JobKind.RELOCATION).skills
    assert "removal" not in survey_estimate(survey=survey, kind=JobKind.NEW_LINE).skills


def test_applying_the_estimate_sets_duration_skills_and_parking_not_a_time_slot() -> None:
    """The survey's access hours stay the building's; the job's window is the customer's slot."""
    site = make_site(floors=3)
    survey = make_survey(
        site,
        conduit_status=ConduitStatus.NONE,
        access_hours=[{"days": [0, 1, 2, 3, 4], "opens": "09:00", "closes": "17:00"}],
        parking=Parking.TENANT_LOT,
        parking_arrangement="テナント駐車場 B2 No.14 を確保済",
    )
    job = make_job(site=site, duration_minutes=60)
    job_apply_estimate(job=job, survey=survey)
    job.refresh_from_db()
    assert job.duration_minutes == 210
    assert set(job.required_skills.values_list("code", flat=True)) == {
        "fibre_splicing",
        "riser_cabling",
    }
    assert (job.window_start, job.window_end) == (None, None)
    assert job.parking_arrangement.startswith("テナント駐車場")
    assert job.estimate["lines"][0]["reason"].startswith("no conduit")


def test_an_override_keeps_the_estimate_and_needs_a_note() -> None:
    site = make_site(floors=3)
    survey = make_survey(site)
    job = make_job(site=site)
    with pytest.raises(ValueError, match="needs a note"):
        job_apply_estimate(job=job, survey=survey, override_minutes=240)
    job_apply_estimate(
        job=job, survey=survey, override_minutes=240, override_note="old building, slow riser"
    )
    job.refresh_from_db()
    assert job.duration_minutes == 240
    assert job.estimate["duration_minutes"] == BASE_MINUTES[JobKind.NEW_LINE]
    assert job.duration_override_note == "old building, slow riser"
