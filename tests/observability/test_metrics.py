"""/metrics: who may read it, and that every domain metric shows up after its action."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings
from prometheus_client.parser import text_string_to_metric_families

from dispatch.ledger import ScheduleConflict
from dispatch.models import RunStatus
from dispatch.plans import plan_create, plan_publish
from dispatch.reports import job_report_record
from dispatch.runs import plan_request_optimization, run_optimization
from dispatch.slots import slot_offers, slot_request
from dispatch.states import JobStatus
from observability import queues
from observability.metrics import QueueDepthCollector, unassigned_rules
from sites.models import GeocodeStatus
from tests.api.conftest import Cast
from tests.dispatch.conftest import MONDAY, World
from tests.factories import make_job, make_site

TOKEN = "s3cret-metrics-token"


def scrape(client: Client | None = None, **extra: Any) -> str:
    response = (client or Client()).get("/metrics", **extra)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of the series ``name{labels}`` in a scrape, None if absent."""
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
    return None


def grew(before: str, after: str, name: str, **labels: str) -> float:
    return (sample(after, name, **labels) or 0.0) - (sample(before, name, **labels) or 0.0)


# --- Who may scrape -------------------------------------------------------------


@pytest.mark.django_db
def test_loopback_may_scrape_and_sees_djangos_own_metrics() -> None:
    Client().get("/api/v1/health/")
    text = scrape()
    assert "django_http_requests_total_by_method_total" in text
    assert "django_http_responses_total_by_status_total" in text
    assert sample(text, "django_http_responses_total_by_status_total", status="200")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "extra",
    [
        {"REMOTE_ADDR": "203.0.113.9"},
        # A local reverse proxy forwards an internet client: not a local scraper.
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"},
        {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_REAL_IP": "203.0.113.9"},
        {"REMOTE_ADDR": "203.0.113.9", "HTTP_AUTHORIZATION": "Bearer guessed"},
    ],
)
def test_outsiders_are_refused(extra: dict[str, Any]) -> None:
    with override_settings(METRICS_TOKEN=TOKEN):
        response = Client().get("/metrics", **extra)
    assert response.status_code == 403
    assert b"dispatch_" not in response.content


@pytest.mark.django_db
def test_the_token_opens_it_from_anywhere_and_only_when_configured() -> None:
    outsider: dict[str, Any] = {
        "REMOTE_ADDR": "203.0.113.9",
        "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
    }
    with override_settings(METRICS_TOKEN=TOKEN):
        assert "dispatch_celery_queue_depth" in scrape(**outsider)
    with override_settings(METRICS_TOKEN=""):
        assert Client().get("/metrics", **outsider).status_code == 403


@pytest.mark.django_db
def test_allowed_networks_and_trusted_proxies() -> None:
    with override_settings(METRICS_ALLOWED_IPS=["10.0.0.0/8"]):
        assert Client().get("/metrics", REMOTE_ADDR="10.2.3.4").status_code == 200
        assert Client().get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    behind_one_proxy = {"REST_FRAMEWORK": {"NUM_PROXIES": 1}}
    with override_settings(METRICS_ALLOWED_IPS=["10.0.0.0/8"], **behind_one_proxy):
        via_proxy: dict[str, Any] = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "10.9.9.9"}
        assert Client().get("/metrics", **via_proxy).status_code == 200
        spoofed: dict[str, Any] = {
            "REMOTE_ADDR": "127.0.0.1",
            "HTTP_X_FORWARDED_FOR": "10.9.9.9, 203.0.113.9",
        }
        assert Client().get("/metrics", **spoofed).status_code == 403
    with override_settings(METRICS_ALLOWED_IPS=[]):
        assert Client().get("/metrics").status_code == 403


# --- Domain metrics -------------------------------------------------------------


@pytest.mark.django_db
def test_a_finished_run_counts_by_status_with_its_duration_and_unassigned_reasons(
    world: World,
) -> None:
    nowhere = make_site(
        region=world.region, latitude=None, longitude=None, geocode_status=GeocodeStatus.NOT_FOUND
    )
    make_job(site=nowhere, status=JobStatus.READY, duration_minutes=60)
    before = scrape()
    run = run_optimization(run_id=plan_request_optimization(plan=world.plan(), enqueue=False).pk)
    assert run.status == RunStatus.SUCCEEDED
    after = scrape()
    status = {"status": "succeeded"}
    assert grew(before, after, "dispatch_optimization_runs_total", **status) == 1
    name = "dispatch_optimization_run_duration_seconds_count"
    assert grew(before, after, name, **status) == 1
    assert grew(before, after, "dispatch_jobs_unassigned_total", rule="location") == 1


def test_unassigned_rules_are_distinct_per_job() -> None:
    rows = [
        {"job_id": 1, "reasons": [{"rule": "skill"}, {"rule": "skill"}, {"rule": "window"}]},
        {"job_id": 2, "reasons": []},
    ]
    assert list(unassigned_rules(rows)) == ["skill", "window", "unknown"]


