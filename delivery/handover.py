"""The parallel tasks before a line opens (IP address, billing) and the handover itself.

Delivery issues an IP address and sets up billing (direct debit) while the
crew builds; the line may only be handed over (開通) once construction is
completed, an address is assigned and billing is ready. At handover the
construction record becomes the one support reads, so it is archived then.

Every write here locks the contract row first (``select_for_update``): IP
allocation, release, billing and handover of one contract are serialised, so
a handover can never pass its checks while a concurrent request releases the
address it just checked. Two *different* contracts racing for the same free
address are settled by the database instead (the ``ip_address_assigned_once``
unique constraint), see :func:`ip_get_or_allocate`.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterator

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from accounts.models import User
from core.errors import DomainError
from dispatch.models import CompletionFacts, FactsStatus, Job
from dispatch.services import job_transition
from dispatch.states import JobKind, JobStatus
from sites.models import (
    BillingStatus,
    ConstructionRecord,
    Contract,
    ContractStatus,
    IpAssignment,
    IpPool,
    Region,
)

IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: How often an allocation retries after losing a race for an address to a concurrent one.
ALLOCATION_ATTEMPTS = 5

#: Jobs that build or move the line; handing the contract over means handing these over.
#: Maintenance visits happen on open lines and never gate a handover.
INSTALLATION_KINDS: frozenset[str] = frozenset(
    {JobKind.NEW_LINE, JobKind.RELOCATION, JobKind.PLAN_CHANGE}
)

#: billing status -> statuses it may move to. Back to pending when the bank
#: rejects the direct-debit request; once ready, billing runs and is not undone here.
BILLING_TRANSITIONS: dict[str, frozenset[str]] = {
    BillingStatus.PENDING: frozenset({BillingStatus.REQUESTED}),
    BillingStatus.REQUESTED: frozenset({BillingStatus.READY, BillingStatus.PENDING}),
    BillingStatus.READY: frozenset(),
}


# --- errors (409 in the API, each with its code) ---------------------------------------


class HandoverError(DomainError):
    """A step before or at line opening that the contract's state does not allow."""

    code = "handover_refused"


class IpPoolExhausted(HandoverError):
    code = "ip_pool_exhausted"


class IpAllocationContended(HandoverError):
    """Concurrent allocations kept taking the addresses this one picked; retrying is safe."""

    code = "ip_allocation_contended"


class NoIpPool(HandoverError):
    code = "no_ip_pool"


class ContractCancelled(HandoverError):
    code = "contract_cancelled"


class IpInUse(HandoverError):
    code = "ip_in_use"


class BillingTransitionError(HandoverError):
    code = "billing_transition"


class HandoverBlocked(HandoverError):
    """Handover refused; ``details["blockers"]`` lists every missing condition in plain words."""

    code = "handover_blocked"


# --- IP pools ----------------------------------------------------------------------------


def pool_network(pool: IpPool) -> IpNetwork:
    return ipaddress.ip_network(pool.network, strict=False)


def usable_hosts(network: IpNetwork) -> Iterator[IpAddress]:
    """The addresses a pool hands out, lowest first.

    ``hosts()`` already leaves out the IPv4 network and broadcast addresses
    (and the IPv6 subnet-router anycast address). By convention the first host
    is the customer-side gateway, so it is never handed to a line either: a
    /29 gives .2 to .6, a /30 gives one address, a /32 none.
    """
    # hosts() is a list for /31 and /32 and a generator otherwise.
    hosts: Iterator[IpAddress] = iter(network.hosts())
    next(hosts, None)  # the gateway
    return hosts


