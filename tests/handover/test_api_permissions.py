"""Every handover operation for every role: coordinators do, support reads, partners never.

Codes per operation, in the order coordinator, support, partner, anonymous:
``+`` gets in (anything but 401/403), ``-`` refused with 403, ``?`` 401.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.api.conftest import Cast

from .conftest import Line

pytestmark = pytest.mark.urls("tests.handover.urls")

Client = Callable[[User | None], APIClient]

MATRIX: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/ip-pools/"): "+--?",
    ("POST", "/api/v1/ip-pools/"): "+--?",
    ("GET", "/api/v1/contracts/{id}/ip/"): "++-?",
    ("POST", "/api/v1/contracts/{id}/ip/"): "+--?",
    ("DELETE", "/api/v1/contracts/{id}/ip/"): "+--?",
    ("POST", "/api/v1/contracts/{id}/billing/"): "+--?",
    ("GET", "/api/v1/contracts/{id}/handover/"): "++-?",
    ("POST", "/api/v1/contracts/{id}/handover/"): "+--?",
}

CALLERS = ("coordinator", "support", "partner_a", None)


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_each_role_gets_in_or_is_refused_as_the_table_says(
    cast: Cast, client_for: Client, line: Line, method: str, path: str
) -> None:
    url = path.replace("{id}", str(line.contract.pk))
    body = {"name": "P", "network": "198.51.100.0/29"} if path.endswith("ip-pools/") else {}
    if path.endswith("billing/"):
        body = {"status": "requested"}
    answers = ""
    for caller in CALLERS:
        user = getattr(cast, caller) if caller else None
        response = client_for(user).generic(
            method, url, json.dumps(body), content_type="application/json"
        )
        answers += {401: "?", 403: "-"}.get(response.status_code, "+")
    assert answers == MATRIX[(method, path)]