@pytest.mark.django_db
def test_a_field_report_counts_by_kind(cast: Cast) -> None:
    before = scrape()
    job_report_record(job=cast.job_a, visit=cast.visit_a, kind="en_route", by=cast.partner_a)
    after = scrape()
    assert grew(before, after, "dispatch_field_reports_total", kind="en_route") == 1


@pytest.mark.django_db
def test_a_refused_publication_counts_its_conflicts(world: World) -> None:
    world.west_crew.is_active = False
    world.west_crew.save()
    plans = [
        plan_create(
            name=f"twin {i}",
            region=world.region,
            start_date=MONDAY,
            end_date=MONDAY,
            params={"time_limit_seconds": 1},
        )
        for i in range(2)
    ]
    for plan in plans:
        run_optimization(run_id=plan_request_optimization(plan=plan, enqueue=False).pk)
    plan_publish(plan=plans[0])
    before = scrape()
    with pytest.raises(ScheduleConflict) as refused:
        plan_publish(plan=plans[1])
    after = scrape()
    for kind in {c.kind for c in refused.value.conflicts}:
        expected = sum(1 for c in refused.value.conflicts if c.kind == kind)
        assert grew(before, after, "dispatch_publish_conflicts_total", kind=kind) == expected


@pytest.mark.django_db
def test_slot_offers_are_timed(world: World) -> None:
    before = scrape()
    slot_offers(
        slot_request(
            site=world.jobs[0].site,
            skills=["fibre_splicing"],
            duration_minutes=60,
            days=2,
            first_date=MONDAY + dt.timedelta(days=7),
        )
    )
    after = scrape()
    assert grew(before, after, "dispatch_slot_offer_duration_seconds_count") == 1


# --- Queue depth ------------------------------------------------------------------


def _depth() -> float | None:
    families = list(QueueDepthCollector().collect())
    return next(s.value for s in families[0].samples if s.labels == {"queue": "celery"})


@pytest.mark.django_db
def test_queue_depth_counts_the_filesystem_brokers_messages(tmp_path: object) -> None:
    folder = Path(str(tmp_path))
    (folder / "1_a.celery.msg").write_bytes(b"{}")
    (folder / "2_b.celery.msg").write_bytes(b"{}")
    (folder / "3_c.other.msg").write_bytes(b"{}")
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    with override_settings(
        CELERY_BROKER_URL="filesystem://", CELERY_BROKER_TRANSPORT_OPTIONS=options
    ):
        assert _depth() == 2
        assert sample(scrape(), "dispatch_celery_queue_depth", queue="celery") == 2


@pytest.mark.django_db
def test_a_broker_that_does_not_answer_is_minus_one_not_a_failed_scrape() -> None:
    with override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0"):
        assert sample(scrape(), "dispatch_celery_queue_depth", queue="celery") == -1
    with override_settings(CELERY_BROKER_URL="amqp://guest@127.0.0.1//"):
        assert _depth() == -1


@pytest.mark.redis
@pytest.mark.django_db
def test_queue_depth_reads_redis_list_lengths() -> None:
    import redis
    from django.conf import settings

    queue = "obs-test-queue"
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(queue, f"{queue}\x06\x163")
    try:
        client.rpush(queue, "a", "b")
        client.rpush(f"{queue}\x06\x163", "c")
        assert queues.queue_depth(settings.CELERY_BROKER_URL, queue) == 3
        with override_settings(METRICS_CELERY_QUEUES=[queue]):
            assert sample(scrape(), "dispatch_celery_queue_depth", queue=queue) == 3
    finally:
        client.delete(queue, f"{queue}\x06\x163")


# --- Several processes ------------------------------------------------------------

_COUNT_ONE_REPORT = """
import django
django.setup()
from observability import metrics
metrics.record_field_report("arrived")
"""
_SCRAPE = """
import django
django.setup()
from prometheus_client import generate_latest
from observability import metrics
print(generate_latest(metrics.scrape_registry()).decode())
"""


def test_with_a_multiprocess_folder_a_scrape_sums_what_other_processes_counted(
    tmp_path: Path,
) -> None:
    """What a worker process counted shows in the web process's /metrics (same machine)."""
    env = {
        **os.environ,
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
    }
    root = Path(__file__).resolve().parents[2]
    for _ in range(2):  # two "worker" processes, each counting one report
        subprocess.run([sys.executable, "-c", _COUNT_ONE_REPORT], env=env, cwd=root, check=True)
    scraped = subprocess.run(
        [sys.executable, "-c", _SCRAPE], env=env, cwd=root, check=True, capture_output=True
    ).stdout.decode()
    assert sample(scraped, "dispatch_field_reports_total", kind="arrived") == 2
    assert sample(scraped, "dispatch_celery_queue_depth", queue="celery") is not None
