"""A crew app retrying one report from ten threads at once (one Idempotency-Key) on
PostgreSQL: exactly one report is stored and every answer carries that report."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from dispatch.models import JobReport, JobStatusChange
from tests.api.conftest import Cast

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 10


def test_ten_concurrent_retries_store_exactly_one_report(cast: Cast) -> None:
    barrier = threading.Barrier(THREADS)

    def post(_: int) -> tuple[int, Any]:
        client = APIClient()
        client.force_authenticate(user=cast.partner_a)
        barrier.wait()  # all ten hit the endpoint together
        try:
            response = client.post(
                f"/api/v1/jobs/{cast.job_a.pk}/reports/",
                {"kind": "incomplete", "reason_code": "no_access", "reason_text": "管理人不在"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="one-report",
            )
            return response.status_code, response.json()
        finally:
            connection.close()  # each thread has its own connection

    with ThreadPoolExecutor(THREADS) as pool:
        answers = list(pool.map(post, range(THREADS)))

    statuses = sorted(status for status, _ in answers)
    assert statuses.count(201) == 1 and set(statuses) <= {200, 201}, answers
    assert len({body["id"] for _, body in answers}) == 1
    assert JobReport.objects.count() == 1
    assert JobStatusChange.objects.filter(job=cast.job_a, to_status="ready").count() <= 1
