"""What support keeps: a search document per site, and the call log.

Calls and their amendments are a record of what was said and done, so they
are append-only. The service layer never updates or deletes them, and the
database refuses to as well (triggers created in migration 0002, on
PostgreSQL and SQLite alike): a correction is a new :class:`CallAmendment`,
never an edit. The only way rows leave is :func:`support.services.calls_purge`,
which leaves a :class:`CallPurge` row behind as its own audit trail.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sites.models import Contract, Site


class SiteSearchEntry(models.Model):
    """Everything one site can be found by, normalised (see :mod:`support.normalize`).

    Denormalised on purpose: finding a site by a customer's phone must not
    join sites, contracts and customers across a million rows during a call.
    ``document`` is what the trigram index covers (PostgreSQL); the other
    text columns say *which* part matched, for ranking and for the operator.
    """

    site = models.OneToOneField(
        Site, on_delete=models.CASCADE, primary_key=True, related_name="search_entry"
    )
    names = models.TextField(_("names"), blank=True)
    address = models.TextField(_("address"), blank=True)
    phones = models.TextField(_("phones"), blank=True)
    ids = models.TextField(_("contract and circuit ids"), blank=True)
    document = models.TextField(_("search document"), blank=True)
    customer_display = models.CharField(_("customers"), max_length=500, blank=True)
    contract_display = models.CharField(_("contracts"), max_length=500, blank=True)
    phone_display = models.CharField(_("phones as written"), max_length=200, blank=True)
    indexed_at = models.DateTimeField(_("indexed at"), default=timezone.now)
    # Which version of the indexing rules wrote this entry: entries older than
    # ``support.indexing.INDEX_VERSION`` are rebuilt after ``migrate``.
    version = models.PositiveSmallIntegerField(_("index version"), default=0)

    class Meta:
        verbose_name = _("site search entry")
        verbose_name_plural = _("site search entries")

    def __str__(self) -> str:
        return f"Search entry of site {self.site_id}"


class SearchKeyKind(models.TextChoices):
    CONTRACT = "contract", _("Contract id")
    CIRCUIT = "circuit", _("Circuit id")
    PHONE = "phone", _("Phone")
    NAME = "name", _("Name")


class SiteSearchKey(models.Model):
    """One exact key of a site (a contract id, a phone, a name), for exact and prefix lookups.

    A b-tree answers "= key" and "LIKE 'key%'" in well under a millisecond
    at any size; substring and fuzzy matches are the trigram index's job.
    """

    site = models.ForeignKey(Site, on_delete=models.CASCADE, related_name="search_keys")
    kind = models.CharField(_("kind"), max_length=8, choices=SearchKeyKind.choices)
    # db_index: on PostgreSQL Django adds a second, varchar_pattern_ops index
    # for LIKE 'prefix%' whatever the database's collation.
    value = models.CharField(_("value"), max_length=200, db_index=True)

    class Meta:
        verbose_name = _("site search key")
        verbose_name_plural = _("site search keys")
        constraints = [
            models.UniqueConstraint(fields=["site", "kind", "value"], name="search_key_unique"),
            models.CheckConstraint(name="search_key_not_blank", condition=~Q(value="")),
        ]

    def __str__(self) -> str:
        return f"{self.kind}={self.value}"


class CallCategory(models.TextChoices):
    NO_CONNECTION = "no_connection", _("No connection")
    SLOW = "slow", _("Slow connection")
    INTERMITTENT = "intermittent", _("Connection drops")
    EQUIPMENT = "equipment", _("Equipment (media converter, router)")
    CONFIGURATION = "configuration", _("Settings / configuration")
    WORK_REQUEST = "work_request", _("Relocation or plan change request")
    BILLING = "billing", _("Billing")
    OTHER = "other", _("Other")


class FaultIsolation(models.TextChoices):
    """Which side of the media converter the fault is on: the question every call must answer."""

    CARRIER_SIDE = "carrier_side", _("Carrier side of the media converter")
    CUSTOMER_SIDE = "customer_side", _("Customer side (their own network)")
    UNKNOWN = "unknown", _("Not yet known")


class HandoffTeam(models.TextChoices):
    NONE = "", _("No hand-off")
    FIELD_MAINTENANCE = "field_maintenance", _("Field maintenance (visit)")
    NETWORK_OPERATIONS = "network_operations", _("Network operations")
    DELIVERY = "delivery", _("Delivery coordinators")
    BILLING = "billing", _("Billing")
    SALES = "sales", _("Sales")


AMENDABLE_FIELDS: tuple[str, ...] = (
    "caller_name",
    "caller_phone",
    "category",
    "fault_isolation",
    "description",
    "handoff_team",
    "handoff_note",
    "follow_up_needed",
    "follow_up_due",
    "follow_up_note",
)


class Call(models.Model):
    """One support call about a site, as logged when it ended. Never edited: see the module."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.PROTECT, related_name="calls"
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="calls",
    )
    started_at = models.DateTimeField(_("call started at"), default=timezone.now)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("operator"),
        on_delete=models.PROTECT,
        related_name="support_calls",
    )
    caller_name = models.CharField(_("caller name"), max_length=100, blank=True)
    caller_phone = models.CharField(_("caller phone"), max_length=32, blank=True)
    category = models.CharField(_("category"), max_length=16, choices=CallCategory.choices)
    fault_isolation = models.CharField(
        _("fault isolation"),
        max_length=16,
        choices=FaultIsolation.choices,
        default=FaultIsolation.UNKNOWN,
    )
    description = models.TextField(_("description"))
    handoff_team = models.CharField(
        _("hand-off team"), max_length=24, choices=HandoffTeam.choices, blank=True
    )
    handoff_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("hand-off person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="support_handoffs",
    )
    handoff_note = models.CharField(_("hand-off note"), max_length=300, blank=True)
    follow_up_needed = models.BooleanField(_("follow-up needed"), default=False)
    follow_up_due = models.DateField(_("follow-up due"), null=True, blank=True)
    follow_up_note = models.CharField(_("follow-up note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("logged at"), default=timezone.now)

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("support call")
        verbose_name_plural = _("support calls")
        constraints = [
            models.CheckConstraint(
                name="call_category_valid",
                condition=Q(category__in=[c.value for c in CallCategory]),
            ),
            models.CheckConstraint(
                name="call_fault_isolation_valid",
                condition=Q(fault_isolation__in=[f.value for f in FaultIsolation]),
            ),
            models.CheckConstraint(
                name="call_handoff_team_valid",
                condition=Q(handoff_team__in=[t.value for t in HandoffTeam]),
            ),
            models.CheckConstraint(name="call_description_not_blank", condition=~Q(description="")),
            # A due date on a follow-up nobody needs would sit in a list forever.
            models.CheckConstraint(
                name="call_follow_up_due_needs_follow_up",
                condition=Q(follow_up_due__isnull=True) | Q(follow_up_needed=True),
            ),
        ]
        indexes = [
            models.Index(fields=["site", "-started_at"], name="call_site_started"),
            models.Index(fields=["operator", "-started_at"], name="call_operator_started"),
            models.Index(fields=["started_at"], name="call_started"),
        ]

    def __str__(self) -> str:
        return f"Call {self.pk} about {self.site_id} at {self.started_at:%Y-%m-%d %H:%M}"


class CallAmendment(models.Model):
    """A correction or addition to a saved call; the call itself stays as it was logged."""

    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.PROTECT, related_name="amendments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("amended at"), default=timezone.now)
    text = models.TextField(_("amendment"))
    corrections = models.JSONField(
        _("corrected fields"),
        default=dict,
        blank=True,
        help_text=_("Field name -> corrected value, applied over the call when it is shown."),
    )

    class Meta:
        ordering = ["call_id", "created_at", "id"]
        verbose_name = _("call amendment")
        verbose_name_plural = _("call amendments")
        constraints = [
            models.CheckConstraint(name="amendment_text_not_blank", condition=~Q(text="")),
        ]

    def __str__(self) -> str:
        return f"Amendment {self.pk} of call {self.call_id}"


class BookingDecision(models.TextChoices):
    """How a call got its maintenance job: the operator's choice, kept with the call."""

    CREATED = "created", _("New job")
    ATTACHED = "attached", _("Attached to an open job")
    CREATED_ANYWAY = "created_anyway", _("New job despite open jobs")


class MaintenanceBooking(models.Model):
    """The maintenance job a call raised or was attached to; one per call.

    One per call, so a double click books one visit. A job is *created* by at
    most one call; further calls about the same fault are *attached* to it
    (``decision``), and a new job beside open ones needs a ``reason``. Who
    chose and when are ``booked_by`` and ``booked_at``. Written once by
    :func:`support.services.maintenance_book`, never edited.
    """

    call = models.OneToOneField(
        Call, verbose_name=_("call"), on_delete=models.PROTECT, related_name="booking"
    )
    job = models.ForeignKey(
        "dispatch.Job",
        verbose_name=_("job"),
        on_delete=models.PROTECT,
        related_name="support_bookings",
    )
    decision = models.CharField(
        _("decision"),
        max_length=16,
        choices=BookingDecision.choices,
        default=BookingDecision.CREATED,
    )
    reason = models.CharField(
        _("reason"),
        max_length=200,
        blank=True,
        help_text=_("Why a new job was created although open jobs existed."),
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("booked by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    booked_at = models.DateTimeField(_("booked at"), default=timezone.now)

    class Meta:
        ordering = ["-booked_at", "-id"]
        verbose_name = _("maintenance booking")
        verbose_name_plural = _("maintenance bookings")
        constraints = [
            models.CheckConstraint(
                name="booking_decision_valid",
                condition=Q(decision__in=[d.value for d in BookingDecision]),
            ),
            # A new job beside open ones always says why; the other choices say nothing.
            models.CheckConstraint(
                name="booking_reason_iff_created_anyway",
                condition=(Q(decision=BookingDecision.CREATED_ANYWAY) & ~Q(reason=""))
                | (~Q(decision=BookingDecision.CREATED_ANYWAY) & Q(reason="")),
            ),
            # Only one call creates a job; any number may be attached to it.
            models.UniqueConstraint(
                fields=["job"],
                condition=~Q(decision=BookingDecision.ATTACHED),
                name="booking_one_creating_call_per_job",
            ),
        ]

    def __str__(self) -> str:
        return f"Maintenance job {self.job_id} from call {self.call_id} ({self.decision})"


class CallPurge(models.Model):
    """Audit row of a deliberate removal of calls (data retention, a development reset).

    While a purge's transaction holds an ``active`` row, the immutability
    triggers let DELETE through; the row is made inactive before commit, so
    no other transaction ever sees it active.
    """

    reason = models.CharField(_("reason"), max_length=200)
    calls_deleted = models.PositiveIntegerField(_("calls deleted"), default=0)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("purged at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("call purge")
        verbose_name_plural = _("call purges")

    def __str__(self) -> str:
        return f"Purge {self.pk}: {self.reason}"


# --- hand-offs: who received a call's hand-off, and what they did with it ---------------


class HandoffTeamMember(models.Model):
    """A colleague who receives a team's hand-offs (and may act on them); several teams each.

    Coordinators receive the *delivery* team's hand-offs by their role
    (:func:`support.inbox.team_members`), so a board without member rows
    still has receivers; every other team is its rows.
    """

    team = models.CharField(_("team"), max_length=24, choices=HandoffTeam.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="handoff_teams",
    )

    class Meta:
        ordering = ["team", "user_id"]
        verbose_name = _("hand-off team member")
        verbose_name_plural = _("hand-off team members")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="handoff_member_unique"),
            models.CheckConstraint(
                name="handoff_member_team_valid",
                condition=Q(team__in=[t.value for t in HandoffTeam if t.value]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.team}"


class Handoff(models.Model):
    """One hand-off of a call to a team and/or a person, as it was handed off. Never edited.

    Written with the call (``amendment`` empty) or by an amendment that
    changed the call's hand-off team (``amendment`` set): the newest row of a
    call is its current hand-off, older ones stay as history. A row with no
    team and no person records that an amendment withdrew the hand-off.
    ``category`` and the due times are those of the moment it was handed
    off (the SLA that applied then, :func:`support.inbox.sla_targets`).
    """

    call = models.ForeignKey(
        Call, verbose_name=_("call"), on_delete=models.PROTECT, related_name="handoffs"
    )
    amendment = models.OneToOneField(
        CallAmendment,
        verbose_name=_("amendment"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="handoff",
    )
    team = models.CharField(
        _("hand-off team"), max_length=24, choices=HandoffTeam.choices, blank=True
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("hand-off person"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.CharField(_("hand-off note"), max_length=300, blank=True)
    category = models.CharField(_("category"), max_length=16, choices=CallCategory.choices)
    handed_off_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handed off by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("handed off at"), default=timezone.now)
    acknowledge_due_at = models.DateTimeField(_("acknowledge by"), null=True, blank=True)
    done_due_at = models.DateTimeField(_("done by"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("hand-off")
        verbose_name_plural = _("hand-offs")
        constraints = [
            models.CheckConstraint(
                name="handoff_team_valid",
                condition=Q(team__in=[t.value for t in HandoffTeam]),
            ),
            models.CheckConstraint(
                name="handoff_category_valid",
                condition=Q(category__in=[c.value for c in CallCategory]),
            ),
            # One hand-off is written with the call; the others each by one amendment.
            models.UniqueConstraint(
                fields=["call"], condition=Q(amendment__isnull=True), name="handoff_one_as_logged"
            ),
            # A withdrawal has no targets; a hand-off to someone has both, in order.
            models.CheckConstraint(
                name="handoff_targets_iff_receiver",
                condition=(
                    (~Q(team="") | Q(user__isnull=False))
                    & Q(acknowledge_due_at__isnull=False)
                    & Q(done_due_at__gte=F("acknowledge_due_at"))
                )
                | (
                    Q(team="")
                    & Q(user__isnull=True)
                    & Q(acknowledge_due_at__isnull=True)
                    & Q(done_due_at__isnull=True)
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["team", "-created_at"], name="handoff_team_created"),
            models.Index(fields=["user", "-created_at"], name="handoff_user_created"),
            models.Index(fields=["call", "-id"], name="handoff_call_newest"),
        ]

    def __str__(self) -> str:
        return f"Hand-off {self.pk} of call {self.call_id} to {self.team or self.user_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise IntegrityError("support: hand-offs are immutable; amend the call instead")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise IntegrityError("support: hand-offs are immutable (only calls_purge removes them)")


class HandoffStatus(models.TextChoices):
    """Where a hand-off stands: *open* until someone acknowledges it, then *done*."""

    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    DONE = "done", _("Done")


class HandoffEvent(models.Model):
    """A receiver acknowledged a hand-off, or finished it: who, when, with an optional note.

    Appended, never edited; the status of a hand-off is its newest event
    (*open* with none). Each status is reached once per hand-off.
    """

    handoff = models.ForeignKey(
        Handoff, verbose_name=_("hand-off"), on_delete=models.PROTECT, related_name="events"
    )
    status = models.CharField(_("status"), max_length=16, choices=HandoffStatus.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["handoff_id", "at", "id"]
        verbose_name = _("hand-off event")
        verbose_name_plural = _("hand-off events")
        constraints = [
            models.CheckConstraint(
                name="handoff_event_status_valid",
                condition=Q(status__in=[HandoffStatus.ACKNOWLEDGED, HandoffStatus.DONE]),
            ),
            models.UniqueConstraint(fields=["handoff", "status"], name="handoff_event_once"),
        ]

    def __str__(self) -> str:
        return f"Hand-off {self.handoff_id} {self.status} by {self.by_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise IntegrityError("support: hand-off events are immutable; append another")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise IntegrityError("support: hand-off events are immutable (only calls_purge)")
