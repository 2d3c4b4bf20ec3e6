"""The site card: as-built notes first, then everything else, in a fixed number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from dispatch.models import (
    IncompleteReason,
    JobReport,
    PlanStatus,
    ReleaseReason,
    ReportKind,
    Visit,
)
from dispatch.services import job_report_incomplete
from dispatch.states import JobStatus
from sites.models import ConstructionRecord, Permission, PermissionStatus
from support.selectors import site_card
from support.services import call_amend, call_log
from tests.factories import make_crew, make_job, make_plan, make_survey, make_visit
from tests.support.conftest import Desk

NOW = timezone.now()


def _history(desk: Desk) -> None:
    """Two as-built records, a survey, permissions, a finished and an unfinished job, calls."""
    site = desk.shibaura
    ConstructionRecord.objects.create(
        site=site,
        media_converter_location="1F 受付裏 ラック",
        recorded_at=NOW - dt.timedelta(days=400),
    )
    ConstructionRecord.objects.create(
        site=site,
        media_converter_location="3F EPS 内 壁面",
        port="ONU LAN1",
        cable_route="1F MDF → EPS → 3F 天井裏",
        riser="EPS 内 既設配管 φ22",
        notes="鍵は管理室",
        recorded_by_name="港通信 佐々木",
        recorded_at=NOW - dt.timedelta(days=30),
        archived_at=NOW - dt.timedelta(days=20),
    )
    make_survey(site, findings="共用部に空き配管あり")
    Permission.objects.create(
        site=site, party="management", status=PermissionStatus.GRANTED,
        requested_on=dt.date(2024, 3, 1), decided_on=dt.date(2024, 3, 5),
    )  # fmt: skip
    crew = make_crew(name="港1班")
    unfinished = make_job(site=site, status=JobStatus.IN_PROGRESS, surveyed=False)
    job_report_incomplete(
        job=unfinished, crew=crew, reason_code=IncompleteReason.NO_ACCESS, reason_text="入館証なし"
    )
    done = make_job(site=site, status=JobStatus.SCHEDULED, surveyed=False)
    JobReport.objects.create(job=done, crew=crew, kind=ReportKind.COMPLETED)
    today = timezone.localdate()
    plan = make_plan(
        start_date=today, end_date=today + dt.timedelta(days=6), status=PlanStatus.PUBLISHED,
        published_at=NOW,
    )  # fmt: skip
    start = NOW + dt.timedelta(days=2)
    make_visit(plan=plan, job=done, crew=crew, date=timezone.localdate(start),
               planned_start=start, planned_end=start + dt.timedelta(hours=1))  # fmt: skip
    for minutes in (10, 5):
        call = call_log(
            site=site, operator=desk.support, category="slow", description="夜間に遅い",
            started_at=NOW - dt.timedelta(minutes=minutes),
        )  # fmt: skip
        call_amend(call=call, author=desk.support, text="追記")


def test_the_archived_as_built_record_comes_first_with_who_recorded_it(desk: Desk) -> None:
    _history(desk)
    card = site_card(site_id=desk.shibaura.pk)
    first = card.construction_records[0]
    assert first.media_converter_location == "3F EPS 内 壁面"
    assert (first.port, first.riser) == ("ONU LAN1", "EPS 内 既設配管 φ22")
    assert first.recorded_by_name == "港通信 佐々木"
    assert len(card.construction_records) == 2


def test_the_card_holds_survey_permissions_jobs_with_reasons_visits_and_calls(desk: Desk) -> None:
    _history(desk)
    card = site_card(site_id=desk.shibaura.pk)
    assert card.surveys[0].findings == "共用部に空き配管あり"
    assert card.permissions[0].party == "management"
    reasons = [r.reason_text for job in card.jobs for r in job.reports.all() if r.reason_code]
    assert reasons == ["入館証なし"]
    assert [v.job.status for v in card.upcoming_visits] == [JobStatus.SCHEDULED]
    assert [c.call.started_at for c in card.calls] == sorted(
        (c.call.started_at for c in card.calls), reverse=True
    )
    assert all(len(c.amendments) == 1 for c in card.calls)
    assert [c.contract_id for c in card.contracts] == ["KN-2024-000123"]


def test_the_card_costs_the_same_few_queries_however_long_the_history(
    desk: Desk, django_assert_max_num_queries: Any
) -> None:
    _history(desk)
    _history(desk)
    # site, contracts, records, surveys, permissions, jobs, reports, visits, calls, amendments
    with django_assert_max_num_queries(10):
        card = site_card(site_id=desk.shibaura.pk)
        for job in card.jobs:
            [r.crew.name for r in job.reports.all()]
        for view in card.calls:
            [view.call.operator.username, view.booking, [a.author for a in view.amendments]]
        [v.crew.company.name for v in card.upcoming_visits]


def test_an_unknown_site_has_no_card(db: None) -> None:
    from sites.models import Site

    with pytest.raises(Site.DoesNotExist):
        site_card(site_id=999_999)


def _published(**fields: Any):  # type: ignore[no-untyped-def]
    today = timezone.localdate()
    return make_plan(
        start_date=today - dt.timedelta(days=3), end_date=today + dt.timedelta(days=6),
        status=PlanStatus.PUBLISHED, published_at=NOW, **fields,
    )  # fmt: skip


def _visit(plan, job, crew, days: int):  # type: ignore[no-untyped-def]
    start = NOW + dt.timedelta(days=days)
    return make_visit(plan=plan, job=job, crew=crew, date=timezone.localdate(start),
                      planned_start=start, planned_end=start + dt.timedelta(hours=1))  # fmt: skip


def test_upcoming_visits_are_the_live_schedule_from_today(desk: Desk) -> None:
    site, crew = desk.shibaura, make_crew(name="港2班")
    plan = _published()
    coming = make_job(site=site, status=JobStatus.SCHEDULED, surveyed=False)
    live = _visit(plan, coming, crew, 2)
    yesterday = make_job(site=site, status=JobStatus.SCHEDULED, surveyed=False)
    _visit(plan, yesterday, crew, -1)
    # Still listed in a published plan, but moved out of it by a coordinator: not live.
    moved = make_job(site=site, status=JobStatus.SCHEDULED, surveyed=False)
    gone = _visit(plan, moved, make_crew(), 3)
    Visit.objects.filter(pk=gone.pk).update(
        route=None, released_at=NOW, release_reason=ReleaseReason.TAKEN_OVER
    )
    card = site_card(site_id=site.pk)
    assert card.upcoming_visits == [live]
    assert card.returned_jobs == ()


def test_a_job_returned_from_the_field_is_on_the_card_instead_of_no_visit(desk: Desk) -> None:
    site, crew = desk.shibaura, make_crew(name="港1班")
    job = make_job(site=site, status=JobStatus.DISPATCHED, surveyed=False)
    visit = _visit(_published(), job, crew, 0)
    report = job_report_incomplete(
        job=job, crew=crew, visit=visit,
        reason_code=IncompleteReason.CUSTOMER_ABSENT, reason_text="インターホン応答なし",
    )  # fmt: skip
    card = site_card(site_id=site.pk)
    assert card.upcoming_visits == []  # the failed visit left the schedule
    [returned] = card.returned_jobs
    assert (returned.job, returned.report) == (job, report)

    client = Client()
    client.force_login(desk.support)
    page = client.get(f"/support/?site={site.pk}").content.decode()
    upcoming = page[page.index('id="upcoming-title"') :]
    upcoming = upcoming[: upcoming.index("</section>")]
    day = timezone.localdate(job.returned_from_field_at).isoformat()  # Asia/Tokyo
    assert f"Returned from the field on {day}</mark>: Customer absent" in upcoming
    assert "(インターホン応答なし) — being re-planned" in upcoming
    assert job.reference in upcoming and "No visit planned." not in upcoming
    client.cookies["django_language"] = "ja"
    page = client.get(f"/support/?site={site.pk}").content.decode()
    assert f"{day} に現場から戻りました" in page and "再計画中" in page