def ip_pool_create(
    *, name: str, network: str, region: Region | None = None, is_active: bool = True
) -> IpPool:
    """Add an address block; refuses malformed, useless or overlapping networks.

    Overlap matters because the unique constraint is on the address alone: two
    overlapping pools would keep offering the same addresses and their
    allocations would collide (cleanly, but forever). The check is not
    race-proof against a second coordinator adding an overlapping pool at the
    same instant; double *assignment* still cannot happen, the constraint holds.
    """
    try:
        parsed = ipaddress.ip_network(network.strip(), strict=True)
    except ValueError as exc:
        message = _("not a network in CIDR notation: %(reason)s") % {"reason": exc}
        raise ValidationError({"network": [message]}) from exc
    if next(usable_hosts(parsed), None) is None:
        raise ValidationError(
            {
                "network": [
                    _("%(network)s leaves no address once the gateway is reserved")
                    % {"network": parsed}
                ]
            }
        )
    for other in IpPool.objects.only("name", "network"):
        other_network = pool_network(other)
        if other_network.version == parsed.version and other_network.overlaps(parsed):
            message = _("overlaps pool '%(pool)s' (%(network)s)") % {
                "pool": other.name,
                "network": other_network,
            }
            raise ValidationError({"network": [message]})
    return IpPool.objects.create(name=name, network=str(parsed), region=region, is_active=is_active)


def _lock_contract(contract: Contract) -> Contract:
    return Contract.objects.select_for_update().get(pk=contract.pk)


def _candidate_pools(contract: Contract) -> list[IpPool]:
    """Active pools of the regions of the contract's sites (its own and its jobs'), by name."""
    site_ids = set(contract.sites.values_list("id", flat=True))
    site_ids |= set(contract.jobs.values_list("site_id", flat=True))
    pools = list(
        IpPool.objects.filter(is_active=True, region__sites__in=site_ids)
        .distinct()
        .order_by("name")
    )
    if not pools:
        raise NoIpPool(
            _(
                "no active IP pool serves the region of contract %(contract)s's site; "
                "add one for that region or choose a pool explicitly"
            )
            % {"contract": contract.contract_id}
        )
    return pools


def _lowest_free(pool: IpPool, skip: set[IpAddress]) -> IpAddress | None:
    # Walk the pool from the bottom and stop at the first gap: never more than
    # (assigned + 1) steps, even for an IPv6 pool with 2**64 addresses.
    network = pool_network(pool)
    taken = {
        ipaddress.ip_address(address)
        for address in IpAssignment.objects.filter(pool=pool).values_list("address", flat=True)
    } | skip
    for address in usable_hosts(network):
        if address not in taken:
            return address
    return None


def _pick(pools: list[IpPool], skip: set[IpAddress]) -> tuple[IpPool, IpAddress] | None:
    """The first pool with a free address, and its lowest free address."""
    for pool in pools:
        address = _lowest_free(pool, skip)
        if address is not None:
            return pool, address
    return None


@transaction.atomic
def ip_get_or_allocate(
    *, contract: Contract, pool: IpPool | None = None
) -> tuple[IpAssignment, bool]:
    """The contract's address, allocating the lowest free one if it has none yet.

    Returns ``(assignment, created)``. A contract has one address: when it
    already has one, that one comes back whatever ``pool`` says (release it
    first to move it). Without ``pool`` the pools of the site's region are
    tried in name order.

    Two allocations for *different* contracts may pick the same lowest free
    address at once. The unique constraint lets one commit; the other's insert
    fails inside its savepoint, and it retries with the next free address, up
    to :data:`ALLOCATION_ATTEMPTS` times. Allocations for the *same* contract
    queue on the contract's row lock, so the second one finds the first's address.

    Raises
    ------
    ContractCancelled, NoIpPool, IpPoolExhausted, IpAllocationContended
    """
    locked = _lock_contract(contract)
    existing = IpAssignment.objects.filter(contract=locked).select_related("pool").first()
    if existing is not None:
        return existing, False
    if locked.status == ContractStatus.CANCELLED:
        raise ContractCancelled(
            _("contract %(contract)s is cancelled; it gets no address")
            % {"contract": locked.contract_id}
        )
    if pool is not None and not pool.is_active:
        raise NoIpPool(_("IP pool '%(pool)s' is not active") % {"pool": pool.name}, field="pool")
    pools = [pool] if pool is not None else _candidate_pools(locked)

    lost: set[IpAddress] = set()  # addresses a concurrent allocation took from under us
    for _attempt in range(ALLOCATION_ATTEMPTS):
        chosen = _pick(pools, lost)
        if chosen is None:
            names = pgettext("list separator", ", ").join(
                f"'{p.name}' ({p.network})" for p in pools
            )
            raise IpPoolExhausted(
                _("no free address left in IP pool %(pools)s") % {"pools": names},
                pools=[p.name for p in pools],
            )
        candidate, address = chosen
        try:
            # A savepoint: a failed insert must not doom the outer transaction.
            with transaction.atomic():
                assignment = IpAssignment.objects.create(
                    pool=candidate, address=str(address), contract=locked
                )
        except IntegrityError:
            # Only the address can collide: this contract's row lock keeps a
            # second allocation for the same contract waiting above.
            lost.add(address)
            continue
        return assignment, True
    raise IpAllocationContended(
        _(
            "other allocations took the free addresses %(attempts)s times in a row; "
            "nothing was assigned, try again"
        )
        % {"attempts": ALLOCATION_ATTEMPTS},
    )


