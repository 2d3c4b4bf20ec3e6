"""``/api/v1/jobs/``: jobs with their history; status moves only through ``transition``."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from dispatch.models import Job, JobReport, JobStatusChange, ReportKind
from dispatch.services import job_transition
from dispatch.states import JobStatus
from sites.models import Region
from tests.api.conftest import Cast
from tests.factories import make_contract, make_job, make_site, make_skill

URL = "/api/v1/jobs/"
Client = Callable[[User | None], APIClient]


def job_input(cast: Cast, **overrides: Any) -> dict[str, Any]:
    return {
        "reference": "J-NEW-1",
        "kind": "new_line",
        "site": cast.job_a.site_id,
        "duration_minutes": 90,
        "required_skills": ["fibre_splicing"],
        "earliest_date": "2026-11-23",
        "due_date": "2026-11-27",
        "due_date_is_hard": True,
        "preferred_dates": ["2026-11-25", "2026-11-24", "2026-11-25"],
        "window_start": "09:00",
        "window_end": "12:00",
        "priority": 4,
        **overrides,
    }


def detail(job: Job) -> str:
    return f"{URL}{job.pk}/"


def test_it_works(cast: Cast, client_for: Client) -> None:
    """A coordinator lists, creates, reads, updates and deletes jobs."""
    client = client_for(cast.coordinator)
    assert client.get(URL).json()["count"] == 2

    created = client.post(URL, job_input(cast), format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["status"] == "new"
    assert body["version"] == 1
    assert body["required_skills"] == ["fibre_splicing"]
    assert body["preferred_dates"] == ["2026-11-24", "2026-11-25"]  # sorted, once each

    job_url = f"{URL}{body['id']}/"
    assert client.get(job_url).json()["reference"] == "J-NEW-1"
    updated = client.patch(job_url, {"priority": 5, "work_instructions": "B1F"}, format="json")
    assert updated.status_code == 200
    assert updated.json()["priority"] == 5
    assert client.delete(job_url).status_code == 204
    assert not Job.objects.filter(pk=body["id"]).exists()


def test_status_is_read_only(cast: Cast, client_for: Client) -> None:
    """Writing ``status`` directly is ignored: only the state machine moves a job."""
    client = client_for(cast.coordinator)
    response = client.patch(detail(cast.job_a), {"status": "completed"}, format="json")
    assert response.status_code == 200
    assert Job.objects.get(pk=cast.job_a.pk).status == JobStatus.SCHEDULED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"window_start": "12:00", "window_end": "09:00"}, "window_end"),
        ({"window_end": None}, "window_end"),
        ({"earliest_date": "2026-12-01"}, "due_date"),
        ({"due_date": None}, "due_date"),  # hard due date without a date
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": 1441}, "duration_minutes"),
        ({"priority": 6}, "priority"),
        ({"priority": 0}, "priority"),
        ({"preferred_dates": ["next tuesday"]}, "preferred_dates.0"),
        ({"unavailable_dates": ["2026-02-30"]}, "unavailable_dates.0"),
        ({"unavailable_dates": ["2026-11-24"]}, "preferred_dates"),
        ({"required_skills": ["no_such_skill"]}, "required_skills"),
        ({"site": 999_999}, "site"),
        ({"kind": "demolition"}, "kind"),
        ({"reference": "J-TAKEN"}, "reference"),
    ],
)
def test_it_validates_input(
    cast: Cast, client_for: Client, overrides: dict[str, Any], field: str
) -> None:
    """Bad input answers 400 naming the field and writes nothing."""
    make_job(reference="J-TAKEN")
    response = client_for(cast.coordinator).post(URL, job_input(cast, **overrides), format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["error"]["fields"]
    assert Job.objects.count() == 3


def test_a_partial_update_is_checked_against_the_stored_values(
    cast: Cast, client_for: Client
) -> None:
    """Setting only a hard due date on a job without a due date is refused."""
    response = client_for(cast.coordinator).patch(
        detail(cast.job_a), {"due_date_is_hard": True}, format="json"
    )
    assert response.status_code == 400
    assert "due_date" in response.json()["error"]["fields"]


def test_every_update_bumps_the_version(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    first = client.patch(detail(cast.job_a), {"priority": 2}, format="json").json()
    second = client.patch(detail(cast.job_a), {"priority": 1}, format="json").json()
    assert (first["version"], second["version"]) == (2, 3)


@pytest.mark.parametrize("version", [1, 2])
def test_a_version_in_the_body_answers_400_and_writes_nothing(
    cast: Cast, client_for: Client, version: int
) -> None:
    """Jobs check concurrency with If-Match only; a client still sending ``version`` is told."""
    client = client_for(cast.coordinator)
    client.patch(detail(cast.job_a), {"priority": 2}, format="json")

    response = client.patch(detail(cast.job_a), {"priority": 5, "version": version}, format="json")
    assert response.status_code == 400
    assert "If-Match" in response.json()["error"]["fields"]["version"][0]
    assert Job.objects.get(pk=cast.job_a.pk).priority == 2


def test_a_new_job_with_a_version_answers_400(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).post(URL, job_input(cast, version=1), format="json")
    assert response.status_code == 400
    assert "version" in response.json()["error"]["fields"]
    assert Job.objects.count() == 2


def test_a_stale_etag_answers_412_and_the_fresh_one_works(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    old_tag = client.get(detail(cast.job_a))["ETag"]
    client.patch(detail(cast.job_a), {"priority": 2}, format="json")

    stale = client.patch(detail(cast.job_a), {"priority": 5}, format="json", HTTP_IF_MATCH=old_tag)
    assert stale.status_code == 412
    assert Job.objects.get(pk=cast.job_a.pk).priority == 2

    fresh_tag = client.get(detail(cast.job_a))["ETag"]
    fresh = client.patch(
        detail(cast.job_a), {"priority": 5}, format="json", HTTP_IF_MATCH=fresh_tag
    )
    assert fresh.status_code == 200


def test_a_legal_transition_is_recorded_in_the_history(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    response = client.post(
        f"{detail(cast.job_a)}transition/",
        {"status": "dispatched", "note": "sent to A"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["status"] == "dispatched"
    assert body["version"] == 2
    assert [(c["from_status"], c["to_status"], c["note"]) for c in body["status_changes"]] == [
        ("scheduled", "dispatched", "sent to A")
    ]
    assert body["status_changes"][0]["changed_by"] == cast.coordinator.pk


def test_an_illegal_transition_answers_409_with_the_current_status(
    cast: Cast, client_for: Client
) -> None:
    response = client_for(cast.coordinator).post(
        f"{detail(cast.job_a)}transition/", {"status": "handed_over"}, format="json"
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert (error["code"], error["current_status"]) == ("illegal_transition", "scheduled")
    assert not JobStatusChange.objects.exists()


@pytest.mark.parametrize("via", ["scheduled", "dispatched"])
def test_a_job_on_the_live_schedule_cannot_be_sent_back_to_the_queue_by_hand(
    cast: Cast, client_for: Client, via: str
) -> None:
    """'Ready' is the coordinators' queue: a job there must not also sit on a crew's route.

    The transition used to succeed and leave the published visit live, so the
    crew still drove there while the job waited to be planned again, and no
    change reached the partner. The way off the schedule is a revision that
    takes the visit out (recorded per crew when published), or cancelling.
    """
    client = client_for(cast.coordinator)
    if via == "dispatched":
        job_transition(job=cast.job_a, to_status=JobStatus.DISPATCHED)
    changes = JobStatusChange.objects.count()

    response = client.post(f"{detail(cast.job_a)}transition/", {"status": "ready"}, format="json")

    assert response.status_code == 409, response.json()
    error = response.json()["error"]
    assert error["code"] == "on_live_schedule"
    assert error["plan_id"] == cast.plan.pk
    assert "revise" in error["message"]
    assert Job.objects.get(pk=cast.job_a.pk).status == via
    assert JobStatusChange.objects.count() == changes
    cast.visit_a.refresh_from_db()
    assert cast.visit_a.is_live


@pytest.mark.parametrize("via", ["dispatched", "in_progress"])
def test_a_live_job_is_not_marked_not_finished_by_hand_but_reported(
    cast: Cast, client_for: Client, via: str
) -> None:
    """'Not finished' by hand used to leave the visit live with the job stuck 'incomplete'.

    The crew's route kept the stop (no report was accepted on it any more), the job
    never came back to the queue ('ready' is refused while live), no attempt was
    counted and open revisions kept their copy. A visit that failed is reported
    (POST .../reports/, kind incomplete, a coordinator may report for the crew):
    that takes it off the schedule and sends the job back to the queue.
    """
    client = client_for(cast.coordinator)
    job_transition(job=cast.job_a, to_status=JobStatus.DISPATCHED)
    if via == "in_progress":
        job_transition(job=cast.job_a, to_status=JobStatus.IN_PROGRESS)
    changes = JobStatusChange.objects.count()

    response = client.post(
        f"{detail(cast.job_a)}transition/", {"status": "incomplete"}, format="json"
    )

    assert response.status_code == 409, response.json()
    error = response.json()["error"]
    assert error["code"] == "on_live_schedule"
    assert "status" in error["fields"]
    assert "reports" in error["message"]
    assert Job.objects.get(pk=cast.job_a.pk).status == via
    assert JobStatusChange.objects.count() == changes
    cast.visit_a.refresh_from_db()
    assert cast.visit_a.is_live

    reported = client.post(
        f"{detail(cast.job_a)}reports/",
        {"kind": "incomplete", "reason_code": "no_access"},
        format="json",
    )
    assert reported.status_code == 201, reported.json()
    cast.visit_a.refresh_from_db()
    assert not cast.visit_a.is_live
    assert Job.objects.get(pk=cast.job_a.pk).status == JobStatus.READY


def test_a_job_s_contract_must_cover_its_site(cast: Cast, client_for: Client) -> None:
    """Support finds jobs by contract and handover closes the contract's jobs: a job filed
    under a contract of another building would turn up at the wrong customer's call and
    be handed over with a line it has nothing to do with."""
    client = client_for(cast.coordinator)
    elsewhere = make_contract()
    elsewhere.sites.add(cast.job_b.site)
    own = make_contract()
    own.sites.add(cast.job_a.site)

    patched = client.patch(detail(cast.job_a), {"contract": elsewhere.pk}, format="json")
    created = client.post(URL, job_input(cast, contract=elsewhere.pk), format="json")
    moved = client.patch(
        detail(cast.job_a), {"contract": own.pk, "site": cast.job_b.site_id}, format="json"
    )

    for response in (patched, created, moved):
        assert response.status_code == 400, response.json()
        assert "contract" in response.json()["error"]["fields"]
    assert Job.objects.get(pk=cast.job_a.pk).contract_id is None
    assert not Job.objects.filter(reference="J-NEW-1").exists()
    assert client.patch(detail(cast.job_a), {"contract": own.pk}, format="json").status_code == 200


def test_a_job_on_the_live_schedule_cannot_move_to_another_building(
    cast: Cast, client_for: Client
) -> None:
    """The crew's route would send it to the new address at times planned for the old one."""
    client = client_for(cast.coordinator)
    other = make_site(region=cast.region, name="別ビル")

    response = client.patch(detail(cast.job_a), {"site": other.pk}, format="json")

    assert response.status_code == 409, response.json()
    error = response.json()["error"]
    assert error["code"] == "on_live_schedule" and "site" in error["fields"]
    assert Job.objects.get(pk=cast.job_a.pk).site_id == cast.job_a.site_id
    queued = make_job(site=cast.job_a.site, status="ready")
    assert client.patch(detail(queued), {"site": other.pk}, format="json").status_code == 200


