"""Contact persons and callers find their site: "林 健太" is the customer's contact, not its name.

Customers keep one free-text contact person (often with a department before
the name) and no reading of it; callers' names and phones are in the call
log. The search finds the site by the contact's name, its dictionary
reading, and by a phone a contact called from that is not the customer's
own, and the hit says who matched. These tests run on SQLite and, with
``DATABASE_URL`` pointing at PostgreSQL, there too (nothing here is
backend-specific; ``test_contacts_on_postgres`` checks the trigram path).
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from sites.models import Customer
from support.indexing import (
    CALLER_KEY,
    CALLER_PHONE_KEY,
    CONTACT_KEY,
    INDEX_VERSION,
    person_keys,
    person_names,
    site_search_reindex,
)
from support.models import SiteSearchKey
from support.search import Matched, site_search
from support.services import call_amend, call_log
from tests.support.conftest import Desk


@pytest.fixture
def hayashi(desk: Desk) -> Desk:
    """丸の内テラス's customer names 林 健太 of its general affairs department as contact."""
    customer = desk.sato.customer
    customer.contact_person = "総務部 林 健太"
    customer.save()
    return desk


@pytest.mark.parametrize("query", ["林 健太", "林健太", "林　健太", "総務部 林 健太"])
def test_the_contact_persons_name_finds_the_site_and_says_it_is_the_contact(
    hayashi: Desk, query: str
) -> None:
    [hit, *_] = site_search(query).hits
    assert hit.site_id == hayashi.marunouchi.pk
    assert hit.matched == Matched.CONTACT
    assert hit.matched_text == "総務部 林 健太"


@pytest.mark.parametrize("query", ["はやし けんた", "ハヤシケンタ", "ﾊﾔｼｹﾝﾀ", "はやし"])
def test_the_contact_is_found_by_the_dictionary_reading_of_the_name(
    hayashi: Desk, query: str
) -> None:
    [hit, *_] = site_search(query).hits
    assert (hit.site_id, hit.matched) == (hayashi.marunouchi.pk, Matched.CONTACT)


def test_a_department_word_is_not_the_person_but_a_surname_ending_in_bu_is() -> None:
    assert person_names("総務部 林 健太") == ["総務部 林 健太", "林 健太"]
    assert person_names("情報システム部 林健太") == ["情報システム部 林健太", "林健太"]
    assert person_names("阿部 健太") == ["阿部 健太"]  # not cut to the given name alone
    assert person_keys("林 健太") == ["林健太", "ハヤシケンタ"]


def test_changing_the_contact_reindexes_the_site(hayashi: Desk) -> None:
    customer = Customer.objects.get(pk=hayashi.sato.customer_id)
    customer.contact_person = "小林 美咲"
    customer.save()
    assert not site_search("林 健太").hits
    assert site_search("小林 美咲").hits[0].matched_text == "小林 美咲"


def test_the_customers_name_is_still_a_name_not_a_contact(hayashi: Desk) -> None:
    [hit, *_] = site_search("佐藤技研").hits
    assert (hit.site_id, hit.matched) == (hayashi.marunouchi.pk, Matched.NAME)


def test_a_phone_a_contact_called_from_finds_the_site_and_names_the_caller(desk: Desk) -> None:
    call_log(
        site=desk.kasumigaseki, operator=desk.support, category="no_connection",
        description="繋がらない", caller_name="林 健太", caller_phone="080-3333-4444",
    )  # fmt: skip
    for query in ("080-3333-4444", "08033334444", "+81 80 3333 4444"):
        [hit, *_] = site_search(query).hits
        assert (hit.site_id, hit.matched) == (desk.kasumigaseki.pk, Matched.CONTACT)
        assert hit.matched_text == "林 健太 080-3333-4444"
    [hit, *_] = site_search("林 健太").hits
    assert (hit.site_id, hit.matched_text) == (desk.kasumigaseki.pk, "林 健太")


