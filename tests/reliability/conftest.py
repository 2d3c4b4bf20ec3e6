"""Reliability and security tests reuse the API's cast (Alice, Sam, partners A and B)
and the small planning world of the dispatch tests."""

from tests.api.conftest import _fresh_throttle_counters, cast, client_for  # noqa: F401
from tests.dispatch.conftest import world  # noqa: F401
