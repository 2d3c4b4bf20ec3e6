"""Writes to sites: where a building is, and what that means for its geocoding.

A site's geocoding status follows its address and coordinates, whoever
changes them (the API, a spreadsheet import): coordinates given by a person
count as ``manual`` and the geocoder leaves them alone from then on; a site
without them, or whose address changed while nobody placed it by hand, goes
back to ``pending`` and is queued for the geocoder once the change commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from .models import GeocodeStatus, Site, SiteSurvey
from .tasks import site_request_geocoding

#: The fields :func:`site_follow_location` may set.
GEOCODING_FIELDS = ("geocode_status", "geocode_error")


@dataclass(frozen=True)
class SiteLocation:
    """What the geocoding status depends on: the address and the coordinates."""

    address: str
    latitude: float | None
    longitude: float | None

    @classmethod
    def of(cls, site: Site) -> SiteLocation:
        return cls(address=site.address, latitude=site.latitude, longitude=site.longitude)


@dataclass(frozen=True)
class GeocodingChange:
    """What :func:`site_follow_location` did to a site.

    ``changed`` says whether the geocoding fields were set (so a caller that
    saves only changed fields includes them); ``queue`` whether the site must
    be queued for the geocoder once it is saved.
    """

    changed: bool
    queue: bool


def site_follow_location(*, site: Site, before: SiteLocation | None) -> GeocodingChange:
    """Give ``site`` the geocoding status its address and coordinates call for; saves nothing.

    ``before`` is where the site was when the caller read it, or None for a
    site not stored yet. Call it after setting the new address and
    coordinates on ``site``, before saving it.
    """
    after = SiteLocation.of(site)
    if before is None:
        status = GeocodeStatus.MANUAL if after.latitude is not None else GeocodeStatus.PENDING
    else:
        moved = (after.latitude, after.longitude) != (before.latitude, before.longitude)
        new_address = after.address != before.address
        if moved and after.latitude is not None:
            # A person's pin beats the geocoder; the geocoder leaves manual
            # sites alone from now on.
            status = GeocodeStatus.MANUAL
        elif moved or (new_address and site.geocode_status != GeocodeStatus.MANUAL):
            # Coordinates cleared, or the old answer describes another address.
            status = GeocodeStatus.PENDING
        else:
            return GeocodingChange(changed=False, queue=False)
    site.geocode_status = status
    site.geocode_error = ""
    return GeocodingChange(changed=True, queue=status == GeocodeStatus.PENDING)


@transaction.atomic
def site_create(*, fields: Mapping[str, Any]) -> Site:
    """Store a new site; without coordinates it is queued for the geocoder after the commit."""
    site = Site(**fields)
    geocoding = site_follow_location(site=site, before=None)
    site.save()
    if geocoding.queue:
        site_request_geocoding(site=site)
    return site


@transaction.atomic
def site_update(*, site: Site, changes: Mapping[str, Any]) -> Site:
    """Apply ``changes`` to ``site`` (locked by the caller) and its geocoding status with them."""
    before = SiteLocation.of(site)
    for field, value in changes.items():
        setattr(site, field, value)
    geocoding = site_follow_location(site=site, before=before)
    site.save()
    if geocoding.queue:
        site_request_geocoding(site=site)
    return site


def survey_record_access(*, survey: SiteSurvey) -> Site:
    """A filed survey's access hours and notes become the building's.

    The planner reads :attr:`Site.access_hours`; the survey keeps what the
    surveyor saw that day. Only the site's newest survey speaks for the
    building (correcting an old one changes nothing today), and a survey that
    recorded no access at all leaves the building's as it was (the order or
    an earlier survey may know it).
    """
    site = Site.objects.select_for_update().get(pk=survey.site_id)
    newest = site.surveys.order_by("-surveyed_on", "-id").first()
    if newest != survey or (not survey.access_hours and not survey.access_rules):
        return site
    site.access_hours, site.access_notes = survey.access_hours, survey.access_rules
    site.save(update_fields=["access_hours", "access_notes", "updated_at"])
    return site
