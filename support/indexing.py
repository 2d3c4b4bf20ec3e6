"""Keeping the search document of each site in step with its site, customers and contracts.

The index is rebuilt per site from scratch (a few rows, a few milliseconds),
never patched, so it cannot drift: whatever wrote the site, re-running
:func:`site_search_reindex` gives the same entry. Writes through the ORM
reach it through :mod:`support.signals`; bulk writes (imports, the demo, a
restore) call it directly or run ``manage.py reindex_sites``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from sites.models import Contract, Site
from sites.normalize import (
    kana_reading,
    normalize_address,
    normalize_id,
    normalize_name_key,
    normalize_phone,
    normalize_text,
    query_tokens,
)
from stamps.counters import bump_on_commit, counters_read

from .models import Call, CallAmendment, SearchKeyKind, SiteSearchEntry, SiteSearchKey

KEY_MAX_LENGTH = 200
#: Raised whenever what an entry holds changes (2: contact persons and callers), so
#: :func:`site_search_reindex_stale` rebuilds the entries written by older rules.
INDEX_VERSION = 2

#: Key kinds of the people behind a site, beside :class:`~support.models.SearchKeyKind`
#: (kept out of its choices so the index needs no migration; ``kind`` is a plain
#: 8-character column): a customer's contact person (name, and the dictionary
#: reading of it), a caller's name and a caller's phone from the call log
#: (a number a contact called from that is not one of the customer's own).
CONTACT_KEY = "contact"
CALLER_KEY = "caller"
CALLER_PHONE_KEY = "cphone"
PERSON_KEY_KINDS = (CONTACT_KEY, CALLER_KEY, CALLER_PHONE_KEY)
#: A caller's "phone" with fewer digits is an extension or a fragment, not a number.
MIN_CALLER_PHONE_DIGITS = 6

#: A leading word that names a department, not a person: "総務部 林 健太".
_DEPARTMENT_RE = re.compile(
    r"(部|課|室|係|班|局|センター|グループ|チーム|支店|支社|営業所|事業所|事務所|本部)$"
)


def person_names(text: str) -> list[str]:
    """The ways a contact field names its person, as written (spaces kept).

    ``総務部 林 健太`` -> ``総務部 林 健太`` and ``林 健太``: the whole text, then
    without each leading word while a family and a given name remain, and
    without a leading department word (``情報システム部 林健太`` -> ``林健太``).
    A two-word name is never cut to its given name alone (``阿部 健太``).
    """
    words = query_tokens(text or "")
    if not words:
        return []
    names = [" ".join(words)]
    for start in range(1, len(words)):
        before = words[start - 1]
        if len(words) - start >= 2 or (len(before) >= 3 and _DEPARTMENT_RE.search(before)):
            names.append(" ".join(words[start:]))
    return names


def person_keys(text: str) -> list[str]:
    """Exact/prefix keys of a person's name: each of :func:`person_names`, and its reading.

    There is no reading field for contact persons, so the reading is the
    dictionary's guess (``林 健太`` -> ``ハヤシケンタ``), as for names nobody
    typed a reading for; a name read another way is still found by its kanji.
    """
    names = person_names(text)
    keys = [normalize_name_key(name) for name in names]
    keys += [normalize_name_key(kana_reading(name)) for name in names[-1:]]
    return _unique(key[:KEY_MAX_LENGTH] for key in keys)


@dataclass
class IndexedSite:
    """The plain values of one site's entry and keys, before they become rows."""

    names: list[str] = field(default_factory=list)
    address: str = ""
    postal_code: str = ""
    phones: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)
    customer_display: str = ""
    contract_display: str = ""
    phone_display: str = ""

    @property
    def document(self) -> str:
        parts = [*self.names, self.address, self.postal_code, *self.phones, *self.ids]
        return " ".join(part for part in parts if part)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(value for value in values if value))