def test_a_caller_on_the_customers_own_phone_stays_a_phone_match(desk: Desk) -> None:
    call_log(
        site=desk.shibaura, operator=desk.support, category="slow", description="遅い",
        caller_name="山田 太郎", caller_phone="03-1234-5678",
    )  # fmt: skip
    [hit, *_] = site_search("03-1234-5678").hits
    assert (hit.site_id, hit.matched) == (desk.shibaura.pk, Matched.PHONE)
    kinds = set(SiteSearchKey.objects.filter(site=desk.shibaura).values_list("kind", flat=True))
    assert CALLER_PHONE_KEY not in kinds


def test_an_amendment_correcting_the_callers_phone_moves_the_key(desk: Desk) -> None:
    call = call_log(
        site=desk.kasumigaseki, operator=desk.support, category="slow", description="遅い",
        caller_name="林", caller_phone="080-3333-4444",
    )  # fmt: skip
    call_amend(
        call=call, author=desk.support, text="番号の聞き間違い",
        corrections={"caller_phone": "080-3333-5555"},
    )  # fmt: skip
    assert not [h for h in site_search("080-3333-4444").hits if h.matched == Matched.CONTACT]
    assert site_search("080-3333-5555").hits[0].site_id == desk.kasumigaseki.pk


def test_reindexing_rebuilds_the_contact_keys(hayashi: Desk) -> None:
    SiteSearchKey.objects.filter(kind=CONTACT_KEY).delete()
    assert not site_search("林 健太").hits
    site_search_reindex(site_ids=[hayashi.marunouchi.pk])
    assert site_search("林 健太").hits[0].site_id == hayashi.marunouchi.pk
    assert not SiteSearchKey.objects.filter(kind=CALLER_KEY).exists()


def test_after_an_upgrade_migrate_rebuilds_entries_older_rules_wrote(hayashi: Desk) -> None:
    """Sites indexed before contacts were (version 1) find them once ``migrate`` has run."""
    from django.core.management import call_command

    from support.models import SiteSearchEntry

    SiteSearchKey.objects.filter(kind=CONTACT_KEY).delete()
    SiteSearchEntry.objects.update(version=1)
    assert not site_search("林 健太").hits
    call_command("migrate", verbosity=0)
    assert site_search("林 健太").hits[0].site_id == hayashi.marunouchi.pk
    assert not SiteSearchEntry.objects.filter(version__lt=INDEX_VERSION).exists()


def test_the_result_list_says_contact_and_who(hayashi: Desk) -> None:
    client = Client()
    client.force_login(hayashi.support)
    html = client.get(reverse("support:search"), {"q": "林 健太"}).content.decode()
    assert "contact: 総務部 林 健太" in html
    client.post(reverse("set_language"), {"language": "ja"})
    html = client.get(reverse("support:search"), {"q": "林 健太"}).content.decode()
    assert "窓口担当者: 総務部 林 健太" in html


def test_a_contact_search_reads_a_bounded_number_of_queries(
    hayashi: Desk, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(9):
        assert site_search("林 健太").hits


@pytest.mark.postgres
def test_contacts_on_postgres(hayashi: Desk) -> None:
    """The substring step (trigram index) finds a contact by a part of the name, too."""
    [hit, *_] = site_search("務部林").hits
    assert hit.site_id == hayashi.marunouchi.pk
    assert site_search("林 健太").hits[0].matched == Matched.CONTACT


def test_a_caller_who_is_the_contact_or_the_customer_adds_no_second_key(hayashi: Desk) -> None:
    for name in ("総務部 林 健太", "有限会社佐藤技研"):
        call_log(
            site=hayashi.marunouchi, operator=hayashi.support, category="slow",
            description="遅い", caller_name=name, caller_phone="080-7777-8888",
        )  # fmt: skip
    assert not SiteSearchKey.objects.filter(site=hayashi.marunouchi, kind=CALLER_KEY).exists()
    assert site_search("佐藤技研").hits[0].matched == Matched.NAME
    assert site_search("林 健太").hits[0].matched_text == "総務部 林 健太"


def test_the_api_says_which_contact_matched(hayashi: Desk) -> None:
    from rest_framework.test import APIClient

    api = APIClient()
    api.force_authenticate(user=hayashi.support)
    [hit, *_] = api.get("/api/v1/support/search/", {"q": "林 健太"}).json()["results"]
    assert (hit["site"], hit["matched"]) == (hayashi.marunouchi.pk, "contact")
    assert hit["matched_text"] == "総務部 林 健太"
