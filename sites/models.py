"""Buildings, customers and what delivery learns about a building.

A *site* is a building where work happens. Its surveys, permissions and
as-built construction records live here because they describe the building and
outlive any one job: support reads them years after the crew has left.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.core.files.storage import Storage

models.CharField.register_lookup(Length)


class Region(models.Model):
    """A planning area (e.g. "Tokyo east"); plans and partner companies are scoped by it."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")

    def __str__(self) -> str:
        return self.name


class GeocodeStatus(models.TextChoices):
    PENDING = "pending", _("Not geocoded yet")
    OK = "ok", _("Geocoded")
    NOT_FOUND = "not_found", _("Address not found")
    FAILED = "failed", _("Geocoder error")
    MANUAL = "manual", _("Set by hand")


class BuildingType(models.TextChoices):
    OFFICE = "office", _("Office building")
    MIXED = "mixed", _("Mixed-use building")
    RESIDENTIAL = "residential", _("Residential building")
    RETAIL = "retail", _("Retail / shop")
    FACTORY = "factory", _("Factory / warehouse")
    DETACHED = "detached", _("Detached building")


class Site(models.Model):
    name = models.CharField(_("building name"), max_length=200)
    name_kana = models.CharField(_("building name (kana)"), max_length=200, blank=True)
    address = models.CharField(
        _("address"), max_length=300, help_text=_("Full address as written in Japan.")
    )
    postal_code = models.CharField(
        _("postal code"), max_length=7, blank=True, help_text=_("7 digits, no hyphen.")
    )
    prefecture = models.CharField(_("prefecture"), max_length=10, blank=True)
    city = models.CharField(_("city / ward"), max_length=50, blank=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sites",
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    geocode_status = models.CharField(
        _("geocoding status"),
        max_length=16,
        choices=GeocodeStatus.choices,
        default=GeocodeStatus.PENDING,
    )
    geocode_error = models.CharField(_("geocoding error"), max_length=300, blank=True)
    geocoded_at = models.DateTimeField(_("geocoded at"), null=True, blank=True)
    floors = models.PositiveSmallIntegerField(_("floors"), null=True, blank=True)
    building_type = models.CharField(
        _("building type"),
        max_length=16,
        choices=BuildingType.choices,
        default=BuildingType.OFFICE,
    )
    notes = models.TextField(_("notes"), blank=True)
    access_hours = models.JSONField(
        _("access hours"),
        default=list,
        blank=True,
        help_text=_(
            "When crews may work in the building, as the planner reads it (see "
            "sites.access): the newest survey's or the order's; empty = any time."
        ),
    )
    access_notes = models.CharField(
        _("access notes"),
        max_length=300,
        blank=True,
        help_text=_("What the access hours cannot say: key, escort, elevator booking…"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [
            models.CheckConstraint(
                name="site_latitude_in_range",
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90),
            ),
            models.CheckConstraint(
                name="site_longitude_in_range",
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
            ),
            # Half a coordinate is worse than none: the planner would place
            # the site at latitude 0 without anyone noticing.
            models.CheckConstraint(
                name="site_coordinates_both_or_neither",
                condition=Q(latitude__isnull=True, longitude__isnull=True)
                | Q(latitude__isnull=False, longitude__isnull=False),
            ),
            models.CheckConstraint(
                name="site_geocoded_has_coordinates",
                condition=~Q(geocode_status__in=[GeocodeStatus.OK, GeocodeStatus.MANUAL])
                | Q(latitude__isnull=False),
            ),
            models.CheckConstraint(
                name="site_geocode_status_valid",
                condition=Q(geocode_status__in=[s.value for s in GeocodeStatus]),
            ),
            models.CheckConstraint(
                name="site_postal_code_7_digits",
                condition=Q(postal_code="") | Q(postal_code__length=7),
            ),
            models.CheckConstraint(
                name="site_floors_positive", condition=Q(floors__isnull=True) | Q(floors__gte=1)
            ),
            models.CheckConstraint(name="site_address_not_blank", condition=~Q(address="")),
        ]
        indexes = [models.Index(fields=["geocode_status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.address})"

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None


class Customer(models.Model):
    name = models.CharField(_("customer name"), max_length=200)
    name_kana = models.CharField(_("customer name (kana)"), max_length=200, blank=True)
    contact_person = models.CharField(_("contact person"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    phone_alt = models.CharField(_("other phone"), max_length=32, blank=True)
    email = models.EmailField(_("email"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        constraints = [
            models.CheckConstraint(name="customer_name_not_blank", condition=~Q(name="")),
        ]

    def __str__(self) -> str:
        return self.name


class BillingStatus(models.TextChoices):
    PENDING = "pending", _("Not set up")
    REQUESTED = "requested", _("Direct debit requested")
    READY = "ready", _("Billing ready")


class ContractStatus(models.TextChoices):
    SIGNED = "signed", _("Signed")
    ACTIVE = "active", _("Line open")
    CANCELLED = "cancelled", _("Cancelled")


class Contract(models.Model):
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="contracts"
    )
    contract_id = models.CharField(_("contract id"), max_length=32, unique=True)
    circuit_id = models.CharField(
        _("circuit id"), max_length=32, null=True, blank=True, unique=True
    )
    sites = models.ManyToManyField(Site, verbose_name=_("sites"), related_name="contracts")
    service_name = models.CharField(_("service"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ContractStatus.choices, default=ContractStatus.SIGNED
    )
    signed_on = models.DateField(_("signed on"), null=True, blank=True)
    delivery_team = models.PositiveSmallIntegerField(
        _("delivery team"),
        null=True,
        blank=True,
        help_text=_("Which of the delivery teams (1-4) runs this order."),
    )
    billing_status = models.CharField(
        _("billing"), max_length=16, choices=BillingStatus.choices, default=BillingStatus.PENDING
    )
    billing_ready_on = models.DateField(_("billing ready on"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)

    class Meta:
        ordering = ["contract_id"]
        verbose_name = _("contract")
        verbose_name_plural = _("contracts")
        constraints = [
            models.CheckConstraint(name="contract_id_not_blank", condition=~Q(contract_id="")),
            models.CheckConstraint(
                name="contract_circuit_id_not_blank",
                condition=Q(circuit_id__isnull=True) | ~Q(circuit_id=""),
            ),
            models.CheckConstraint(
                name="contract_status_valid",
                condition=Q(status__in=[s.value for s in ContractStatus]),
            ),
            models.CheckConstraint(
                name="contract_delivery_team_1_to_4",
                condition=Q(delivery_team__isnull=True)
                | Q(delivery_team__gte=1, delivery_team__lte=4),
            ),
        ]

    def __str__(self) -> str:
        return self.contract_id


class Structure(models.TextChoices):
    RC = "rc", _("Reinforced concrete (RC)")
    SRC = "src", _("Steel-reinforced concrete (SRC)")
    STEEL = "steel", _("Steel frame (S)")
    WOOD = "wood", _("Wood")
    OTHER = "other", _("Other")


class ConduitStatus(models.TextChoices):
    NONE = "none", _("No conduit / cable path")
    AVAILABLE = "available", _("Conduit available")
    FULL = "full", _("Conduit full")


class Parking(models.TextChoices):
    NONE = "none", _("No parking")
    STREET = "street", _("Street / coin parking")
    TENANT_LOT = "tenant_lot", _("Tenant lot arranged")
    BUILDING_LOT = "building_lot", _("Building's own lot")


class Complexity(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class SiteSurvey(models.Model):
    """The inspection before construction; its findings drive the job's duration and skills."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="surveys"
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys",
    )
    surveyed_on = models.DateField(_("surveyed on"))
    surveyor = models.CharField(_("surveyor"), max_length=100)
    structure = models.CharField(
        _("structure"), max_length=8, choices=Structure.choices, default=Structure.RC
    )
    conduit_status = models.CharField(
        _("conduit / cable path in shared areas"),
        max_length=16,
        choices=ConduitStatus.choices,
        default=ConduitStatus.AVAILABLE,
    )
    riser_route = models.CharField(_("riser route"), max_length=300, blank=True)
    distance_to_base_station_m = models.PositiveIntegerField(_("distance to the base station (m)"))
    parking = models.CharField(
        _("parking"), max_length=16, choices=Parking.choices, default=Parking.STREET
    )
    parking_arrangement = models.CharField(_("parking arrangement"), max_length=300, blank=True)
    access_hours = models.JSONField(
        _("access hours"),
        default=list,
        blank=True,
        help_text=_(
            '[{"days": [0..6, 7 = holidays], "opens": "HH:MM", "closes": "HH:MM"}]; '
            "empty = any time. The whole visit must fit inside one range."
        ),
    )
    access_rules = models.CharField(
        _("access notes"),
        max_length=300,
        blank=True,
        help_text=_("Key, escort, elevator booking…"),
    )
    findings = models.TextField(_("findings"), blank=True)
    complexity = models.CharField(
        _("complexity"), max_length=8, choices=Complexity.choices, default=Complexity.MEDIUM
    )
    new_cabling_needed = models.BooleanField(
        _("new cabling through the building needed"), default=False
    )
    needs_key = models.BooleanField(_("key needed"), default=False)
    needs_escort = models.BooleanField(_("escort needed"), default=False)
    needs_elevator_booking = models.BooleanField(_("elevator booking needed"), default=False)
    needed_parties = models.JSONField(
        _("permissions needed from"),
        default=list,
        blank=True,
        help_text=_(
            "Parties whose consent the construction needs: customer, management, owner, tenant."
        ),
    )
    photos = models.JSONField(
        _("photos"),
        default=list,
        blank=True,
        help_text=_("Metadata only: [{name, taken_at, caption}]; the files live elsewhere."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-surveyed_on", "-id"]
        verbose_name = _("site survey")
        verbose_name_plural = _("site surveys")
        constraints = [
            models.CheckConstraint(
                name="survey_choices_valid",
                condition=Q(structure__in=[s.value for s in Structure])
                & Q(conduit_status__in=[s.value for s in ConduitStatus])
                & Q(parking__in=[s.value for s in Parking])
                & Q(complexity__in=[s.value for s in Complexity]),
            ),
        ]

    def __str__(self) -> str:
        return f"Survey of {self.site.name} on {self.surveyed_on}"


class PermissionParty(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    MANAGEMENT = "management", _("Management company")
    OWNER = "owner", _("Building owner")
    TENANT = "tenant", _("Neighbouring tenant")


class PermissionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class Permission(models.Model):
    """One party's consent to the construction; a job waits until all needed ones are granted."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="permissions"
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="permissions",
    )
    party = models.CharField(_("party"), max_length=16, choices=PermissionParty.choices)
    party_name = models.CharField(_("party name"), max_length=200, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=PermissionStatus.choices,
        default=PermissionStatus.REQUESTED,
    )
    requested_on = models.DateField(_("requested on"))
    decided_on = models.DateField(_("decided on"), null=True, blank=True)
    expires_on = models.DateField(_("expires on"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        ordering = ["site_id", "party"]
        verbose_name = _("permission")
        verbose_name_plural = _("permissions")
        constraints = [
            models.CheckConstraint(
                name="permission_party_valid",
                condition=Q(party__in=[p.value for p in PermissionParty]),
            ),
            models.CheckConstraint(
                name="permission_status_valid",
                condition=Q(status__in=[s.value for s in PermissionStatus]),
            ),
            # A decision without a date cannot be audited or expired.
            models.CheckConstraint(
                name="permission_decision_dated",
                condition=Q(status=PermissionStatus.REQUESTED) | Q(decided_on__isnull=False),
            ),
            models.CheckConstraint(
                name="permission_decided_after_request",
                condition=Q(decided_on__isnull=True) | Q(decided_on__gte=F("requested_on")),
            ),
            models.CheckConstraint(
                name="permission_expires_after_decision",
                condition=Q(expires_on__isnull=True)
                | (Q(decided_on__isnull=False) & Q(expires_on__gte=F("decided_on"))),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_party_display()} for {self.site.name}: {self.get_status_display()}"

    def is_valid_on(self, day: dt.date) -> bool:
        """True when granted and not expired on ``day``."""
        if self.status != PermissionStatus.GRANTED:
            return False
        return self.expires_on is None or self.expires_on >= day


class ConstructionRecord(models.Model):
    """As-built notes: what was built where, written for support to read later."""

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="construction_records"
    )
    job = models.ForeignKey(
        "dispatch.Job",
        verbose_name=_("job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="construction_records",
    )
    media_converter_location = models.CharField(_("media converter location"), max_length=300)
    port = models.CharField(_("port"), max_length=100, blank=True)
    cable_route = models.TextField(_("cable route"), blank=True)
    riser = models.CharField(_("riser / conduit"), max_length=300, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    # Completion facts a crew proposed and delivery confirmed (dispatch.CompletionFacts).
    media_converter_serial = models.CharField(
        _("media converter serial"), max_length=64, blank=True
    )
    light_level_dbm = models.DecimalField(
        _("light level (dBm)"), max_digits=3, decimal_places=1, null=True, blank=True
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    recorded_by_name = models.CharField(_("recorded by (name)"), max_length=100, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    archived_at = models.DateTimeField(
        _("archived for support at"),
        null=True,
        blank=True,
        help_text=_("Set at handover: from then on this is the record support reads."),
    )

    class Meta:
        ordering = ["-recorded_at", "-id"]
        verbose_name = _("construction record")
        verbose_name_plural = _("construction records")
        constraints = [
            models.CheckConstraint(
                name="construction_mc_location_not_blank",
                condition=~Q(media_converter_location=""),
            ),
            models.CheckConstraint(
                name="construction_light_level_sane",
                condition=Q(light_level_dbm__isnull=True)
                | Q(light_level_dbm__gte=-40, light_level_dbm__lte=5),
            ),
        ]

    def __str__(self) -> str:
        return f"As-built of {self.site.name} ({self.recorded_at:%Y-%m-%d})"


class IpPool(models.Model):
    """A block of addresses delivery hands out to customers' lines."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    network = models.CharField(_("network (CIDR)"), max_length=43, unique=True)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ip_pools",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("IP pool")
        verbose_name_plural = _("IP pools")

    def __str__(self) -> str:
        return f"{self.name} ({self.network})"


class IpAssignment(models.Model):
    """One address given to one contract. The unique constraints make double use impossible."""

    pool = models.ForeignKey(
        IpPool, verbose_name=_("pool"), on_delete=models.PROTECT, related_name="assignments"
    )
    address = models.GenericIPAddressField(_("address"))
    contract = models.OneToOneField(
        Contract, verbose_name=_("contract"), on_delete=models.PROTECT, related_name="ip_assignment"
    )
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)

    class Meta:
        ordering = ["pool_id", "address"]
        verbose_name = _("IP assignment")
        verbose_name_plural = _("IP assignments")
        constraints = [
            # Two concurrent allocations that pick the same free address: the
            # database lets exactly one of them commit.
            models.UniqueConstraint(fields=["address"], name="ip_address_assigned_once"),
        ]

    def __str__(self) -> str:
        return f"{self.address} for {self.contract}"


class PhotoKind(models.TextChoices):
    """What a crew's photo shows."""

    MEDIA_CONVERTER = "media_converter", _("Media converter")
    PORT = "port", _("Port")
    CABLE_ROUTE = "cable_route", _("Cable route")
    RISER = "riser", _("Riser")
    BEFORE = "before", _("Before the work")
    AFTER = "after", _("After the work")


def _photo_storage() -> Storage:
    """The ``photos`` storage of ``STORAGES`` (filesystem or S3, config/settings.py)."""
    from django.core.files.storage import storages

    return storages["photos"]


class SitePhoto(models.Model):
    """A photo a crew took on site, part of the as-built record (``sites.photos``).

    The stored image is re-encoded from the pixels alone: no EXIF, no GPS, no
    device data. ``company`` is the uploader's partner company (null for
    coordinators): partners see their own company's photos only.
    """

    site = models.ForeignKey(
        Site, verbose_name=_("site"), on_delete=models.CASCADE, related_name="photos"
    )
    job = models.ForeignKey(
        "dispatch.Job",
        verbose_name=_("job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="photos",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=PhotoKind.choices)
    caption = models.CharField(_("caption"), max_length=300, blank=True)
    file = models.FileField(_("file"), storage=_photo_storage, max_length=200)
    thumbnail = models.FileField(_("thumbnail"), storage=_photo_storage, max_length=200)
    content_type = models.CharField(_("content type"), max_length=40)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    bytes = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256 of the upload"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    company = models.ForeignKey(
        "dispatch.PartnerCompany",
        verbose_name=_("partner company"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    idempotency_key = models.CharField(_("idempotency key"), max_length=64, null=True, blank=True)
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    created_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("site photo")
        verbose_name_plural = _("site photos")
        constraints = [
            models.UniqueConstraint(
                fields=["uploaded_by", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="site_photo_idempotency_key_unique_per_user",
            ),
        ]
        indexes = [models.Index(fields=["site", "-created_at"], name="site_photo_site_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.site_id} ({self.created_at:%Y-%m-%d})"


def _photo_files_delete(sender: type[SitePhoto], instance: SitePhoto, **kwargs: object) -> None:
    """A deleted photo's files leave the storage once the deletion commits (cascades too)."""
    from django.db import transaction

    names = [name for name in (instance.file.name, instance.thumbnail.name) if name]

    def delete() -> None:
        storage = _photo_storage()
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete)


models.signals.post_delete.connect(_photo_files_delete, sender=SitePhoto)