def ip_allocate(*, contract: Contract, pool: IpPool | None = None) -> IpAssignment:
    """The contract's IP address, allocated if needed (see :func:`ip_get_or_allocate`)."""
    return ip_get_or_allocate(contract=contract, pool=pool)[0]


@transaction.atomic
def ip_release(*, contract: Contract) -> str | None:
    """Give the contract's address back to its pool; returns it (None if it had none).

    Releasing is idempotent. A live line's address is not released: the
    contract must be cancelled first (an active contract has customers on it).
    """
    locked = _lock_contract(contract)
    if locked.status == ContractStatus.ACTIVE:
        raise IpInUse(
            _(
                "contract %(contract)s's line is open; cancel the contract before "
                "releasing its address"
            )
            % {"contract": locked.contract_id}
        )
    assignment = IpAssignment.objects.filter(contract=locked).first()
    if assignment is None:
        return None
    address = assignment.address
    assignment.delete()
    return address


# --- billing -----------------------------------------------------------------------------


@transaction.atomic
def contract_set_billing(*, contract: Contract, status: str, on: dt.date | None = None) -> Contract:
    """Move the contract's billing set-up: pending → requested → ready (or back to pending).

    ``ready`` records ``billing_ready_on`` (``on``, default today); setting the
    status the contract already has changes nothing, so retries are harmless.

    Raises
    ------
    ContractCancelled, BillingTransitionError
    ValueError
        ``on`` with another status than ready, or in the future (the API
        validates both before calling).
    """
    if on is not None and status != BillingStatus.READY:
        raise ValueError("a billing date only goes with status 'ready'")
    if on is not None and on > timezone.localdate():
        raise ValueError("billing cannot be ready on a future date")
    locked = _lock_contract(contract)
    if locked.billing_status == status:
        return locked
    if locked.status == ContractStatus.CANCELLED:
        raise ContractCancelled(
            _("contract %(contract)s is cancelled") % {"contract": locked.contract_id}
        )
    allowed = BILLING_TRANSITIONS.get(locked.billing_status, frozenset())
    if status not in allowed:
        separator = pgettext("list separator", ", ")
        allowed_text = separator.join(_billing_label(target) for target in sorted(allowed)) or _(
            "nothing (final)"
        )
        raise BillingTransitionError(
            _(
                "billing cannot go from '%(current)s' to '%(target)s'; "
                "from '%(current)s' it can go to %(allowed)s"
            )
            % {
                "current": _billing_label(locked.billing_status),
                "target": _billing_label(status),
                "allowed": allowed_text,
            },
            field="status",
            current_status=locked.billing_status,
            requested_status=status,
        )
    locked.billing_status = status
    locked.billing_ready_on = (
        (on or timezone.localdate()) if status == BillingStatus.READY else None
    )
    locked.save(update_fields=["billing_status", "billing_ready_on"])
    contract.billing_status, contract.billing_ready_on = status, locked.billing_ready_on
    return locked


def _billing_label(status: str) -> str:
    try:
        return str(BillingStatus(status).label)
    except ValueError:
        return status


# --- handover ----------------------------------------------------------------------------

#: Why billing blocks a handover, per billing status (the English names the status).
_BILLING_NOT_READY: dict[str, str | Promise] = {
    BillingStatus.PENDING: gettext_lazy("billing is pending, not ready"),
    BillingStatus.REQUESTED: gettext_lazy("billing is requested, not ready"),
}


