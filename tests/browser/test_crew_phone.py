"""The crews' phone page in Chromium on a phone (issue 23): the day, offline, the outbox.

A partner's crew signs in on a 390 × 844 Japanese phone, sees today's stops,
starts the first one, loses the signal, reloads the page from the service
worker's copy (marked with when it was fetched), reports the first stop done
and the second not finished (with a reason), sees "送信待ち: 2件", gets the
signal back and finds exactly one report of each in the database, and the photo
taken offline stored once. A second partner sees none of it.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from accounts.models import Role
from dispatch.ledger import ledger_problems
from dispatch.models import CompletionFacts, Job, JobReport, PlanStatus, ReportKind
from dispatch.problem import planning_tz
from dispatch.states import JobStatus
from sites.models import Region, SitePhoto
from tests.browser.conftest import PASSWORD, screenshot
from tests.factories import make_company, make_crew, make_job, make_plan, make_site, make_user
from tests.factories import make_visit as _make_visit

pytestmark = pytest.mark.django_db(transaction=True)

EVERY_DAY = 0b1111111


@pytest.fixture
def crews(transactional_db: None) -> dict[str, Any]:
    """Company 光都 (crew East: A at 10:00 and B at 13:00 today, C tomorrow); another company."""
    region = Region.objects.create(code="tokyo-central", name="Tokyo central")
    today = timezone.localdate(timezone=planning_tz())
    plan = make_plan(
        name="This week",
        region=region,
        start_date=today - dt.timedelta(days=1),
        end_date=today + dt.timedelta(days=5),
        status=PlanStatus.PUBLISHED,
        published_at=timezone.now(),
    )
    ours = make_company(name="光都エンジニアリング株式会社")
    theirs = make_company(name="北辰通信工業株式会社")
    east = make_crew(company=ours, name="東班", working_weekdays=EVERY_DAY)
    north = make_crew(company=theirs, name="北班", working_weekdays=EVERY_DAY)
    jobs = {}
    for key, crew, name, day, hour in (
        ("a", east, "芝浦シーサイドビル", 0, 10),
        ("b", east, "丸の内テラス", 0, 13),
        ("c", east, "品川グランドタワー", 1, 10),
        ("x", north, "北辰ハイツ", 0, 10),
    ):
        site = make_site(
            name=name,
            region=region,
            access_notes="管理人室で鍵を受け取る",
        )
        job = make_job(
            site=site,
            status=JobStatus.SCHEDULED,
            duration_minutes=60,
            work_instructions="MDF室は地下1階。光コンセントを設置",
        )
        start = dt.datetime.combine(
            today + dt.timedelta(days=day), dt.time(hour), tzinfo=planning_tz()
        )
        _make_visit(
            plan=plan, job=job, crew=crew, date=start.date(), sequence=1 if hour == 10 else 2,
            planned_start=start, planned_end=start + dt.timedelta(hours=1),
        )  # fmt: skip
        jobs[key] = job
    make_user(Role.PARTNER, username="east-phone", password=PASSWORD, partner_company=ours)
    make_user(Role.PARTNER, username="north-phone", password=PASSWORD, partner_company=theirs)
    assert ledger_problems() == []
    return {"today": today, **jobs}


@pytest.fixture(autouse=True)
def photo_storage(settings: Any, tmp_path: Any) -> None:
    """Photos land in a temporary folder, not in the project's media."""
    settings.STORAGES = {
        **settings.STORAGES,
        "photos": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "photos")},
        },
    }


def jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 90, 160)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def phone(chromium: Any) -> Iterator[Callable[[], Any]]:
    """Opens Japanese phones (one browser context each, closed at the end)."""
    contexts: list[Any] = []

    def open_phone() -> Any:
        context = chromium.new_context(
            viewport={"width": 390, "height": 844},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
            locale="ja-JP",
            timezone_id="Asia/Tokyo",
        )
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context

    yield open_phone
    for context in contexts:
        context.close()


def chromium_page(phone: Callable[[], Any]) -> Any:
    """A page in a fresh context (its own cookies), for a second person."""
    return phone().new_page()


