"""Orders: one row per job, with its contract, customer and site.

Natural keys, so that importing the same sheet twice changes nothing:

* the **contract** by its contract id, and through it the customer;
* a **customer** without a known contract by name and phone (digits only);
* a **site** by its normalised address (see
  :func:`~delivery.imports.cells.normalise_address`), preferring the job's current
  site, then one already linked to the contract, then one with the same name;
* the **job** by the ``reference`` column, or ``IMP-<contract id>-<kind>``.

New jobs start in status ``new``: an order still needs its site survey, and an
import is no place to walk the state machine. New sites without coordinates
are geocoded after the import commits; with coordinates they are ``manual``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from dispatch.estimates import BASE_MINUTES
from dispatch.models import Job
from dispatch.promises import TIME_SLOTS, slot_name
from dispatch.states import FIXED_STATUSES, TERMINAL_STATUSES, JobStatus
from sites.access import AccessHours, AccessHoursError
from sites.access_text import ParsedAccess
from sites.models import Contract, Customer, Site
from sites.normalize import format_phone, format_postal_code
from sites.postal import address_contradiction, area_blanks, lookup_postal_code
from sites.services import GEOCODING_FIELDS, SiteLocation, site_follow_location
from sites.tasks import site_request_geocoding

from .cells import (
    Cell,
    Column,
    normalise_address,
    parse_access,
    parse_code,
    parse_date,
    parse_dates,
    parse_flag,
    parse_float,
    parse_int,
    parse_kind,
    parse_phone,
    parse_postal_code,
    parse_text,
    parse_time_slot,
    phone_digits,
)
from .records import Record, shown
from .report import RowResult

COLUMNS: tuple[Column, ...] = (
    Column("reference", "reference", ("案件番号", "参照番号", "job reference"), parse_code(32)),
    Column("contract_id", "contract id", ("契約ID", "契約番号"), parse_code(32), required=True),
    Column("circuit_id", "circuit id", ("回線ID", "回線番号"), parse_code(32)),
    Column(
        "customer_name", "customer name", ("顧客名", "お客様名", "customer"), parse_text(200), True
    ),
    Column("customer_kana", "customer kana", ("顧客名カナ", "フリガナ", "カナ"), parse_text(200)),
    Column("phone", "phone", ("電話番号", "電話", "TEL", "telephone"), parse_phone),
    Column(
        "site_name",
        "site name",
        ("建物名", "設置先名", "現場名", "ビル名", "building name"),
        parse_text(200),
        required=True,
    ),
    Column(
        "address",
        "site address",
        ("住所", "設置先住所", "所在地", "address"),
        parse_text(300),
        required=True,
    ),
    Column("postal_code", "postal code", ("郵便番号", "〒", "zip code"), parse_postal_code),
    Column("prefecture", "prefecture", ("都道府県",), parse_text(10)),
    Column("city", "city", ("市区町村", "city / ward"), parse_text(50)),
    Column("latitude", "latitude", ("緯度", "lat"), parse_float(-90, 90)),
    Column("longitude", "longitude", ("経度", "lon", "lng"), parse_float(-180, 180)),
    Column("kind", "job kind", ("作業種別", "種別", "工事種別", "kind"), parse_kind, required=True),
    Column("earliest_date", "earliest date", ("着工可能日", "作業可能日", "earliest"), parse_date),
    Column("due_date", "due date", ("納期", "期日", "due"), parse_date),
    Column(
        "duration_minutes",
        "duration minutes",
        ("作業時間(分)", "所要時間(分)", "作業時間", "duration"),
        parse_int(1, 24 * 60),
    ),
    Column("priority", "priority", ("優先度",), parse_int(1, 5)),
    Column(
        "work_instructions",
        "work instructions",
        ("作業指示", "備考", "作業内容", "notes"),
        parse_text(10_000),
    ),
    Column(
        "access_hours",
        "access hours",
        ("入館可能時間", "入館時間", "作業可能時間", "立入可能時間", "入館条件"),
        parse_access,
    ),
    Column(
        "preferred_dates", "preferred dates", ("希望日", "工事希望日", "訪問希望日"), parse_dates
    ),
    Column("time_slot", "time slot", ("希望時間帯", "訪問時間帯", "時間帯"), parse_time_slot),
    Column("promise_is_hard", "promised", ("確約", "日時確約", "promise"), parse_flag),
)

#: A job in these statuses is history (or on site right now): an import must not rewrite it.
LOCKED_STATUSES = FIXED_STATUSES | TERMINAL_STATUSES

_CHUNK = 500


@dataclass(frozen=True)
class OrderValues:
    """One row's values; None where the column is missing or the cell blank."""

    reference: str | None = None
    contract_id: str | None = None
    circuit_id: str | None = None
    customer_name: str | None = None
    customer_kana: str | None = None
    phone: str | None = None
    site_name: str | None = None
    address: str | None = None
    postal_code: str | None = None
    prefecture: str | None = None
    city: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    kind: str | None = None
    earliest_date: Any = None
    due_date: Any = None
    duration_minutes: int | None = None
    priority: int | None = None
    work_instructions: str | None = None
    access_hours: ParsedAccess | None = None
    preferred_dates: list[dt.date] | None = None
    time_slot: tuple[dt.time, dt.time] | None = None
    promise_is_hard: bool | None = None