def test_a_transition_with_a_stale_etag_answers_412(cast: Cast, client_for: Client) -> None:
    """A coordinator moving a job someone changed since they read it must reload first."""
    client = client_for(cast.coordinator)
    old_tag = client.get(detail(cast.job_a))["ETag"]
    client.patch(detail(cast.job_a), {"priority": 2}, format="json")

    stale = client.post(
        f"{detail(cast.job_a)}transition/",
        {"status": "dispatched"},
        format="json",
        HTTP_IF_MATCH=old_tag,
    )
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    assert Job.objects.get(pk=cast.job_a.pk).status == JobStatus.SCHEDULED
    assert not JobStatusChange.objects.exists()

    fresh_tag = client.get(detail(cast.job_a))["ETag"]
    fresh = client.post(
        f"{detail(cast.job_a)}transition/",
        {"status": "dispatched"},
        format="json",
        HTTP_IF_MATCH=fresh_tag,
    )
    assert fresh.status_code == 200, fresh.json()
    assert fresh["ETag"] == client.get(detail(cast.job_a))["ETag"]


def test_a_transition_with_a_version_in_the_body_answers_400(
    cast: Cast, client_for: Client
) -> None:
    response = client_for(cast.coordinator).post(
        f"{detail(cast.job_a)}transition/", {"status": "dispatched", "version": 1}, format="json"
    )
    assert response.status_code == 400
    assert "If-Match" in response.json()["error"]["fields"]["version"][0]
    assert Job.objects.get(pk=cast.job_a.pk).status == JobStatus.SCHEDULED