def sign_in(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    page.wait_for_url(f"{base_url}/crew/")
    page.locator("#crew[data-ready=true]").wait_for(state="attached")


def eventually(check: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def reports(job: Any, kind: str) -> int:
    return JobReport.objects.filter(job=job, kind=kind).count()


def test_a_crew_reports_offline_and_each_report_arrives_exactly_once(
    crews: dict[str, Any], live_server: Any, phone: Callable[[], Any]
) -> None:
    a, b = crews["a"], crews["b"]
    context = phone()
    page = context.new_page()
    sign_in(page, live_server.url, "east-phone")

    # The day, in Japanese, stop by stop.
    assert page.locator("h1").first.inner_text() == "本日の訪問"
    stops = page.locator(".crew-stop")
    stops.first.wait_for()
    assert stops.count() == 2
    first = page.locator(f'.crew-stop[data-job="{a.pk}"]')
    second = page.locator(f'.crew-stop[data-job="{b.pk}"]')
    text = first.inner_text()
    assert "芝浦シーサイドビル" in text and "到着 10:00" in text
    assert "管理人室で鍵を受け取る" in text and "MDF室は地下1階" in text
    assert "入館" in text and "駐車" in text
    href = first.locator("a.crew-map").get_attribute("href") or ""
    assert href.startswith("https://www.google.com/maps/search/?api=1&query=35.6425")
    assert "北辰ハイツ" not in page.locator("#crew-routes").inner_text()

    # The service worker takes over the page; a reload goes through it and keeps a copy.
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")
    page.reload()
    page.locator("#crew[data-ready=true]").wait_for(state="attached")

    # Online: start the first stop; it is sent at once.
    first.get_by_role("button", name="作業開始").click()
    eventually(lambda: reports(a, ReportKind.STARTED) == 1)
    first.locator(".crew-status", has_text="作業中").wait_for()
    assert page.locator("#crew-outbox").is_hidden()
    screenshot(page, "crew_day_ja")

    # The signal goes: the page still opens, from the copy, marked with its time.
    context.set_offline(True)
    page.reload()
    page.locator("#crew[data-ready=true]").wait_for(state="attached")
    assert page.locator("#crew-net").is_visible()
    stale = page.locator("#crew-stale")
    assert stale.is_visible() and "取得:" in stale.inner_text()
    first.wait_for()

    # Done on the first stop, with what support will need, and not finished on the
    # second, with a reason and a note.
    first.get_by_role("button", name="完了", exact=True).click()
    done = page.locator("#crew-done")
    # The serial as a Japanese phone keyboard types it: full-width letters and digits.
    done.locator("#crew-mc-serial").fill("\uff4d\uff43\uff0d\uff17\uff17\uff10\uff11")
    done.locator("#crew-port").fill("光成端箱 #5")
    done.locator("#crew-light-level").fill("-18.5")
    done.get_by_role("button", name="完了を報告").click()
    second.get_by_role("button", name="未完了").click()
    dialog = page.locator("#crew-incomplete")
    dialog.locator("#crew-reason").select_option("no_access")
    dialog.locator("#crew-reason-text").fill("管理人不在で入館不可")
    dialog.get_by_role("button", name="未完了を報告").click()
    outbox = page.locator("#crew-outbox")
    outbox.locator("h2", has_text="送信待ち: 2件").wait_for()
    assert second.locator(".crew-pending").inner_text() == "未完了: 送信待ち"
    # Said once: the stop takes no second "done" while the first waits.
    assert first.get_by_role("button", name="完了", exact=True).is_disabled()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "crew_offline_queue_ja")

    # A photo of the media converter, offline too: the third item of the outbox.
    first.get_by_role("button", name="写真を追加").click()
    form = page.locator("#crew-photo")
    form.locator("#crew-photo-file").set_input_files(
        files=[{"name": "mc.jpg", "mimeType": "image/jpeg", "buffer": jpeg()}]
    )
    form.locator("#crew-photo-kind").select_option("media_converter")
    form.locator("#crew-photo-caption").fill("MDF室の右側の棚")
    form.locator("#crew-photo-send").click()
    outbox.locator("h2", has_text="送信待ち: 3件").wait_for()
    assert reports(a, ReportKind.COMPLETED) == 0 and reports(b, ReportKind.INCOMPLETE) == 0
    assert not SitePhoto.objects.exists()

    # The signal comes back: everything waiting is sent, once.
    context.set_offline(False)
    eventually(
        lambda: (
            reports(a, ReportKind.COMPLETED) == 1
            and reports(b, ReportKind.INCOMPLETE) == 1
            and SitePhoto.objects.exists()
        )
    )
    outbox.wait_for(state="hidden")
    # A reload (which flushes again) and a while later: still exactly one of each.
    page.reload()
    page.locator("#crew[data-ready=true]").wait_for(state="attached")
    # The reload's send round found the outbox empty: nothing is left to send twice.
    page.locator("#crew-outbox").wait_for(state="hidden")
    assert reports(a, ReportKind.STARTED) == 1
    assert reports(a, ReportKind.COMPLETED) == 1
    assert reports(b, ReportKind.INCOMPLETE) == 1
    incomplete = JobReport.objects.get(job=b, kind=ReportKind.INCOMPLETE)
    assert (incomplete.reason_code, incomplete.reason_text) == ("no_access", "管理人不在で入館不可")
    assert incomplete.idempotency_key and incomplete.idempotency_key.startswith("crew-")
    # What the crew wrote waits for delivery to confirm it at handover.
    facts = CompletionFacts.objects.get(job=a)
    assert (facts.mc_serial, facts.port, str(facts.light_level_dbm)) == (
        "MC-7701",
        "光成端箱 #5",
        "-18.5",
    )
    assert facts.status == "proposed"
    [photo] = SitePhoto.objects.all()
    assert (photo.job_id, photo.site_id, photo.kind) == (a.pk, a.site_id, "media_converter")
    assert photo.caption == "MDF室の右側の棚"
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.status == JobStatus.COMPLETED and b.status == JobStatus.READY
    assert ledger_problems() == []

    # Another partner's crew sees none of it: not the stops, not the reports.
    other = phone().new_page()
    sign_in(other, live_server.url, "north-phone")
    other.locator(".crew-stop").first.wait_for()
    routes = other.locator("#crew-routes").inner_text()
    assert "北辰ハイツ" in routes
    assert "芝浦シーサイドビル" not in routes and "丸の内テラス" not in routes
    assert other.locator("#crew-outbox").is_hidden()
    answer = other.request.get(f"{live_server.url}/api/v1/jobs/{a.pk}/reports/")
    assert answer.status == 404
    assert other.request.get(f"{live_server.url}/api/v1/photos/").json()["results"] == []
    assert other.request.get(f"{live_server.url}/api/v1/photos/{photo.pk}/").status == 404

    # Support sees the photo in the building's as-built record during the next call.
    make_user(Role.SUPPORT, username="desk-operator", password=PASSWORD)
    desk = chromium_page(phone)
    desk.goto(f"{live_server.url}/login/")
    desk.locator("#id_username").fill("desk-operator")
    desk.locator("#id_password").fill(PASSWORD)
    desk.locator("form button[type=submit]").last.click()
    desk.wait_for_url(f"{live_server.url}/support/")
    desk.goto(f"{live_server.url}/support/?site={a.site_id}")
    thumbnail = desk.locator(f'img[src$="/photos/{photo.pk}/thumbnail/"]')
    thumbnail.wait_for()
    assert "MDF室の右側の棚" in (thumbnail.get_attribute("alt") or "")
    assert desk.evaluate("(img) => img.naturalWidth", thumbnail.element_handle()) > 0


def test_a_report_the_server_refuses_is_shown_as_failed_not_dropped(
    crews: dict[str, Any], live_server: Any, phone: Callable[[], Any]
) -> None:
    a = crews["a"]
    context = phone()
    page = context.new_page()
    sign_in(page, live_server.url, "east-phone")
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller")
    first = page.locator(f'.crew-stop[data-job="{a.pk}"]')
    first.wait_for()

    # Offline, the crew reports done (作業開始 goes first: nobody started the job)…
    context.set_offline(True)
    first.get_by_role("button", name="完了", exact=True).click()
    page.locator("#crew-done").get_by_role("button", name="完了を報告").click()
    outbox = page.locator("#crew-outbox")
    outbox.locator("h2", has_text="送信待ち: 2件").wait_for()
    # …while the office cancels the job.
    Job.objects.filter(pk=a.pk).update(status=JobStatus.CANCELLED)

    context.set_offline(False)
    outbox.locator("h2", has_text="送信できなかった報告: 2件").wait_for()
    failed = outbox.locator("li.failed")
    assert failed.count() == 2
    assert "送信できませんでした" in failed.first.inner_text()
    assert JobReport.objects.filter(job=a).count() == 0

    # Kept across a reload until the crew removes it.
    page.reload()
    page.locator("#crew[data-ready=true]").wait_for(state="attached")
    assert page.locator("#crew-outbox li.failed").count() == 2
    page.locator("#crew-outbox li.failed").first.get_by_role("button", name="削除").click()
    page.locator("#crew-outbox li.failed").nth(1).wait_for(state="detached")
    page.locator("#crew-outbox li.failed").first.get_by_role("button", name="削除").click()
    outbox.wait_for(state="hidden")