def job_reference(*, contract_id: str, kind: str) -> str:
    """The reference an imported job gets when the file names none: stable across imports."""
    reference = f"IMP-{contract_id}-{kind}"
    if len(reference) <= 32:  # Job.reference's column
        return reference
    digest = hashlib.sha256(f"{contract_id}\x00{kind}".encode()).hexdigest()[:12]
    return f"IMP-{digest}-{kind}"


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    items = list(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


class OrdersImport:
    """Resolves and (with ``write``) saves order rows; one instance per import run."""

    columns = COLUMNS
    values_class = OrderValues

    def __init__(self, *, write: bool) -> None:
        self.write = write
        self.geocoding_queued = 0
        self.contracts: dict[str, Record[Contract]] = {}
        self.customers_by_pk: dict[int, Record[Customer]] = {}
        self.customers_by_key: dict[tuple[str, str], Record[Customer]] = {}
        self.customers_by_name: dict[str, list[Record[Customer]]] = {}
        self.customer_of: dict[int, Record[Customer]] = {}  # id(contract record) -> customer
        self.circuit_owners: dict[str, str] = {}
        self.sites_by_pk: dict[int, Record[Site]] = {}
        self.sites_by_address: dict[str, list[Record[Site]]] = {}
        self.stored_links: set[tuple[int, int]] = set()  # (contract pk, site pk)
        self.new_links: set[tuple[int, int]] = set()  # (id(contract record), id(site record))
        self.jobs: dict[str, Record[Job]] = {}
        self.seen_references: dict[str, int] = {}
        self.counted_sites: set[int] = set()

    def _locked(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # The apply holds the rows it may change until it commits, so a
        # coordinator's edit in between is not silently overwritten.
        return queryset.select_for_update(of=("self",)) if self.write else queryset

    # --- loading -------------------------------------------------------------------------

    def preload(self, rows: list[OrderValues]) -> None:
        """Fetch, in a few queries, everything the rows may refer to."""
        contract_ids = {row.contract_id for row in rows if row.contract_id}
        for chunk in _chunks(contract_ids):
            for contract in self._locked(
                Contract.objects.filter(contract_id__in=chunk).select_related("customer")
            ):
                record = Record(contract, entity="contract", is_new=False)
                self.contracts[contract.contract_id] = record
                self.customer_of[id(record)] = self._customer_record(contract.customer)
                if contract.circuit_id:
                    self.circuit_owners[contract.circuit_id] = contract.contract_id
        contract_pks = [record.obj.pk for record in self.contracts.values()]
        for chunk in _chunks(contract_pks):
            self.stored_links.update(
                Contract.sites.through.objects.filter(contract_id__in=chunk).values_list(
                    "contract_id", "site_id"
                )
            )
        circuits = {row.circuit_id for row in rows if row.circuit_id}
        for chunk in _chunks(circuits):
            for circuit_id, contract_id in Contract.objects.filter(
                circuit_id__in=chunk
            ).values_list("circuit_id", "contract_id"):
                self.circuit_owners[circuit_id or ""] = contract_id
        names = {row.customer_name for row in rows if row.customer_name}
        for chunk in _chunks(names):
            for customer in Customer.objects.filter(name__in=chunk).order_by("pk"):
                self._customer_record(customer)

        references = {self._reference(row) for row in rows if row.contract_id and row.kind}
        site_pks: set[int] = set()
        for chunk in _chunks(references):
            for job in self._locked(
                Job.objects.filter(reference__in=chunk).select_related("contract")
            ):
                self.jobs[job.reference] = Record(job, entity="job", is_new=False)
                site_pks.add(job.site_id)
        # Addresses are compared normalised, which the database cannot do:
        # read every site's address once (two narrow columns), match here.
        wanted = {normalise_address(row.address) for row in rows if row.address}
        site_pks.update(
            pk
            for pk, address in Site.objects.values_list("pk", "address").iterator()
            if normalise_address(address) in wanted
        )
        for chunk in _chunks(sorted(site_pks)):
            for site in self._locked(Site.objects.filter(pk__in=chunk).order_by("pk")):
                record = Record(site, entity="site", is_new=False)
                self.sites_by_pk[site.pk] = record
                self.sites_by_address.setdefault(normalise_address(site.address), []).append(record)

    def _customer_record(self, customer: Customer) -> Record[Customer]:
        record = self.customers_by_pk.get(customer.pk)
        if record is None:
            record = Record(customer, entity="customer", is_new=False)
            self.customers_by_pk[customer.pk] = record
            self.customers_by_key.setdefault((customer.name, phone_digits(customer.phone)), record)
            self.customers_by_name.setdefault(customer.name, []).append(record)
        return record

    @staticmethod
    def _reference(row: OrderValues) -> str:
        assert row.contract_id and row.kind
        return row.reference or job_reference(contract_id=row.contract_id, kind=row.kind)

    def key_of(self, row: OrderValues) -> str:
        if row.contract_id and row.kind:
            return self._reference(row)
        return row.reference or row.contract_id or ""

    # --- one row -------------------------------------------------------------------------

    def process(self, row: OrderValues, result: RowResult) -> None:
        """Work out (and with ``write``, save) what this row means for the stored data."""
        if (row.latitude is None) != (row.longitude is None):
            missing = "latitude" if row.latitude is None else "longitude"
            result.error(missing, _("is empty; give both latitude and longitude, or neither"))
        reference = self._reference(row)
        result.key = reference
        first_row = self.seen_references.get(reference)
        if first_row is not None:
            result.error(
                "reference" if row.reference else "job kind",
                _("row %(row)s already holds job %(job)s; each job may appear only once")
                % {"row": first_row, "job": reference},
            )
        self.seen_references.setdefault(reference, result.row)
        if not result.is_valid:
            return
        job = self.jobs.get(reference)
        contract, customer = self._contract(row, result)
        site, geocode = self._site(row, result, contract=contract, job=job)
        job = self._job(row, result, reference=reference, job=job, contract=contract, site=site)
        self._link(contract, site, result)
        if not result.is_valid:
            return
        # Once per site: on a dry run a new site is unsaved on each of its rows.
        new_site_to_geocode = geocode and id(site) not in self.counted_sites
        if new_site_to_geocode:
            self.counted_sites.add(id(site))
            self.geocoding_queued += 1
            result.notes.append(_("new site: geocoded after the import"))
        if job.is_new:  # each reference appears once per file, so this row creates it
            result.action = "create"
        else:
            result.action = "update" if result.changes else "unchanged"
        if self.write:
            self._save(customer, contract, site, job, geocode=new_site_to_geocode)

    def _customer(
        self, row: OrderValues, result: RowResult, contract: Record[Contract] | None
    ) -> Record[Customer]:
        if contract is not None:
            customer = self.customer_of[id(contract)]
        else:
            name = row.customer_name or ""
            customer_or_none = self.customers_by_key.get((name, phone_digits(row.phone or "")))
            same_name = self.customers_by_name.get(name, [])
            if customer_or_none is None and row.phone is None and len(same_name) == 1:
                # No phone in the sheet and one customer of that name: that one.
                customer_or_none = same_name[0]
            if customer_or_none is None:
                customer_or_none = Record(Customer(), entity="customer", is_new=True)
                self.customers_by_key[(name, phone_digits(row.phone or ""))] = customer_or_none
                self.customers_by_name.setdefault(name, []).append(customer_or_none)
            customer = customer_or_none
        customer.set("name", row.customer_name, column="customer name", result=result)
        customer.set("name_kana", row.customer_kana, column="customer kana", result=result)
        if row.phone is None or format_phone(customer.obj.phone) != row.phone:
            # The same number spelled as an older row stores it is no change.
            customer.set("phone", row.phone, column="phone", result=result)
        return customer

    def _contract(
        self, row: OrderValues, result: RowResult
    ) -> tuple[Record[Contract], Record[Customer]]:
        assert row.contract_id
        contract = self.contracts.get(row.contract_id)
        if contract is None:
            customer = self._customer(row, result, None)
            contract = Record(
                Contract(contract_id=row.contract_id, customer=customer.obj),
                entity="contract",
                is_new=True,
            )
            contract.claimed["contract_id"] = result.row
            self.contracts[row.contract_id] = contract
            self.customer_of[id(contract)] = customer
        else:
            customer = self._customer(row, result, contract)
        if row.circuit_id is not None:
            owner = self.circuit_owners.get(row.circuit_id)
            if owner is not None and owner != row.contract_id:
                result.error(
                    "circuit id",
                    _("'%(circuit)s' already belongs to contract %(contract)s")
                    % {"circuit": row.circuit_id, "contract": owner},
                )
            else:
                previous = contract.obj.circuit_id
                if contract.set("circuit_id", row.circuit_id, column="circuit id", result=result):
                    if previous:
                        self.circuit_owners.pop(previous, None)
                    self.circuit_owners[row.circuit_id] = row.contract_id
        return contract, customer

    def _site(
        self,
        row: OrderValues,
        result: RowResult,
        *,
        contract: Record[Contract],
        job: Record[Job] | None,
    ) -> tuple[Record[Site], bool]:
        """The row's site, and whether it must be queued for the geocoder once saved."""
        assert row.address
        address_key = normalise_address(row.address)
        candidates = self.sites_by_address.get(address_key, [])
        site: Record[Site] | None = None
        if job is not None and not job.is_new:
            current = self.sites_by_pk.get(job.obj.site_id)
            if current is not None and current in candidates:
                site = current
        if site is None:
            site = next((s for s in candidates if self._linked(contract, s)), None)
        if site is None:
            site = next((s for s in candidates if s.obj.name == row.site_name), None)
        if site is None and candidates:
            site = candidates[0]
        if site is None:
            site = Record(Site(address=row.address), entity="site", is_new=True)
            site.claimed["address"] = result.row
            self.sites_by_address.setdefault(address_key, []).append(site)
        before = SiteLocation.of(site.obj) if site.stored else None
        site.set("name", row.site_name, column="site name", result=result)
        site.set("postal_code", row.postal_code, column="postal code", result=result)
        if row.postal_code:
            _check_postal_area(row.address, row.postal_code, result)
        site.set("prefecture", row.prefecture, column="prefecture", result=result)
        site.set("city", row.city, column="city", result=result)
        if row.postal_code:  # blanks from Japan Post's data (sites.postal), the sheet's win
            for field, value in area_blanks(
                row.postal_code,
                address=row.address,
                prefecture=site.obj.prefecture,
                city=site.obj.city,
            ).items():
                site.set(field, value, column=field, result=result)
        site.set("latitude", row.latitude, column="latitude", result=result)
        site.set("longitude", row.longitude, column="longitude", result=result)
        if row.access_hours is not None:
            hours = row.access_hours.hours
            site.set("access_hours", hours.to_json(), column="access hours", result=result)
            if row.access_hours.notes:
                site.set(
                    "access_notes", row.access_hours.notes, column="access hours", result=result
                )
        # The same rule as the API's: coordinates from the sheet are manual.
        geocoding = site_follow_location(site=site.obj, before=before)
        if geocoding.changed:
            site.dirty.update(GEOCODING_FIELDS)
        return site, geocoding.queue

    def _linked(self, contract: Record[Contract], site: Record[Site]) -> bool:
        if (id(contract), id(site)) in self.new_links:
            return True
        return (contract.obj.pk, site.obj.pk) in self.stored_links

    def _link(self, contract: Record[Contract], site: Record[Site], result: RowResult) -> None:
        if self._linked(contract, site):
            return
        self.new_links.add((id(contract), id(site)))
        if not contract.is_new and not site.is_new:
            # Bookkeeping, not a change the sheet asked for: a job of the
            # contract at this site already implies the link, and jobs made
            # in the app may lack it, which must not spoil a round trip.
            result.notes.append(
                _("links the site at %(address)s to the contract")
                % {"address": shown(site.obj.address)}
            )

    def _job(
        self,
        row: OrderValues,
        result: RowResult,
        *,
        reference: str,
        job: Record[Job] | None,
        contract: Record[Contract],
        site: Record[Site],
    ) -> Record[Job]:
        assert row.kind
        if job is None:
            job = Record(Job(reference=reference, status=JobStatus.NEW), entity="job", is_new=True)
            self.jobs[reference] = job
            job.obj.duration_minutes = BASE_MINUTES.get(row.kind, 120)
        elif job.obj.contract_id is not None and job.obj.contract_id != contract.obj.pk:
            assert job.obj.contract is not None
            result.error(
                "reference",
                _("job %(job)s belongs to contract %(contract)s, not %(row_contract)s")
                % {
                    "job": reference,
                    "contract": job.obj.contract.contract_id,
                    "row_contract": row.contract_id,
                },
            )
            return job
        job.set("kind", row.kind, column="job kind", result=result)
        self._relate(job, "contract", contract, result=result, shown_as=row.contract_id)
        self._relate(job, "site", site, result=result, shown_as=site.obj.address)
        job.set("earliest_date", row.earliest_date, column="earliest date", result=result)
        job.set("due_date", row.due_date, column="due date", result=result)
        job.set("duration_minutes", row.duration_minutes, column="duration minutes", result=result)
        job.set("priority", row.priority, column="priority", result=result)
        job.set(
            "work_instructions", row.work_instructions, column="work instructions", result=result
        )
        if row.preferred_dates is not None:
            dates = [day.isoformat() for day in row.preferred_dates]
            job.set("preferred_dates", dates, column="preferred dates", result=result)
        if row.time_slot is not None:
            job.set("window_start", row.time_slot[0], column="time slot", result=result)
            job.set("window_end", row.time_slot[1], column="time slot", result=result)
        job.set("promise_is_hard", row.promise_is_hard, column="promised", result=result)
        earliest, due = job.obj.earliest_date, job.obj.due_date
        if earliest is not None and due is not None and earliest > due:
            result.error(
                "earliest date" if row.earliest_date else "due date",
                _("the earliest date %(earliest)s is after the due date %(due)s")
                % {"earliest": earliest, "due": due},
            )
        if not job.is_new and job.dirty and job.obj.status in LOCKED_STATUSES:
            result.error(
                None,
                _(
                    "job %(job)s is %(status)s; an import may not change it "
                    "(would change: %(fields)s)"
                )
                % {
                    "job": reference,
                    "status": job.obj.get_status_display().lower(),
                    "fields": pgettext("list separator", ", ").join(
                        _field_name(name) for name in sorted(job.dirty)
                    ),
                },
            )
        return job

    @staticmethod
    def _relate(
        job: Record[Job],
        field: str,
        target: Record[Any],
        *,
        result: RowResult,
        shown_as: str | None,
    ) -> None:
        current_pk = getattr(job.obj, f"{field}_id")
        if current_pk is not None and target.stored and current_pk == target.obj.pk:
            return
        if not job.is_new:
            result.changes.append(
                _("job %(field)s: now %(value)s")
                % {"field": _field_name(field), "value": shown(shown_as)}
            )
        setattr(job.obj, field, target.obj)
        job.dirty.add(field)

    def _save(
        self,
        customer: Record[Customer],
        contract: Record[Contract],
        site: Record[Site],
        job: Record[Job],
        *,
        geocode: bool,
    ) -> None:
        customer.save()
        contract.obj.customer = customer.obj
        contract.save()
        site.save(touch=["updated_at"])
        if geocode:
            site_request_geocoding(site=site.obj)
        if (contract.obj.pk, site.obj.pk) not in self.stored_links:
            contract.obj.sites.add(site.obj)
            self.stored_links.add((contract.obj.pk, site.obj.pk))
        if job.stored and job.dirty:
            # The version counts every change to the job, the import's included.
            job.obj.version += 1
            job.dirty.add("version")
        job.save(touch=["updated_at"])


def export_rows() -> tuple[list[str], list[list[Cell]]]:
    """Every job that has a contract, as order rows the import reads back unchanged."""
    header = [column.label for column in COLUMNS]
    rows: list[list[Cell]] = []
    jobs = (
        Job.objects.filter(contract__isnull=False)
        .select_related("site", "contract__customer")
        .order_by("contract__contract_id", "reference")
    )
    for job in jobs.iterator(chunk_size=1000):
        contract, site = job.contract, job.site
        assert contract is not None
        customer = contract.customer
        rows.append(
            [
                job.reference,
                contract.contract_id,
                contract.circuit_id or "",
                customer.name,
                customer.name_kana,
                customer.phone,
                site.name,
                site.address,
                site.postal_code,
                site.prefecture,
                site.city,
                site.latitude,
                site.longitude,
                job.kind,
                job.earliest_date,
                job.due_date,
                job.duration_minutes,
                job.priority,
                job.work_instructions,
                access_text(site),
                ", ".join(str(day) for day in job.preferred_dates or []),
                _slot_text(job),
                "確約" if job.promise_is_hard else "希望",
            ]
        )
    return header, rows


def access_text(site: Site) -> str:
    """The site's access hours as the import reads them back (Japanese, with its notes)."""
    try:
        hours = AccessHours.from_json(site.access_hours or [])
    except AccessHoursError:
        return ""
    text = "" if hours.is_unrestricted else hours.describe("ja")
    return "。".join(part for part in (text, site.access_notes) if part)


def _slot_text(job: Job) -> str:
    if job.window_start is None or job.window_end is None:
        return ""
    name = slot_name(job.window_start, job.window_end)
    if name in TIME_SLOTS:
        return name.upper()
    return f"{job.window_start:%H:%M}-{job.window_end:%H:%M}"


def _check_postal_area(address: str, postal_code: str, result: RowResult) -> None:
    """Note an address that lies outside its postal code's area (a typo in one of them).

    A warning, not an error: Japan Post renumbers areas now and then, and the
    bundled data (optional, see :mod:`sites.postal`) may be older than the sheet.
    """
    area = lookup_postal_code(postal_code)
    if area is None:
        return
    expected = address_contradiction(address, area)
    if expected is not None:
        result.notes.append(
            _("warning: postal code %(postal_code)s is in %(area)s, but the address is %(address)s")
            % {
                "postal_code": format_postal_code(postal_code),
                "area": expected,
                "address": shown(address),
            }
        )


def _field_name(name: str) -> str:
    """A job field as people read it (its verbose name, in the active language)."""
    try:
        field = Job._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(getattr(field, "verbose_name", name))
