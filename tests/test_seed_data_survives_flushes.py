"""What the data migrations seed is there for every test, whatever ran before it.

A transactional test ends by emptying every table; tests/conftest.py puts the
migrations' rows (the default estimate rules) back. Without that, a test that
relies on them passed or failed by the order tests reached its process (CI saw
four estimate tests fail under pytest-xdist). Both tests are transactional, so
whichever runs second in a process runs after a flush.
"""

from __future__ import annotations

import pytest

from dispatch.models import EstimateRule

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_default_estimate_rules_are_there() -> None:
    assert EstimateRule.objects.filter(name="No conduit in shared areas").exists()


def test_the_default_estimate_rules_are_there_after_a_flush_too() -> None:
    assert EstimateRule.objects.count() == 8