def _open_installation_jobs(contract: Contract) -> list[Job]:
    # Iterates ``contract.jobs.all()`` so a prefetched ``jobs`` costs no query.
    return sorted(
        (
            job
            for job in contract.jobs.all()
            if job.kind in INSTALLATION_KINDS
            and job.status not in (JobStatus.HANDED_OVER, JobStatus.CANCELLED)
        ),
        key=lambda job: job.reference,
    )


def _has_ip(contract: Contract) -> bool:
    try:
        contract.ip_assignment  # noqa: B018 - the reverse one-to-one, cached by select_related
    except IpAssignment.DoesNotExist:
        return False
    return True


def handover_blockers(*, contract: Contract) -> list[str]:
    """Every reason the contract's line cannot be handed over now, in plain words; [] when ready.

    Pure read. With ``select_related("ip_assignment")`` and
    ``prefetch_related("jobs")`` on the contract it runs no query, so the
    order status view can call it for every row.

    The jobs handed over are the contract's installation jobs (new line,
    relocation, plan change) not yet handed over or cancelled, so a relocation
    on an active contract is handed over like the first line was.
    """
    blockers: list[str] = []
    if contract.status == ContractStatus.CANCELLED:
        blockers.append(_("contract is cancelled"))
    jobs = _open_installation_jobs(contract)
    if not jobs:
        if contract.handed_over_at is not None:
            blockers.append(_("nothing to hand over: no installation job is open"))
        else:
            blockers.append(_("construction not ordered (no installation job for this contract)"))
    for job in jobs:
        if job.status != JobStatus.COMPLETED:
            state = str(JobStatus(job.status).label).lower()
            blockers.append(
                _("construction not completed (job %(job)s is %(state)s)")
                % {"job": job.reference, "state": state}
            )
    if not _has_ip(contract):
        blockers.append(_("no IP address assigned"))
    if contract.billing_status != BillingStatus.READY:
        blockers.append(
            str(
                _BILLING_NOT_READY.get(contract.billing_status)
                or _("billing is %(status)s, not ready")
                % {"status": _billing_label(contract.billing_status)}
            )
        )
    return blockers


@transaction.atomic
def contract_hand_over(*, contract: Contract, by: User | None = None) -> Contract:
    """Open the line: hand the completed jobs over and archive their as-built for support.

    All or nothing, in one transaction: each open installation job moves
    completed → handed_over through ``job_transition`` (with its history row),
    the contract becomes active with ``handed_over_at`` now, and each job's
    latest construction record is archived (from then on it is the record
    support reads). The contract row is locked while the conditions are
    checked, so a concurrent IP release or billing change cannot slip in
    between check and write.

    Raises
    ------
    HandoverBlocked
        When anything is missing; its message and ``details["blockers"]`` list
        every missing condition, not just the first.
    """
    _lock_contract(contract)
    locked = (
        Contract.objects.select_related("ip_assignment")
        .prefetch_related("jobs")
        .get(pk=contract.pk)
    )
    blockers = handover_blockers(contract=locked)
    if blockers:
        raise HandoverBlocked(
            _("contract %(contract)s cannot be handed over: %(blockers)s")
            % {
                "contract": locked.contract_id,
                "blockers": pgettext("list separator", "; ").join(blockers),
            },
            blockers=blockers,
        )
    now = timezone.now()
    for job in _open_installation_jobs(locked):
        job_transition(
            job=job,
            to_status=JobStatus.HANDED_OVER,
            by=by,
            note=f"line handed over (contract {locked.contract_id})",
        )
        latest_record = (
            ConstructionRecord.objects.filter(job=job).order_by("-recorded_at", "-id").first()
        )
        if latest_record is not None and latest_record.archived_at is None:
            latest_record.archived_at = now
            latest_record.save(update_fields=["archived_at"])
    locked.status = ContractStatus.ACTIVE
    locked.handed_over_at = now
    locked.save(update_fields=["status", "handed_over_at"])
    contract.status, contract.handed_over_at = locked.status, now
    return locked


# --- completion facts: the crew proposes, delivery confirms at handover -------------------
#
# Pending proposals do not block a handover (the crew's facts are extras for
# support, not conditions of the line): the handover status lists them so
# delivery decides them there, before or after opening the line.


class FactsAlreadyDecided(HandoverError):
    """The proposal was confirmed or rejected already; a decision is final."""

    code = "facts_already_decided"


