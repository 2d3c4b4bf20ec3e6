"""The search box: whatever the caller reads out, the right building comes first."""

from __future__ import annotations

import pytest

from support.indexing import site_search_reindex, site_search_reindex_all
from support.models import SiteSearchEntry, SiteSearchKey
from support.search import TEXT_CANDIDATES, Matched, site_ids, site_search
from tests.factories import make_contract, make_customer, make_site
from tests.support.conftest import Desk


def first(query: str) -> int | None:
    result = site_search(query)
    return result.hits[0].site_id if result.hits else None


@pytest.mark.parametrize(
    "query",
    [
        "KN-2024-000123",
        "kn2024000123",
        "ＫＮ－２０２４－０００１２３",  # noqa: RUF001
        "FTTH-13-0004567",
        "ftth 13 0004567",
    ],
)
def test_a_contract_or_circuit_id_finds_its_site_first(desk: Desk, query: str) -> None:
    result = site_search(query)
    assert result.hits[0].site_id == desk.shibaura.pk
    assert result.hits[0].matched in (Matched.CONTRACT, Matched.CIRCUIT)


@pytest.mark.parametrize(
    "query",
    [
        "03-1234-5678",
        "０３－１２３４－５６７８",
        "+81 3 1234 5678",
        "(03)1234-5678",
        "090 1111 2222",
    ],
)
def test_a_phone_number_in_any_format_finds_the_customers_site(desk: Desk, query: str) -> None:
    result = site_search(query)
    assert result.hits[0].site_id == desk.shibaura.pk
    assert result.hits[0].matched == Matched.PHONE


def test_a_number_stored_with_plus81_is_found_by_its_domestic_form(desk: Desk) -> None:
    assert first("03-5555-0101") == desk.marunouchi.pk


def test_a_number_stored_in_full_width_digits_is_found_by_ascii_digits(desk: Desk) -> None:
    assert first("045-678-9012") == desk.kasumigaseki.pk


def test_the_last_four_digits_rank_the_number_that_ends_with_them_first(desk: Desk) -> None:
    # 0312345678 ends with 5678; 0456789012 only contains it.
    result = site_search("5678")
    assert site_ids(result)[:2] == [desk.shibaura.pk, desk.kasumigaseki.pk]


@pytest.mark.parametrize(
    "query",
    ["やまだしょうじ", "ヤマダショウジ", "ﾔﾏﾀﾞｼｮｳｼﾞ", "山田商事", "株式会社山田商事", "㈱山田商事"],
)
def test_a_customer_name_in_kanji_or_any_kana_finds_its_site(desk: Desk, query: str) -> None:
    result = site_search(query)
    assert result.hits[0].site_id == desk.shibaura.pk
    assert result.hits[0].matched == Matched.NAME


def test_a_name_without_a_typed_reading_is_found_by_what_it_sounds_like(desk: Desk) -> None:
    # 丸の内テラス has no kana on record; the index holds a dictionary reading.
    assert first("まるのうち") == desk.marunouchi.pk


@pytest.mark.parametrize(
    "query", ["芝浦3-4-1", "芝浦三丁目4番1号", "芝浦３－４－１", "港区芝浦3丁目", "芝浦 3-4"]
)
def test_a_partial_address_in_any_spelling_finds_the_building(desk: Desk, query: str) -> None:
    assert first(query) == desk.shibaura.pk


def test_ga_ke_and_small_ke_spellings_of_kasumigaseki_agree(desk: Desk) -> None:
    assert first("霞ヶ関2-1-1") == desk.kasumigaseki.pk
    assert first("霞ケ関２丁目１") == desk.kasumigaseki.pk


def test_every_word_must_match_somewhere(desk: Desk) -> None:
    assert site_ids(site_search("千代田区 サトウ")) == [desk.marunouchi.pk]
    assert site_ids(site_search("千代田区 ヤマダ")) == []


