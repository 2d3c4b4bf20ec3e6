"""What keeps a job from being planned: the survey and the building's permissions.

A job is *ready* only when its site has a survey and every party the survey
names (customer, management company, owner, neighbouring tenants) has granted
its permission and that permission has not expired. :func:`job_blockers` says
exactly what is missing; the state machine's single writer refuses "ready"
while anything is, and the planner screens such jobs out even if their status
says otherwise (a permission can expire after the job became ready).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core.errors import DomainError
from sites.models import Permission, PermissionParty, PermissionStatus, SiteSurvey

from .models import Job
from .states import JobKind


def party_label(party: str) -> str:
    """The permission party ``party`` as people read it, in the active language."""
    try:
        return str(PermissionParty(party).label)
    except ValueError:
        return party


@dataclass(frozen=True)
class Blocker:
    """One reason a job cannot be planned; ``code`` is stable, ``message`` is for people."""

    code: str
    message: str


def latest_survey(job: Job) -> SiteSurvey | None:
    if job.survey_id is not None:
        return job.survey
    surveys = job.site.surveys.all()  # prefetched by callers that list many jobs
    return max(surveys, key=lambda s: (s.surveyed_on, s.pk), default=None)


def job_blockers(job: Job, *, on: dt.date | None = None) -> list[Blocker]:
    """Everything that keeps ``job`` from being planned on day ``on`` (default: today).

    Maintenance visits raised by support need no survey round; the building
    already has the line.
    """
    if job.kind == JobKind.MAINTENANCE:
        return []
    on = on or timezone.localdate()
    survey = latest_survey(job)
    if survey is None:
        return [Blocker("survey_missing", _("no site survey yet"))]
    if survey.surveyed_on > on:
        scheduled = _("the site survey is scheduled for %(date)s") % {
            "date": survey.surveyed_on.isoformat()
        }
        return [Blocker("survey_missing", scheduled)]
    blockers = []
    permissions: dict[str, list[Permission]] = {}
    for permission in job.site.permissions.all():
        if job.contract_id is None or permission.contract_id in (None, job.contract_id):
            permissions.setdefault(permission.party, []).append(permission)
    for party in survey.needed_parties or []:
        label = party_label(party)
        rows = permissions.get(party, [])
        if any(p.is_valid_on(on) for p in rows):
            continue
        if any(p.status == PermissionStatus.REFUSED for p in rows):
            blockers.append(
                Blocker("permission_refused", _("%(party)s: permission refused") % {"party": label})
            )
        elif any(p.status == PermissionStatus.GRANTED for p in rows):
            blockers.append(
                Blocker("permission_expired", _("%(party)s: permission expired") % {"party": label})
            )
        elif rows:
            requested = min(p.requested_on for p in rows)
            blockers.append(
                Blocker(
                    "permission_pending",
                    _("%(party)s: permission requested on %(date)s")
                    % {"party": label, "date": requested.isoformat()},
                )
            )
        else:
            blockers.append(
                Blocker(
                    "permission_missing",
                    _("%(party)s: permission not requested") % {"party": label},
                )
            )
    return blockers


class JobBlocked(DomainError):
    """A job may not become ready (or be planned) while something blocks it."""

    code = "job_blocked"

    def __init__(self, job: Job, blockers: list[Blocker]) -> None:
        self.job = job
        self.blockers = blockers
        reasons = pgettext("list separator", "; ").join(b.message for b in blockers)
        super().__init__(
            _("%(job)s cannot be planned yet: %(reasons)s")
            % {"job": job.reference, "reasons": reasons},
            job_id=job.pk,
            blockers=self.as_dicts(),
        )

    def as_dicts(self) -> list[dict[str, str]]:
        return [{"code": b.code, "message": b.message} for b in self.blockers]