def index_values(
    *,
    site_name: str,
    site_kana: str,
    address: str,
    postal_code: str,
    contracts: Iterable[tuple[str, str | None, str, str, str, str, str]],
    callers: Iterable[tuple[str, str]] = (),
) -> IndexedSite:
    """The entry of one site from plain values (also used by the benchmark's generator).

    ``contracts`` holds ``(contract_id, circuit_id, customer name, customer
    kana, contact person, phone, other phone)`` per contract of the site;
    ``callers`` the ``(name, phone)`` of callers in the site's call log.
    A name nobody gave a reading for gets a dictionary reading, so an
    operator who only heard the name can type it in kana. Contact persons
    and callers get keys of their own kinds (:data:`PERSON_KEY_KINDS`), so a
    hit can say "contact: 林 健太".
    """
    contracts = list(contracts)
    callers = [(name.strip(), phone.strip()) for name, phone in callers if phone.strip()]
    key_names = [site_name, site_kana or kana_reading(site_name)]
    contacts: list[str] = []
    for _contract, _circuit, customer, kana, contact, _phone, _alt in contracts:
        key_names += [customer, kana or kana_reading(customer)]
        contacts.append(contact)
    contact_readings = [kana_reading(names[-1]) for names in map(person_names, contacts) if names]
    raw_names = [*key_names, *contacts, *contact_readings]
    raw_phones = [p for c in contracts for p in (c[5], c[6]) if p]
    phones = _unique(normalize_phone(p) for p in raw_phones)
    caller_phones = [
        phone
        for phone in _unique(normalize_phone(p) for _n, p in callers)
        if phone not in phones and len(phone) >= MIN_CALLER_PHONE_DIGITS
    ]
    ids = _unique(normalize_id(c[0]) for c in contracts) + _unique(
        normalize_id(c[1]) for c in contracts if c[1]
    )
    keys = [(SearchKeyKind.NAME.value, normalize_name_key(n)) for n in key_names]
    # A person who is also the customer (or a caller who is the contact) is found as such.
    taken = {value for _kind, value in keys}
    contact_keys = _unique(key for contact in contacts for key in person_keys(contact))
    keys += [(CONTACT_KEY, key) for key in contact_keys if key not in taken]
    taken |= set(contact_keys)
    caller_keys = _unique(key for name, _phone in callers for key in person_keys(name))
    keys += [(CALLER_KEY, key) for key in caller_keys if key not in taken]
    keys += [(SearchKeyKind.PHONE.value, p) for p in phones]
    keys += [(CALLER_PHONE_KEY, p) for p in caller_phones]
    keys += [(SearchKeyKind.CONTRACT.value, normalize_id(c[0])) for c in contracts]
    keys += [(SearchKeyKind.CIRCUIT.value, normalize_id(c[1])) for c in contracts if c[1]]
    return IndexedSite(
        names=_unique(normalize_text(n) for n in raw_names),
        address=normalize_address(address),
        postal_code=postal_code,
        phones=[*phones, *caller_phones],
        ids=ids,
        keys=list(dict.fromkeys((k, v[:KEY_MAX_LENGTH]) for k, v in keys if v)),
        customer_display=" / ".join(_unique(c[2] for c in contracts))[:500],
        contract_display=", ".join(_unique(c[0] for c in contracts))[:500],
        phone_display=" / ".join(_unique(raw_phones))[:200],
    )


def _contract_rows(site: Site) -> Iterator[tuple[str, str | None, str, str, str, str, str]]:
    for contract in site.contracts.all():
        customer = contract.customer
        yield (
            contract.contract_id,
            contract.circuit_id,
            customer.name,
            customer.name_kana,
            customer.contact_person,
            customer.phone,
            customer.phone_alt,
        )


#: A call's fields that name its caller (an amendment may correct them).
_CALLER_FIELDS = ("caller_name", "caller_phone")


