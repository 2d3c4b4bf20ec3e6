"""A site survey estimates the job: its duration and required skills, with reasons.

The estimate is a base duration per kind of job plus what every matching
rule of the :class:`~dispatch.models.EstimateRule` table adds. Coordinators
edit the table in the admin; the reasons travel with the estimate so nobody
has to guess why a job was planned for four hours.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from django.db import transaction

from sites.models import SiteSurvey

from .models import EstimateRule, Job, Skill
from .states import JobKind

#: Minutes of a job of each kind before the survey's findings add to it.
BASE_MINUTES: dict[str, int] = {
    JobKind.NEW_LINE: 120,
    JobKind.RELOCATION: 150,
    JobKind.PLAN_CHANGE: 60,
    JobKind.MAINTENANCE: 60,
}
#: Skills every job of a kind needs, whatever the survey says.
BASE_SKILLS: dict[str, tuple[str, ...]] = {
    JobKind.NEW_LINE: ("fibre_splicing",),
    JobKind.RELOCATION: ("fibre_splicing",),
}
MIN_MINUTES, MAX_MINUTES = 30, 8 * 60


@dataclass(frozen=True)
class EstimateLine:
    rule: str
    reason: str
    minutes: int
    skill: str | None


@dataclass(frozen=True)
class Estimate:
    duration_minutes: int
    skills: tuple[str, ...]
    base_minutes: int
    lines: tuple[EstimateLine, ...] = field(default=())

    def as_dict(self) -> dict:
        return {
            "duration_minutes": self.duration_minutes,
            "skills": list(self.skills),
            "base_minutes": self.base_minutes,
            "lines": [asdict(line) for line in self.lines],
        }


def _survey_value(survey: SiteSurvey, kind: str, name: str) -> object:
    if name == EstimateRule.Field.FLOORS:
        return survey.site.floors
    if name == EstimateRule.Field.JOB_KIND:
        return kind
    return getattr(survey, name)


def rule_matches(rule: EstimateRule, value: object) -> bool:
    """Whether ``value`` (a survey's field) satisfies ``rule``. Unknown values never match."""
    if value is None:
        return False
    if rule.operator == EstimateRule.Operator.IS_TRUE:
        return bool(value)
    if rule.operator == EstimateRule.Operator.EQUALS:
        return str(value) == rule.value
    try:
        number, threshold = float(str(value)), float(rule.value)
    except ValueError:
        return False
    if rule.operator == EstimateRule.Operator.AT_LEAST:
        return number >= threshold
    return number > threshold


def survey_estimate(
    *, survey: SiteSurvey, kind: str, rules: list[EstimateRule] | None = None
) -> Estimate:
    """Estimate a job of ``kind`` at the surveyed site from the active rule table."""
    if rules is None:
        rules = list(EstimateRule.objects.filter(is_active=True).select_related("add_skill"))
    base = BASE_MINUTES.get(kind, 120)
    lines = []
    skills = list(BASE_SKILLS.get(kind, ()))
    for rule in rules:
        if not rule_matches(rule, _survey_value(survey, kind, rule.field)):
            continue
        skill = rule.add_skill.code if rule.add_skill else None
        lines.append(EstimateLine(rule.name, rule.reason, rule.add_minutes, skill))
        if skill and skill not in skills:
            skills.append(skill)
    minutes = base + sum(line.minutes for line in lines)
    return Estimate(
        duration_minutes=max(MIN_MINUTES, min(MAX_MINUTES, minutes)),
        skills=tuple(sorted(skills)),
        base_minutes=base,
        lines=tuple(lines),
    )


@transaction.atomic
def job_apply_estimate(
    *,
    job: Job,
    survey: SiteSurvey,
    override_minutes: int | None = None,
    override_note: str = "",
) -> Job:
    """Set the job's duration and skills from the survey (or the coordinator's override).

    An override needs a note: the next coordinator should know why the
    numbers differ from what the survey suggests. The survey's parking
    arrangement flows into the job when the job has none of its own; its access
    hours stay on the survey, where the planner reads them
    (:func:`dispatch.problem.access_of`).
    """
    if override_minutes is not None and not override_note.strip():
        raise ValueError("an override needs a note saying why")
    estimate = survey_estimate(survey=survey, kind=job.kind)
    job.survey = survey
    job.estimate = estimate.as_dict()
    job.duration_minutes = override_minutes or estimate.duration_minutes
    job.duration_override_note = override_note.strip() if override_minutes else ""
    if not job.parking_arrangement and survey.parking_arrangement:
        job.parking_arrangement = survey.parking_arrangement
    job.version += 1
    job.save()
    job.required_skills.set(Skill.objects.filter(code__in=estimate.skills))
    return job
