"""Background work on sites. Tasks load ids and call services, nothing else."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction

from .geocoding import site_geocode
from .models import Site


@shared_task(name="sites.geocode_site")
def geocode_site(site_id: int, force: bool = False) -> str:
    """Geocode one site; returns its resulting geocoding status (or ``missing``)."""
    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        return "missing"
    site_geocode(site=site, force=force)
    return site.geocode_status


def site_request_geocoding(*, site: Site) -> None:
    """Queue geocoding for ``site`` once the current transaction commits.

    On commit, not now: a worker that picked the task up before the commit
    would not find the site yet (or would read its old address).
    """
    transaction.on_commit(lambda: geocode_site.delay(site.pk))
