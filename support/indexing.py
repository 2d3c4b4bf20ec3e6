"""Keeping the search document of each site in step with its site, customers and contracts.

The index is rebuilt per site from scratch (a few rows, a few milliseconds),
never patched, so it cannot drift: whatever wrote the site, re-running
:func:`site_search_reindex` gives the same entry. Writes through the ORM
reach it through :mod:`support.signals`; bulk writes (imports, the demo, a
restore) call it directly or run ``manage.py reindex_sites``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from sites.models import Contract, Site
from sites.normalize import (
    kana_reading,
    normalize_address,
    normalize_id,
    normalize_name_key,
    normalize_phone,
    normalize_text,
)

from .models import SearchKeyKind, SiteSearchEntry, SiteSearchKey

KEY_MAX_LENGTH = 200


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
) -> IndexedSite:
    """The entry of one site from plain values (also used by the benchmark's generator).

    ``contracts`` holds ``(contract_id, circuit_id, customer name, customer
    kana, contact person, phone, other phone)`` per contract of the site.
    A name nobody gave a reading for gets a dictionary reading, so an
    operator who only heard the name can type it in kana.
    """
    contracts = list(contracts)
    raw_names = [site_name, site_kana or kana_reading(site_name)]
    for _contract, _circuit, customer, kana, contact, _phone, _alt in contracts:
        raw_names += [customer, kana or kana_reading(customer), contact]
    raw_phones = [p for c in contracts for p in (c[5], c[6]) if p]
    phones = _unique(normalize_phone(p) for p in raw_phones)
    ids = _unique(normalize_id(c[0]) for c in contracts) + _unique(
        normalize_id(c[1]) for c in contracts if c[1]
    )
    keys = [(SearchKeyKind.NAME.value, normalize_name_key(n)) for n in raw_names]
    keys += [(SearchKeyKind.PHONE.value, p) for p in phones]
    keys += [(SearchKeyKind.CONTRACT.value, normalize_id(c[0])) for c in contracts]
    keys += [(SearchKeyKind.CIRCUIT.value, normalize_id(c[1])) for c in contracts if c[1]]
    return IndexedSite(
        names=_unique(normalize_text(n) for n in raw_names),
        address=normalize_address(address),
        postal_code=postal_code,
        phones=phones,
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


@transaction.atomic
def site_search_reindex(*, site_ids: Iterable[int]) -> int:
    """Rebuild the search entries and keys of these sites; returns how many were indexed.

    Three reads whatever the number of sites, then one upsert and one
    delete-and-insert of keys, all in one transaction so a reader never sees
    a site with its entry but without its keys.
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
    entries, keys = [], []
    for site in sites:
        values = index_values(
            site_name=site.name,
            site_kana=site.name_kana,
            address=site.address,
            postal_code=site.postal_code,
            contracts=_contract_rows(site),
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
        ],
    )
    SiteSearchKey.objects.filter(site_id__in=ids).delete()
    SiteSearchKey.objects.bulk_create(keys, batch_size=1000)
    return len(entries)


def site_search_reindex_all(*, batch_size: int = 500) -> int:
    """Rebuild every site's entry, a batch per transaction; returns how many were indexed."""
    total = 0
    last_id = 0
    while True:
        batch = list(
            Site.objects.filter(pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return total
        total += site_search_reindex(site_ids=batch)
        last_id = batch[-1]
