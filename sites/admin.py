from django.contrib import admin

from core.admin_policy import ReadOnlyAdminMixin

from .models import (
    ConstructionRecord,
    Contract,
    Customer,
    IpAssignment,
    IpPool,
    Permission,
    Region,
    Site,
    SitePhoto,
    SiteSurvey,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")


class SurveyInline(admin.StackedInline):
    model = SiteSurvey
    extra = 0
    show_change_link = True


class PermissionInline(admin.TabularInline):
    model = Permission
    extra = 0


class ConstructionRecordInline(admin.StackedInline):
    model = ConstructionRecord
    extra = 0
    autocomplete_fields = ("job",)
    readonly_fields = ("recorded_by",)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "address",
        "city",
        "region",
        "geocode_status",
        "building_type",
        "floors",
    )
    list_filter = ("region", "geocode_status", "building_type", "prefecture")
    search_fields = ("name", "name_kana", "address", "postal_code", "contracts__contract_id")
    list_select_related = ("region",)
    inlines = [SurveyInline, PermissionInline, ConstructionRecordInline]
    readonly_fields = ("geocoded_at", "created_at", "updated_at")


class ContractInline(admin.TabularInline):
    model = Contract
    extra = 0
    show_change_link = True
    filter_horizontal = ()
    fields = ("contract_id", "circuit_id", "service_name", "status", "signed_on")


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ("name", "name_kana", "phone", "contact_person")
    search_fields = ("name", "name_kana", "phone", "phone_alt", "contracts__contract_id")
    inlines = [ContractInline]


@admin.register(Contract)
class ContractAdmin(admin.ModelAdmin):
    list_display = ("contract_id", "circuit_id", "customer", "service_name", "status", "signed_on")
    list_filter = ("status",)
    search_fields = ("contract_id", "circuit_id", "customer__name", "customer__name_kana")
    list_select_related = ("customer",)
    autocomplete_fields = ("customer", "sites")


@admin.register(SiteSurvey)
class SiteSurveyAdmin(admin.ModelAdmin):
    list_display = (
        "site",
        "surveyed_on",
        "surveyor",
        "structure",
        "conduit_status",
        "distance_to_base_station_m",
        "parking",
        "complexity",
    )
    list_filter = ("structure", "conduit_status", "parking", "complexity")
    search_fields = ("site__name", "site__address", "surveyor", "findings")
    list_select_related = ("site",)
    autocomplete_fields = ("site", "contract")
    date_hierarchy = "surveyed_on"


@admin.register(Permission)
class PermissionAdmin(admin.ModelAdmin):
    list_display = (
        "site",
        "party",
        "party_name",
        "status",
        "requested_on",
        "decided_on",
        "expires_on",
    )
    list_filter = ("party", "status")
    search_fields = ("site__name", "site__address", "party_name")
    list_select_related = ("site",)
    autocomplete_fields = ("site", "contract")


@admin.register(ConstructionRecord)
class ConstructionRecordAdmin(admin.ModelAdmin):
    list_display = ("site", "media_converter_location", "port", "recorded_by_name", "recorded_at")
    search_fields = ("site__name", "site__address", "media_converter_location", "notes")
    list_select_related = ("site",)
    autocomplete_fields = ("site", "job")
    date_hierarchy = "recorded_at"


@admin.register(SitePhoto)
class SitePhotoAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only: photos come in through the upload service (checked, stripped, thumbnailed).

    Deleting too: a row deleted here would leave its files in the photo storage.
    """

    list_display = ("site", "kind", "caption", "company", "uploaded_by", "created_at")
    list_filter = ("kind",)
    search_fields = ("site__name", "site__address", "caption")
    list_select_related = ("site", "company", "uploaded_by")
    date_hierarchy = "created_at"


@admin.register(IpPool)
class IpPoolAdmin(admin.ModelAdmin):
    list_display = ("name", "network", "region", "is_active")
    list_filter = ("is_active", "region")
    search_fields = ("name", "network")


@admin.register(IpAssignment)
class IpAssignmentAdmin(admin.ModelAdmin):
    list_display = ("address", "pool", "contract", "assigned_at")
    list_filter = ("pool",)
    search_fields = ("address", "contract__contract_id")
    list_select_related = ("pool", "contract")
    autocomplete_fields = ("contract",)
