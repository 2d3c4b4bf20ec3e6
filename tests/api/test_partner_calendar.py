"""Calendar feeds: a secret .ics URL per crew, created and revoked through the API."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable
from typing import Any

import pytest
from icalendar import Calendar
from rest_framework.test import APIClient

import api.partner.ical
from accounts.models import User
from dispatch.models import CalendarFeed, Crew, Plan, PlannedBreak, PlanStatus
from dispatch.plans import plan_publish, plan_revise
from dispatch.states import JobStatus
from tests.api.conftest import JST, MONDAY, Cast
from tests.factories import make_plan, make_visit

Client = Callable[[User | None], APIClient]


@pytest.fixture(autouse=True)
def _today_is_the_casts_monday(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(api.partner.ical, "feed_today", lambda: MONDAY)


def feeds_url(crew: Crew) -> str:
    return f"/api/v1/crews/{crew.pk}/calendar-feeds/"


def create_feed(client: APIClient, crew: Crew) -> Any:
    response = client.post(feeds_url(crew))
    assert response.status_code == 201, response.content
    return response.json()


def fetch(url: str) -> Any:
    """As a calendar app does: no credentials, whatever Accept header."""
    return APIClient().get(url, HTTP_ACCEPT="text/calendar, */*")


def events_of(response: Any) -> list[Any]:
    assert response.status_code == 200, response.content
    return list(Calendar.from_ical(response.content).events)


def test_it_works(cast: Cast, client_for: Client) -> None:
    created = create_feed(client_for(cast.partner_a), cast.crew_a)

    response = fetch(created["url"])

    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    (event,) = events_of(response)
    assert event.get("summary") == "New line: A現場ビル"


def test_the_secret_url_is_shown_once_and_stored_hashed(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    created = create_feed(client, cast.crew_a)

    assert created["url"] == f"http://testserver/api/v1/calendar/{created['token']}.ics?lang=en"
    assert created["feed"]["crew"] == cast.crew_a.pk
    feed = CalendarFeed.objects.get()
    assert feed.token_hash == hashlib.sha256(created["token"].encode()).hexdigest()
    listed = client.get(feeds_url(cast.crew_a)).json()
    assert [f["id"] for f in listed] == [feed.pk]
    assert created["token"] not in str(listed)


def test_an_event_carries_where_when_and_what(cast: Cast, client_for: Client) -> None:
    cast.job_a.parking_arrangement = "来客用 2 番"
    cast.job_a.save()
    site = cast.job_a.site
    site.access_hours = [{"days": [0, 1, 2, 3, 4, 5], "opens": "08:00", "closes": "20:00"}]
    site.access_notes = "守衛室で入館証"
    site.save()
    cast.job_a.window_start, cast.job_a.window_end = dt.time(9), dt.time(12)
    cast.job_a.promise_is_hard = True
    cast.job_a.save()
    created = create_feed(client_for(cast.partner_a), cast.crew_a)

    (event,) = events_of(fetch(created["url"]))

    assert event.uid == (f"job-{cast.job_a.pk}-crew-{cast.crew_a.pk}-20261130@isp-field-dispatch")
    assert event.start == dt.datetime(2026, 11, 30, 9, tzinfo=event.start.tzinfo)
    assert str(event.start.tzinfo) == "Asia/Tokyo"
    assert event.end - event.start == dt.timedelta(minutes=120)
    assert event.get("location") == cast.job_a.site.address
    assert (event.get("geo").latitude, event.get("geo").longitude) == (35.692, 139.795)
    description = event.get("description")
    assert "3F EPS 経由で MC 設置" in description
    assert "Parking: 来客用 2 番" in description
    assert "Access: Mon–Sat 08:00–20:00; closed Sun, holidays" in description
    assert "Access notes: 守衛室で入館証" in description
    assert "Customer's slot: 09:00-12:00 (promised)" in description
    assert event.get("status") == "CONFIRMED"


def test_the_calendar_declares_its_time_zone(cast: Cast, client_for: Client) -> None:
    created = create_feed(client_for(cast.partner_a), cast.crew_a)

    calendar = Calendar.from_ical(fetch(created["url"]).content)

    assert [tz.tz_name for tz in calendar.timezones] == ["Asia/Tokyo"]
    assert b"DTSTART;TZID=Asia/Tokyo:20261130T090000" in calendar.to_ical()


def test_a_feed_holds_only_that_crews_published_visits_around_today(
    cast: Cast, client_for: Client
) -> None:
    make_visit(plan=make_plan(status=PlanStatus.DRAFT), crew=cast.crew_a)  # not published
    published = make_plan(status=PlanStatus.PUBLISHED, published_at=cast.plan.published_at)
    for offset, sequence in ((-8, 1), (-7, 2), (60, 3), (61, 4)):
        day = MONDAY + dt.timedelta(days=offset)
        start = dt.datetime.combine(day, dt.time(10), tzinfo=JST)
        make_visit(
            plan=published,
            crew=cast.crew_a,
            date=day,
            sequence=sequence,
            planned_start=start,
            planned_end=start + dt.timedelta(hours=1),
        )
    created = create_feed(client_for(cast.partner_a), cast.crew_a)

    days = sorted(event.start.date() for event in events_of(fetch(created["url"])))

    assert days == [
        MONDAY - dt.timedelta(days=7),
        MONDAY,
        MONDAY + dt.timedelta(days=60),
    ]


def test_a_cancelled_job_shows_as_a_cancelled_event(cast: Cast, client_for: Client) -> None:
    cast.job_a.status = JobStatus.CANCELLED
    cast.job_a.save()
    created = create_feed(client_for(cast.partner_a), cast.crew_a)

    (event,) = events_of(fetch(created["url"]))

    assert event.get("status") == "CANCELLED"


def test_event_uids_survive_a_plan_revision(cast: Cast, client_for: Client) -> None:
    """Re-publishing copies the visits; calendar apps must not see new appointments."""
    created = create_feed(client_for(cast.partner_a), cast.crew_a)
    before = [event.uid for event in events_of(fetch(created["url"]))]

    plan_publish(plan=plan_revise(plan=cast.plan))

    after = [event.uid for event in events_of(fetch(created["url"]))]
    assert after == before


def test_a_revoked_feed_answers_404_at_once(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    created = create_feed(client, cast.crew_a)
    assert fetch(created["url"]).status_code == 200

    response = client.delete(f"/api/v1/calendar-feeds/{created['feed']['id']}/")

    assert response.status_code == 204
    gone = fetch(created["url"])
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"
    assert CalendarFeed.objects.get().revoked_at is not None


def test_revoking_twice_keeps_the_first_revocation(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)
    feed_id = create_feed(client, cast.crew_a)["feed"]["id"]
    client.delete(f"/api/v1/calendar-feeds/{feed_id}/")
    first = CalendarFeed.objects.get().revoked_at

    assert client.delete(f"/api/v1/calendar-feeds/{feed_id}/").status_code == 204
    assert CalendarFeed.objects.get().revoked_at == first


def test_an_unknown_token_answers_404_in_the_apis_error_shape(cast: Cast) -> None:
    response = fetch("/api/v1/calendar/" + "x" * 43 + ".ics")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["error"]["status"] == 404


def test_partner_b_can_neither_create_list_nor_revoke_partner_as_feeds(
    cast: Cast, client_for: Client
) -> None:
    feed_id = create_feed(client_for(cast.partner_a), cast.crew_a)["feed"]["id"]
    client = client_for(cast.partner_b)

    assert client.post(feeds_url(cast.crew_a)).status_code == 404
    assert client.get(feeds_url(cast.crew_a)).status_code == 404
    assert client.delete(f"/api/v1/calendar-feeds/{feed_id}/").status_code == 404
    assert CalendarFeed.objects.get().revoked_at is None


def test_partner_bs_feed_shows_partner_bs_crew_only(cast: Cast, client_for: Client) -> None:
    created = create_feed(client_for(cast.partner_b), cast.crew_b)

    (event,) = events_of(fetch(created["url"]))

    assert event.get("summary") == "New line: B現場ビル"


def test_a_coordinator_manages_any_crews_feeds(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.coordinator)
    created = create_feed(client, cast.crew_b)

    assert client.delete(f"/api/v1/calendar-feeds/{created['feed']['id']}/").status_code == 204


def test_support_is_forbidden(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.support)

    assert client.post(feeds_url(cast.crew_a)).status_code == 403
    assert client.get(feeds_url(cast.crew_a)).status_code == 403


def test_anonymous_cannot_create_feeds(cast: Cast, client_for: Client) -> None:
    assert client_for(None).post(feeds_url(cast.crew_a)).status_code == 401


def test_the_feed_ignores_credentials_it_does_not_need(cast: Cast, client_for: Client) -> None:
    """A stale or foreign Authorization header must not break a calendar subscription."""
    created = create_feed(client_for(cast.partner_a), cast.crew_a)

    response = APIClient().get(created["url"], HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 200


def test_the_feed_takes_a_fixed_number_of_queries(
    cast: Cast, client_for: Client, django_assert_max_num_queries: Any
) -> None:
    for sequence in range(2, 8):
        make_visit(plan=cast.plan, crew=cast.crew_a, sequence=sequence)
    created = create_feed(client_for(cast.partner_a), cast.crew_a)

    # feed + crew, visits (joined), surveys, the jobs' published history, lunch breaks
    with django_assert_max_num_queries(5):
        events = events_of(fetch(created["url"]))
    assert len(events) == 7


# --- SEQUENCE and lunch -------------------------------------------------------------


def only_event(created: dict[str, Any], uid_prefix: str = "job-") -> Any:
    (event,) = [e for e in events_of(fetch(created["url"])) if e.uid.startswith(uid_prefix)]
    return event


def republish_moving(plan: Plan, *, minutes: int) -> Plan:
    """Revise ``plan``, move the crew A visit by ``minutes``, publish; the new plan."""
    draft = plan_revise(plan=plan)
    visit = draft.visits.get(crew__name="A1")
    visit.planned_start += dt.timedelta(minutes=minutes)
    visit.planned_end += dt.timedelta(minutes=minutes)
    visit.save()
    return plan_publish(plan=draft)


def test_a_new_event_starts_at_sequence_0(cast: Cast, client_for: Client) -> None:
    created = create_feed(client_for(cast.partner_a), cast.crew_a)

    assert only_event(created).get("sequence") == 0


def test_moving_a_visit_in_a_revision_raises_its_sequence(cast: Cast, client_for: Client) -> None:
    created = create_feed(client_for(cast.partner_a), cast.crew_a)
    before = only_event(created)

    republish_moving(cast.plan, minutes=60)

    after = only_event(created)
    assert after.uid == before.uid
    assert after.start - before.start == dt.timedelta(hours=1)
    assert after.get("sequence") == before.get("sequence") + 1


def test_an_unchanged_visit_keeps_its_sequence_across_revisions(
    cast: Cast, client_for: Client
) -> None:
    created = create_feed(client_for(cast.partner_a), cast.crew_a)
    moved = republish_moving(cast.plan, minutes=30)
    sequence = only_event(created).get("sequence")

    republish_moving(moved, minutes=0)

    assert sequence == 1
    assert only_event(created).get("sequence") == sequence


def test_moving_a_visit_back_still_raises_its_sequence(cast: Cast, client_for: Client) -> None:
    """The same times as two versions ago are a change too: the number never goes back."""
    created = create_feed(client_for(cast.partner_a), cast.crew_a)
    back = republish_moving(republish_moving(cast.plan, minutes=60), minutes=-60)

    assert back.status == PlanStatus.PUBLISHED
    assert only_event(created).get("sequence") == 2


def test_a_cancelled_job_raises_the_sequence(cast: Cast, client_for: Client) -> None:
    created = create_feed(client_for(cast.partner_a), cast.crew_a)
    cast.job_a.status = JobStatus.CANCELLED
    cast.job_a.save()

    event = only_event(created)

    assert (event.get("status"), event.get("sequence")) == ("CANCELLED", 1)


def test_the_lunch_break_is_its_own_event(cast: Cast, client_for: Client) -> None:
    noon = dt.datetime.combine(MONDAY, dt.time(12), tzinfo=JST)
    PlannedBreak.objects.create(
        plan=cast.plan, crew=cast.crew_a, date=MONDAY, start=noon, end=noon + dt.timedelta(hours=1)
    )
    created = create_feed(client_for(cast.partner_a), cast.crew_a)

    lunch = only_event(created, uid_prefix="lunch-")

    assert lunch.uid == f"lunch-crew-{cast.crew_a.pk}-20261130@isp-field-dispatch"
    assert lunch.get("summary") == "Lunch break"
    assert (lunch.start, lunch.end) == (noon, noon + dt.timedelta(hours=1))
    assert lunch.get("sequence") == 0


def test_a_moved_lunch_raises_its_sequence_and_a_drafts_break_stays_out(
    cast: Cast, client_for: Client
) -> None:
    noon = dt.datetime.combine(MONDAY, dt.time(12), tzinfo=JST)
    PlannedBreak.objects.create(
        plan=cast.plan, crew=cast.crew_a, date=MONDAY, start=noon, end=noon + dt.timedelta(hours=1)
    )
    created = create_feed(client_for(cast.partner_a), cast.crew_a)
    draft = plan_revise(plan=cast.plan)
    later = noon + dt.timedelta(minutes=30)
    PlannedBreak.objects.update_or_create(
        plan=draft,
        crew=cast.crew_a,
        date=MONDAY,
        defaults={"start": later, "end": later + dt.timedelta(hours=1)},
    )

    assert only_event(created, uid_prefix="lunch-").start == noon  # the draft is not published

    plan_publish(plan=draft)

    lunch = only_event(created, uid_prefix="lunch-")
    assert (lunch.start, lunch.get("sequence")) == (later, 1)


# --- language -----------------------------------------------------------------------

#: Kana, kanji and full-width forms: what a Japanese word or punctuation is made of.
JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")
LATIN_WORD = re.compile(r"[A-Za-z]+")


def _a_visit_with_every_line(cast: Cast) -> list[str]:
    """Give job A every line an event can show (and a lunch); returns the data shown as written."""
    job, site = cast.job_a, cast.job_a.site
    job.parking_arrangement = "来客用 2 番"
    job.window_start, job.window_end = dt.time(9), dt.time(12)
    job.promise_is_hard = True
    job.save()
    site.access_hours = [{"days": [0, 1, 2, 3, 4, 5], "opens": "08:00", "closes": "20:00"}]
    site.access_notes = "守衛室で入館証"
    site.save()
    noon = dt.datetime.combine(MONDAY, dt.time(12), tzinfo=JST)
    PlannedBreak.objects.create(
        plan=cast.plan, crew=cast.crew_a, date=MONDAY, start=noon, end=noon + dt.timedelta(hours=1)
    )
    return [
        job.reference,
        job.work_instructions,
        job.parking_arrangement,
        site.name,
        site.access_notes,
    ]


def _texts_without(response: Any, data: list[str]) -> str:
    """Every event's summary and description, with the data (shown as written) taken out."""
    texts = []
    for event in events_of(response):
        texts += [str(event.get("summary")), str(event.get("description") or "")]
    text = "\n".join(texts)
    for value in data:
        assert value in text, value
        text = text.replace(value, "")
    return text