def test_an_exact_name_ranks_above_a_name_that_only_contains_it(desk: Desk) -> None:
    exact = make_site(name="サンプルビル", address="東京都品川区東品川2-2-2")
    longer = make_site(name="新サンプルビル別館", address="東京都品川区東品川2-2-3")
    assert site_ids(site_search("サンプルビル"))[:2] == [exact.pk, longer.pk]


def test_a_contract_id_outranks_a_phone_that_happens_to_contain_the_same_digits(desk: Desk) -> None:
    site = make_site(name="数字ビル", address="東京都品川区1-1-1")
    contract = make_contract(
        customer=make_customer(name="数字商会", phone="03-1234-5678"), contract_id="0312345678"
    )
    contract.sites.add(site)
    result = site_search("0312345678")
    assert site_ids(result)[:2] == [site.pk, desk.shibaura.pk]
    assert [h.matched for h in result.hits[:2]] == [Matched.CONTRACT, Matched.PHONE]


def test_a_hit_carries_what_the_operator_needs_to_pick_the_right_one(desk: Desk) -> None:
    hit = site_search("KN-2024-000123").hits[0]
    assert hit.name == "芝浦シーサイドビル"
    assert hit.address == "東京都港区芝浦三丁目4番1号"
    assert hit.customers == "株式会社山田商事"
    assert hit.contracts == "KN-2024-000123"
    assert "03-1234-5678" in hit.phones


def test_nothing_typed_finds_nothing_and_nonsense_finds_nothing(desk: Desk) -> None:
    assert site_search("   ").hits == []
    assert site_search("存在しない会社名です").hits == []


def test_too_many_matches_are_cut_and_said_to_be_cut(db: None) -> None:
    for n in range(TEXT_CANDIDATES + 5):
        make_site(name=f"量産ビル{n}", address=f"東京都大田区量産町{n}-1")
    result = site_search("量産町", limit=10)
    assert len(result.hits) == 10
    assert result.truncated


def test_renaming_a_customer_reindexes_its_sites(desk: Desk) -> None:
    customer = desk.yamada.customer
    customer.name = "株式会社ヤマダホールディングス"
    customer.save()
    assert first("ヤマダホールディングス") == desk.shibaura.pk


def test_moving_a_contract_to_another_site_moves_its_id_in_the_index(desk: Desk) -> None:
    desk.yamada.sites.remove(desk.shibaura)
    desk.yamada.sites.add(desk.kasumigaseki)
    assert first("KN-2024-000123") == desk.kasumigaseki.pk
    assert not SiteSearchKey.objects.filter(site=desk.shibaura, value="KN2024000123").exists()


def test_editing_the_address_reindexes_the_site(desk: Desk) -> None:
    desk.shibaura.address = "東京都港区海岸1丁目2番3号"
    desk.shibaura.save()
    assert first("海岸1-2-3") == desk.shibaura.pk
    assert first("芝浦3-4-1") is None


def test_a_reindex_from_scratch_gives_the_same_entries(desk: Desk) -> None:
    before = list(SiteSearchEntry.objects.order_by("pk").values_list("document", flat=True))
    SiteSearchEntry.objects.all().delete()
    assert site_search_reindex_all(batch_size=2) == 3
    after = list(SiteSearchEntry.objects.order_by("pk").values_list("document", flat=True))
    assert after == before
    assert site_search_reindex(site_ids=[]) == 0


def test_a_name_shared_by_more_customers_than_are_read_says_so(db: None) -> None:
    from support.search import PREFIX_CANDIDATES

    for n in range(PREFIX_CANDIDATES + 1):
        contract = make_contract(customer=make_customer(name="株式会社同名商事", name_kana=""))
        contract.sites.add(make_site(name=f"同名ビル{n}", address=f"東京都北区王子{n}-1"))
    result = site_search("同名商事")
    assert result.truncated
    assert all(hit.matched == Matched.NAME for hit in result.hits)
