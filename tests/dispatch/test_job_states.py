"""The job state machine: every allowed move works and is recorded; others are refused."""

from __future__ import annotations

import pytest

from dispatch.models import JobStatusChange
from dispatch.services import job_transition
from dispatch.states import (
    FIXED_STATUSES,
    TERMINAL_STATUSES,
    TRANSITIONS,
    JobKind,
    JobStatus,
    TransitionError,
    allowed_targets,
    check_transition,
)
from tests.factories import make_job, make_user

pytestmark = pytest.mark.django_db

S = JobStatus
ALLOWED = sorted((src, dst) for src, targets in TRANSITIONS.items() for dst in targets)
FORBIDDEN = [
    (S.NEW, S.SCHEDULED),  # no planning before survey and permissions
    (S.NEW, S.READY),  # only maintenance may skip the survey
    (S.AWAITING_PERMISSION, S.SCHEDULED),
    (S.SURVEYED, S.DISPATCHED),
    (S.READY, S.COMPLETED),  # nobody completes a job that was never started
    (S.SCHEDULED, S.IN_PROGRESS),  # the crew must have it before starting
    (S.INCOMPLETE, S.COMPLETED),  # an unfinished visit is planned again
    (S.IN_PROGRESS, S.CANCELLED),  # a crew is on site: report first
    (S.COMPLETED, S.READY),
    (S.HANDED_OVER, S.COMPLETED),
    (S.CANCELLED, S.READY),
]


def test_every_status_has_an_entry_in_the_transition_table() -> None:
    assert set(TRANSITIONS) == {s.value for s in JobStatus}
    for targets in TRANSITIONS.values():
        assert targets <= {s.value for s in JobStatus}


def test_handed_over_and_cancelled_are_the_only_terminal_statuses() -> None:
    assert {S.HANDED_OVER, S.CANCELLED} == TERMINAL_STATUSES


@pytest.mark.parametrize(("src", "dst"), ALLOWED)
def test_every_allowed_transition_succeeds_and_is_recorded(src: str, dst: str) -> None:
    coordinator = make_user()
    job = make_job(status=src)
    job_transition(job=job, to_status=dst, by=coordinator, note="test")
    job.refresh_from_db()
    assert job.status == dst
    assert job.version == 2
    change = JobStatusChange.objects.get(job=job)
    assert (change.from_status, change.to_status, change.changed_by) == (src, dst, coordinator)


@pytest.mark.parametrize(("src", "dst"), FORBIDDEN)
def test_forbidden_transitions_are_refused_and_change_nothing(src: str, dst: str) -> None:
    job = make_job(status=src)
    with pytest.raises(TransitionError) as excinfo:
        job_transition(job=job, to_status=dst)
    assert (excinfo.value.current, excinfo.value.target) == (src, dst)
    assert str(S(src).label) in str(excinfo.value) and str(S(dst).label) in str(excinfo.value)
    job.refresh_from_db()
    assert job.status == src
    assert job.version == 1
    assert not JobStatusChange.objects.filter(job=job).exists()


def test_maintenance_visits_skip_the_survey_and_permission_round() -> None:
    job = make_job(kind=JobKind.MAINTENANCE)
    job_transition(job=job, to_status=S.READY)
    assert job.status == S.READY
    assert S.READY not in allowed_targets(S.NEW, JobKind.NEW_LINE)


def test_an_incomplete_job_goes_back_to_the_queue_with_its_history() -> None:
    job = make_job(status=S.IN_PROGRESS)
    job_transition(job=job, to_status=S.INCOMPLETE, note="customer absent")
    job_transition(job=job, to_status=S.READY)
    history = list(job.status_changes.values_list("from_status", "to_status"))
    assert history == [(S.IN_PROGRESS, S.INCOMPLETE), (S.INCOMPLETE, S.READY)]


def test_the_error_names_what_is_allowed() -> None:
    with pytest.raises(TransitionError, match="Allowed from 'Completed': Handed over"):
        check_transition(S.COMPLETED, S.READY)
    with pytest.raises(TransitionError, match=r"none \(terminal\)"):
        check_transition(S.CANCELLED, S.READY)


def test_the_transition_reads_the_current_status_not_a_stale_copy() -> None:
    """Two handles on one job: the second must validate against what the first wrote."""
    job = make_job(status=S.IN_PROGRESS)
    stale = type(job).objects.get(pk=job.pk)
    job_transition(job=job, to_status=S.COMPLETED)
    with pytest.raises(TransitionError):
        job_transition(job=stale, to_status=S.INCOMPLETE)


def test_fixed_statuses_are_those_the_planner_must_not_move() -> None:
    assert {S.IN_PROGRESS, S.COMPLETED, S.HANDED_OVER} == FIXED_STATUSES
