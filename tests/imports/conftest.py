"""Fixtures for the import tests: the real files under ``files/`` and the people who upload them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from accounts.models import Role, User
from dispatch.models import Skill
from tests.factories import make_company, make_skill, make_user

FILES = Path(__file__).resolve().parent / "files"


def read(name: str) -> bytes:
    """The bytes of a fixture file, exactly as a coordinator would upload it."""
    return (FILES / name).read_bytes()


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    """A small CSV written inline, for rules that one or two rows show best."""
    return text.strip().replace("\n", "\r\n").encode(encoding)


@pytest.fixture
def skills(db: None) -> list[Skill]:
    """The skill codes the crew files use."""
    return [make_skill("fibre_splicing"), make_skill("aerial")]


@pytest.fixture
def alice(db: None) -> User:
    """Alice coordinates deliveries: the only role that imports and exports."""
    return make_user(Role.COORDINATOR, username="alice")


@pytest.fixture
def sam(db: None) -> User:
    """Sam answers support calls: he reads sites, he does not import them."""
    return make_user(Role.SUPPORT, username="sam")


@pytest.fixture
def pat(db: None) -> User:
    """Pat works for a partner company."""
    return make_user(Role.PARTNER, username="pat", partner_company=make_company())


@pytest.fixture
def client_for() -> Callable[[User | None], APIClient]:
    """An API client logged in as ``user`` (anonymous for None)."""

    def build(user: User | None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return build
