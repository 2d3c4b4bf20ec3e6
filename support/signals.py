"""Re-index a site's search entry whenever the ORM writes its site, customer or contract.

Why signals and not calls in every writer: sites are written by the CRUD API,
the order import, the admin, geocoding and the handover, in other apps that
should not need to know support exists. The reindex runs in the writer's own
transaction, so the entry commits (or rolls back) with the change it reflects.
``bulk_create`` and ``QuerySet.update`` send no signals: code that writes in
bulk calls :func:`support.indexing.site_search_reindex` itself, and
``manage.py reindex_sites`` rebuilds everything.

Calls carry their callers' names and phones, which the index keeps as the
site's contacts (a caller's mobile finds the site): a new call, or an
amendment correcting the caller, re-indexes its site; a purge re-indexes,
once it has committed, the sites whose entries still name callers, so a
deleted call leaves no phone number behind in the index.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver

from sites.models import Contract, Customer, Site

from .indexing import CALLER_KEY, CALLER_PHONE_KEY, search_changed, site_search_reindex
from .models import Call, CallAmendment, CallPurge, SiteSearchKey

#: Site fields the search document does not contain: saving only these skips the reindex
#: (geocoding writes them for thousands of sites in a row).
_UNSEARCHED_SITE_FIELDS = frozenset(
    {
        "latitude",
        "longitude",
        "geocode_status",
        "geocode_error",
        "geocoded_at",
        "updated_at",
        "floors",
        "building_type",
        "notes",
        "region",
    }
)


@receiver(post_save, sender=Site, dispatch_uid="support_site_saved")
def _site_saved(sender: type[Site], instance: Site, update_fields: Any = None, **_: Any) -> None:
    if update_fields is not None and set(update_fields) <= _UNSEARCHED_SITE_FIELDS:
        return
    site_search_reindex(site_ids=[instance.pk])


@receiver(post_delete, sender=Site, dispatch_uid="support_site_deleted")
def _site_deleted(sender: type[Site], **_: Any) -> None:
    # Its entry goes with it (cascade); cached answers that showed it must go too.
    search_changed()


@receiver(post_save, sender=Customer, dispatch_uid="support_customer_saved")
def _customer_saved(sender: type[Customer], instance: Customer, created: bool, **_: Any) -> None:
    if created:
        return  # a new customer has no contracts yet, so no site shows it
    site_ids = Site.objects.filter(contracts__customer=instance).values_list("pk", flat=True)
    site_search_reindex(site_ids=list(site_ids))


@receiver(post_save, sender=Contract, dispatch_uid="support_contract_saved")
def _contract_saved(sender: type[Contract], instance: Contract, created: bool, **_: Any) -> None:
    if created:
        return  # sites are linked after the contract exists (m2m_changed below)
    site_search_reindex(site_ids=list(instance.sites.values_list("pk", flat=True)))


@receiver(m2m_changed, sender=Contract.sites.through, dispatch_uid="support_contract_sites")
def _contract_sites_changed(
    sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **_: Any
) -> None:
    if action == "pre_clear":
        # The ids are gone after the clear; remember whom to re-index.
        instance._support_cleared_site_ids = (
            [instance.pk] if reverse else list(instance.sites.values_list("pk", flat=True))
        )
        return
    if action == "post_clear":
        site_ids = getattr(instance, "_support_cleared_site_ids", [])
    elif action in ("post_add", "post_remove"):
        site_ids = [instance.pk] if reverse else list(pk_set or ())
    else:
        return
    site_search_reindex(site_ids=site_ids)


@receiver(pre_delete, sender=Contract, dispatch_uid="support_contract_deleting")
def _contract_deleting(sender: type[Contract], instance: Contract, **_: Any) -> None:
    site_ids = list(instance.sites.values_list("pk", flat=True))
    instance._support_site_ids = site_ids  # type: ignore[attr-defined]


@receiver(post_delete, sender=Contract, dispatch_uid="support_contract_deleted")
def _contract_deleted(sender: type[Contract], instance: Contract, **_: Any) -> None:
    site_search_reindex(site_ids=getattr(instance, "_support_site_ids", []))


@receiver(post_save, sender=Call, dispatch_uid="support_call_saved")
def _call_saved(sender: type[Call], instance: Call, created: bool, **_: Any) -> None:
    if created and instance.caller_phone.strip():
        site_search_reindex(site_ids=[instance.site_id])


@receiver(post_save, sender=CallAmendment, dispatch_uid="support_call_amended")
def _call_amended(
    sender: type[CallAmendment], instance: CallAmendment, created: bool, **_: Any
) -> None:
    corrections = instance.corrections if isinstance(instance.corrections, dict) else {}
    if created and ("caller_name" in corrections or "caller_phone" in corrections):
        site_id = Call.objects.filter(pk=instance.call_id).values_list("site_id", flat=True)
        site_search_reindex(site_ids=list(site_id))


@receiver(post_save, sender=CallPurge, dispatch_uid="support_calls_purged")
def _calls_purged(sender: type[CallPurge], instance: CallPurge, created: bool, **_: Any) -> None:
    if not created:
        return

    def reindex_callers() -> None:
        site_ids = (
            SiteSearchKey.objects.filter(kind__in=(CALLER_KEY, CALLER_PHONE_KEY))
            .values_list("site_id", flat=True)
            .distinct()
        )
        site_search_reindex(site_ids=list(site_ids))

    # The purge deletes with QuerySet.delete() after this row exists: wait for its commit.
    transaction.on_commit(reindex_callers)