def test_a_transition_to_an_unknown_status_answers_400(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).post(
        f"{detail(cast.job_a)}transition/", {"status": "teleported"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()["error"]["fields"]


def test_support_reads_the_job_history_but_cannot_write(cast: Cast, client_for: Client) -> None:
    """Support answers calls with the job's history: status steps and crew reports."""
    job_transition(job=cast.job_a, to_status=JobStatus.DISPATCHED, by=cast.coordinator)
    JobReport.objects.create(job=cast.job_a, crew=cast.crew_a, kind=ReportKind.EN_ROUTE)
    client = client_for(cast.support)

    body = client.get(detail(cast.job_a)).json()
    assert [c["to_status"] for c in body["status_changes"]] == ["dispatched"]
    assert [r["kind"] for r in body["reports"]] == ["en_route"]

    assert client.post(URL, job_input(cast), format="json").status_code == 403
    assert client.patch(detail(cast.job_a), {"priority": 1}, format="json").status_code == 403
    assert client.delete(detail(cast.job_a)).status_code == 403
    transition = client.post(f"{detail(cast.job_a)}transition/", {"status": "ready"})
    assert transition.status_code == 403


def test_partner_a_sees_only_the_jobs_of_its_published_visits(
    cast: Cast, client_for: Client
) -> None:
    make_job()  # not planned at all
    client = client_for(cast.partner_a)
    assert [job["reference"] for job in client.get(URL).json()["results"]] == [cast.job_a.reference]
    assert client.get(detail(cast.job_a)).status_code == 200
    assert client.get(detail(cast.job_b)).status_code == 404


def test_partner_a_does_not_read_partner_bs_reports_on_a_job_moved_to_a(
    cast: Cast, client_for: Client
) -> None:
    """B reported on the job before it was moved to A: A reads its own reports only."""
    JobReport.objects.create(
        job=cast.job_a, crew=cast.crew_b, kind=ReportKind.INCOMPLETE, reason_code="no_access"
    )
    JobReport.objects.create(job=cast.job_a, crew=cast.crew_a, kind=ReportKind.EN_ROUTE)
    body = client_for(cast.partner_a).get(detail(cast.job_a)).json()
    assert [report["crew"] for report in body["reports"]] == [cast.crew_a.pk]


def test_partners_cannot_write_or_transition(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    assert client.post(URL, job_input(cast), format="json").status_code == 403
    assert client.patch(detail(cast.job_a), {"priority": 1}, format="json").status_code == 403
    transition = client.post(f"{detail(cast.job_a)}transition/", {"status": "dispatched"})
    assert transition.status_code == 403


def test_filters_do_not_leak_across_partners(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    assert client.get(URL, {"site": cast.job_b.site_id}).json()["results"] == []
    assert client.get(URL, {"reference": cast.job_b.reference}).json()["results"] == []


def test_filters(cast: Cast, client_for: Client) -> None:
    north = Region.objects.create(code="tokyo-north", name="Tokyo north")
    urgent = make_job(
        reference="J-URGENT",
        site=make_site(region=north),
        priority=5,
        due_date="2026-11-24",
        status=JobStatus.READY,
    )
    urgent.required_skills.add(make_skill("aerial_work"))
    client = client_for(cast.coordinator)

    def references(**params: Any) -> list[str]:
        return [job["reference"] for job in client.get(URL, params).json()["results"]]

    assert references(status=["ready", "new"]) == ["J-URGENT"]
    assert references(region=north.pk) == ["J-URGENT"]
    assert references(priority_min=4) == ["J-URGENT"]
    assert references(skill="aerial_work") == ["J-URGENT"]
    assert references(due_date_after="2026-11-20", due_date_before="2026-11-30") == ["J-URGENT"]
    assert references(site=cast.job_a.site_id) == [cast.job_a.reference]
    assert references(ordering="-reference") == sorted(
        [cast.job_a.reference, cast.job_b.reference, "J-URGENT"], reverse=True
    )


def test_deleting_a_planned_job_answers_409_in_use(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).delete(detail(cast.job_a))
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "in_use"


def test_the_list_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    skills = [make_skill("fibre_splicing"), make_skill("mc_install")]
    for _ in range(20):
        make_job(site=cast.job_a.site).required_skills.add(*skills)
    for user in (cast.coordinator, cast.partner_a):
        client = client_for(user)
        with django_assert_max_num_queries(3):  # count, jobs, skills
            client.get(URL, {"page_size": 100})


def test_the_detail_does_a_constant_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for kind in (ReportKind.EN_ROUTE, ReportKind.ARRIVED, ReportKind.STARTED):
        JobReport.objects.create(job=cast.job_a, crew=cast.crew_a, kind=kind)
    client = client_for(cast.coordinator)
    with django_assert_max_num_queries(4):  # job, skills, status changes, reports
        client.get(detail(cast.job_a))


# --- the customer's promise: time slot and hard/soft -----------------------------


@pytest.mark.parametrize(
    ("slot", "window"),
    [("am", ("09:00:00", "12:00:00")), ("pm", ("13:00:00", "17:00:00")), (None, (None, None))],
)
def test_a_time_slot_sets_the_window(
    cast: Cast, client_for: Client, slot: str | None, window: tuple[str | None, str | None]
) -> None:
    payload = job_input(cast, time_slot=slot)
    del payload["window_start"], payload["window_end"]

    response = client_for(cast.coordinator).post(URL, payload, format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["window_start"], body["window_end"]) == window
    assert body["time_slot"] == slot


@pytest.mark.parametrize(
    ("window", "slot"),
    [(("09:00", "12:00"), "am"), (("13:00", "17:00"), "pm"), (("10:00", "11:30"), "custom")],
)
def test_the_time_slot_is_read_from_the_window(
    cast: Cast, client_for: Client, window: tuple[str, str], slot: str
) -> None:
    start, end = window
    response = client_for(cast.coordinator).patch(
        detail(cast.job_a), {"window_start": start, "window_end": end}, format="json"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["time_slot"] == slot


def test_a_time_slot_that_disagrees_with_the_window_answers_400(
    cast: Cast, client_for: Client
) -> None:
    response = client_for(cast.coordinator).post(
        URL, job_input(cast, time_slot="pm"), format="json"
    )  # job_input's window is 09:00-12:00

    assert response.status_code == 400
    assert "time_slot" in response.json()["error"]["fields"]
    assert not Job.objects.filter(reference="J-NEW-1").exists()


def test_a_time_slot_with_the_same_window_is_accepted(cast: Cast, client_for: Client) -> None:
    response = client_for(cast.coordinator).post(
        URL, job_input(cast, time_slot="am"), format="json"
    )

    assert response.status_code == 201, response.json()
    assert response.json()["time_slot"] == "am"


def test_patching_the_slot_moves_the_stored_window(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    client.patch(detail(cast.job_a), {"time_slot": "am"}, format="json")

    response = client.patch(detail(cast.job_a), {"time_slot": "pm"}, format="json")

    assert response.status_code == 200, response.json()
    job = Job.objects.get(pk=cast.job_a.pk)
    assert (job.window_start, job.window_end) == (dt.time(13), dt.time(17))
    cleared = client.patch(detail(cast.job_a), {"time_slot": None}, format="json")
    assert cleared.json()["time_slot"] is None
    assert Job.objects.get(pk=cast.job_a.pk).window_start is None


@pytest.mark.parametrize("payload", [{"time_slot": "custom"}, {"time_slot": "evening"}])
def test_a_custom_or_unknown_slot_alone_answers_400(
    cast: Cast, client_for: Client, payload: dict[str, Any]
) -> None:
    response = client_for(cast.coordinator).patch(detail(cast.job_a), payload, format="json")

    assert response.status_code == 400
    assert "time_slot" in response.json()["error"]["fields"]


def test_the_promise_can_be_made_hard(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    assert client.get(detail(cast.job_a)).json()["promise_is_hard"] is False

    response = client.patch(detail(cast.job_a), {"promise_is_hard": True}, format="json")

    assert response.status_code == 200
    assert Job.objects.get(pk=cast.job_a.pk).promise_is_hard is True