def site_callers(site_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
    """``site id -> [(name, phone)]`` of the callers in the sites' call logs, as amended.

    Two reads: the calls' own caller fields and the amendments that correct
    them (oldest first, applied over the call like the desk shows it).
    """
    calls: dict[int, dict[str, Any]] = {
        pk: {"site_id": site_id, "caller_name": name, "caller_phone": phone}
        for pk, site_id, name, phone in Call.objects.filter(site_id__in=site_ids).values_list(
            "pk", "site_id", "caller_name", "caller_phone"
        )
    }
    amendments = (
        CallAmendment.objects.filter(call__site_id__in=site_ids)
        .exclude(corrections={})
        .order_by("created_at", "pk")
        .values_list("call_id", "corrections")
    )
    for call_id, corrections in amendments:
        for name in _CALLER_FIELDS:
            if isinstance(corrections, dict) and name in corrections and call_id in calls:
                calls[call_id][name] = str(corrections[name] or "")
    found: dict[int, list[tuple[str, str]]] = {}
    for call in calls.values():
        if call["caller_phone"]:
            pair = (call["caller_name"], call["caller_phone"])
            if pair not in found.setdefault(call["site_id"], []):
                found[call["site_id"]].append(pair)
    return found


#: The change counter of everything a search can answer (:mod:`stamps.counters`).
SEARCH_COUNTER = "site-search"


def search_changed() -> None:
    """Say, once the transaction commits, that cached search answers are out of date."""
    bump_on_commit([SEARCH_COUNTER])


def search_stamp() -> int:
    """A number that changes whenever a search may answer differently: read it first."""
    (value,) = counters_read([SEARCH_COUNTER])
    return value


@transaction.atomic
def site_search_reindex(*, site_ids: Iterable[int]) -> int:
    """Rebuild the search entries and keys of these sites; returns how many were indexed.

    Five reads whatever the number of sites (sites, contracts with their
    customers, calls, amendments), then one upsert and one delete-and-insert
    of keys, all in one transaction so a reader never sees a site with its
    entry but without its keys.
    """
    ids = sorted(set(site_ids))
    if not ids:
        return 0
    sites = Site.objects.filter(pk__in=ids).prefetch_related(
        Prefetch(
            "contracts",
            queryset=Contract.objects.select_related("customer").order_by("contract_id"),
        )
    )
    now = timezone.now()
    callers = site_callers(ids)
    entries, keys = [], []
    for site in sites:
        values = index_values(
            site_name=site.name,
            site_kana=site.name_kana,
            address=site.address,
            postal_code=site.postal_code,
            contracts=_contract_rows(site),
            callers=callers.get(site.pk, ()),
        )
        entries.append(
            SiteSearchEntry(
                site=site,
                names=" ".join(values.names),
                address=values.address,
                phones=" ".join(values.phones),
                ids=" ".join(values.ids),
                document=values.document,
                customer_display=values.customer_display,
                contract_display=values.contract_display,
                phone_display=values.phone_display,
                indexed_at=now,
                version=INDEX_VERSION,
            )
        )
        keys += [SiteSearchKey(site=site, kind=kind, value=value) for kind, value in values.keys]
    SiteSearchEntry.objects.bulk_create(
        entries,
        update_conflicts=True,
        unique_fields=["site"],
        update_fields=[
            "names",
            "address",
            "phones",
            "ids",
            "document",
            "customer_display",
            "contract_display",
            "phone_display",
            "indexed_at",
            "version",
        ],
    )
    SiteSearchKey.objects.filter(site_id__in=ids).delete()
    SiteSearchKey.objects.bulk_create(keys, batch_size=1000)
    search_changed()
    return len(entries)


def _reindex_in_batches(site_ids: QuerySet[Any, int], batch_size: int) -> int:
    """Rebuild the sites ``site_ids`` (a query of ids) selects, a batch per transaction."""
    total = 0
    last_id = 0
    while True:
        batch = list(site_ids.filter(pk__gt=last_id).order_by("pk")[:batch_size])
        if not batch:
            return total
        total += site_search_reindex(site_ids=batch)
        last_id = batch[-1]


def site_search_reindex_all(*, batch_size: int = 500) -> int:
    """Rebuild every site's entry, a batch per transaction; returns how many were indexed."""
    return _reindex_in_batches(Site.objects.values_list("pk", flat=True), batch_size)


def site_search_reindex_stale(*, batch_size: int = 500) -> int:
    """Rebuild the entries older indexing rules wrote; returns how many were rebuilt.

    Run after every ``migrate`` (:mod:`support.apps`), so an upgrade that
    teaches the index something new (contact persons, in version 2) finds old
    sites by it without anyone remembering ``manage.py reindex_sites``. One
    cheap query when nothing is stale.
    """
    stale = SiteSearchEntry.objects.filter(version__lt=INDEX_VERSION)
    return _reindex_in_batches(stale.values_list("pk", flat=True), batch_size)