class NoConstructionRecord(HandoverError):
    """Nothing to add confirmed facts to: the site has no as-built record yet."""

    code = "no_construction_record"


def pending_completion_facts(*, contract: Contract) -> QuerySet[CompletionFacts]:
    """Proposals of the contract's jobs still waiting for delivery's decision, oldest first."""
    return (
        CompletionFacts.objects.filter(job__contract=contract, status=FactsStatus.PROPOSED)
        .select_related("job", "crew", "company")
        .order_by("proposed_at", "id")
    )


def _lock_undecided(facts: CompletionFacts) -> CompletionFacts:
    locked = (
        CompletionFacts.objects.select_for_update()
        .select_related("job", "company", "crew")
        .get(pk=facts.pk)
    )
    if locked.status != FactsStatus.PROPOSED:
        raise FactsAlreadyDecided(
            _("these completion facts were already %(status)s on %(date)s")
            % {
                "status": str(FactsStatus(locked.status).label).lower(),
                "date": timezone.localtime(locked.decided_at).strftime("%Y-%m-%d %H:%M")
                if locked.decided_at
                else "—",
            },
            current_status=locked.status,
        )
    return locked


def _current_record(facts: CompletionFacts) -> ConstructionRecord | None:
    """The as-built version the facts amend: the job's latest, else the one support reads."""
    records = ConstructionRecord.objects.filter(site_id=facts.site_id)
    return (
        records.filter(job_id=facts.job_id).order_by("-recorded_at", "-id").first()
        or records.order_by(F("archived_at").desc(nulls_last=True), "-recorded_at", "-id").first()
    )


@transaction.atomic
def completion_facts_confirm(*, facts: CompletionFacts, by: User | None) -> CompletionFacts:
    """Write the crew's facts into the as-built record as a new version of it.

    The new :class:`~sites.models.ConstructionRecord` copies the current one
    and takes the crew's serial, port and light level over it; the crew's
    note is appended to its notes. The current version is left untouched, so
    every earlier value stays readable. When the current version was already
    archived at handover, the new one is archived too: it is what support
    reads from now on.

    Raises
    ------
    FactsAlreadyDecided
        The proposal was decided before (HTTP 409).
    NoConstructionRecord
        The site has no as-built record to amend (HTTP 409).
    """
    locked = _lock_undecided(facts)
    base = _current_record(locked)
    if base is None:
        raise NoConstructionRecord(
            _(
                "the site has no as-built record yet; record where the media converter "
                "is first, then confirm the crew's facts"
            )
        )
    now = timezone.now()
    notes = base.notes
    if locked.note:
        notes = f"{notes}\n{locked.note}" if notes else locked.note
    record = ConstructionRecord.objects.create(
        site_id=locked.site_id,
        job_id=locked.job_id,
        media_converter_location=base.media_converter_location,
        port=locked.port or base.port,
        cable_route=base.cable_route,
        riser=base.riser,
        notes=notes,
        media_converter_serial=locked.mc_serial or base.media_converter_serial,
        light_level_dbm=(
            locked.light_level_dbm if locked.light_level_dbm is not None else base.light_level_dbm
        ),
        recorded_by=by,
        recorded_at=now,
        archived_at=now if base.archived_at is not None else None,
    )
    locked.status = FactsStatus.CONFIRMED
    locked.decided_by = by
    locked.decided_at = now
    locked.record = record
    locked.save(update_fields=["status", "decided_by", "decided_at", "record"])
    return locked


@transaction.atomic
def completion_facts_reject(
    *, facts: CompletionFacts, by: User | None, reason: str
) -> CompletionFacts:
    """Turn the crew's proposal down with a reason; the as-built record is not touched.

    Raises
    ------
    FactsAlreadyDecided
        The proposal was decided before (HTTP 409).
    ValueError
        A blank reason (the API asks for one before calling).
    """
    if not reason.strip():
        raise ValueError("a rejection needs a reason")
    locked = _lock_undecided(facts)
    locked.status = FactsStatus.REJECTED
    locked.decided_by = by
    locked.decided_at = timezone.now()
    locked.decision_reason = reason.strip()
    locked.save(update_fields=["status", "decided_by", "decided_at", "decision_reason"])
    return locked