def test_a_japanese_feed_has_no_english_word_outside_the_data(
    cast: Cast, client_for: Client
) -> None:
    data = _a_visit_with_every_line(cast)
    created = create_feed(client_for(cast.partner_a), cast.crew_a)
    url = created["url"].split("?")[0]

    response = fetch(f"{url}?lang=ja")

    text = _texts_without(response, data)
    assert LATIN_WORD.findall(text) == []
    assert "作業時間 120分" in text
    assert "駐車: " in text
    assert "入館可能時間: 月〜土 8:00〜20:00（日祝休）" in text
    assert "お客様の時間帯: 09:00〜12:00（確約）" in text
    assert "昼休憩" in text
    (visit,) = [e for e in events_of(response) if e.uid.startswith("job-")]
    assert visit.get("summary") == "新規開通：A現場ビル"
    assert str(visit.start.tzinfo) == "Asia/Tokyo"
    assert visit.start == dt.datetime(2026, 11, 30, 9, tzinfo=visit.start.tzinfo)


def test_an_english_feed_has_no_japanese_outside_the_data(cast: Cast, client_for: Client) -> None:
    data = _a_visit_with_every_line(cast)
    created = create_feed(client_for(cast.partner_a), cast.crew_a)
    url = created["url"].split("?")[0]

    text = _texts_without(fetch(f"{url}?lang=en"), data)

    assert JAPANESE.findall(text) == []
    assert "120 min" in text
    assert "Access: Mon–Sat 08:00–20:00; closed Sun, holidays" in text
    assert "Lunch break" in text


