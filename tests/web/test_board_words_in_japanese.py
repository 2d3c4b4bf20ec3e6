"""The board and the drawer show coded values by their Japanese labels to a Japanese coordinator."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import Role
from tests.dispatch.conftest import World
from tests.factories import make_user

pytestmark = pytest.mark.django_db


def page_in(language: str, url: str) -> str:
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(make_user(Role.COORDINATOR))
    return client.get(url).content.decode()


def options_of(page: str, name: str) -> list[str]:
    select = page[page.index(f'<select name="{name}">') :]
    select = select[: select.index("</select>")]
    return re.findall(r"<option [^>]*>([^<]*)</option>", select)


def test_the_kind_filter_names_the_kinds_in_japanese(world: World) -> None:
    page = page_in("ja", f"/plans/{world.plan().pk}/")

    assert options_of(page, "kind") == [
        "すべて",
        "新規開通",
        "コース変更",
        "オフィス移転",
        "保守訪問",
    ]
    assert "Plan change" not in page


def test_the_drawer_names_the_jobs_kind_and_status_in_japanese(world: World) -> None:
    page = page_in("ja", f"/jobs/{world.jobs[0].pk}/drawer/")

    assert "<small>新規開通 · 着工可能</small>" in page
    assert "Ready to plan" not in page and "New line" not in page