def test_without_lang_the_feed_speaks_the_requests_language(cast: Cast, client_for: Client) -> None:
    created = create_feed(client_for(cast.partner_a), cast.crew_a)
    url = created["url"].split("?")[0]

    japanese = APIClient().get(url, HTTP_ACCEPT_LANGUAGE="ja")
    default = APIClient().get(url)

    assert [e.get("summary") for e in events_of(japanese)] == ["新規開通：A現場ビル"]
    assert [e.get("summary") for e in events_of(default)] == ["New line: A現場ビル"]


def test_lang_wins_over_accept_language(cast: Cast, client_for: Client) -> None:
    created = create_feed(client_for(cast.partner_a), cast.crew_a)
    url = created["url"].split("?")[0]

    response = APIClient().get(f"{url}?lang=en", HTTP_ACCEPT_LANGUAGE="ja")

    assert [e.get("summary") for e in events_of(response)] == ["New line: A現場ビル"]


def test_an_unknown_lang_answers_400_naming_lang(cast: Cast, client_for: Client) -> None:
    created = create_feed(client_for(cast.partner_a), cast.crew_a)
    url = created["url"].split("?")[0]

    response = fetch(f"{url}?lang=xx")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error = response.json()["error"]
    assert (error["status"], error["code"]) == (400, "invalid")
    assert list(error["fields"]) == ["lang"]
    assert "xx" in error["fields"]["lang"][0]


def test_the_url_a_partner_copies_carries_their_language(cast: Cast, client_for: Client) -> None:
    client = client_for(cast.partner_a)

    response = client.post(feeds_url(cast.crew_a), HTTP_ACCEPT_LANGUAGE="ja")

    created = response.json()
    assert created["url"].endswith(f"/calendar/{created['token']}.ics?lang=ja")
    assert [e.get("summary") for e in events_of(fetch(created["url"]))] == ["新規開通：A現場ビル"]
