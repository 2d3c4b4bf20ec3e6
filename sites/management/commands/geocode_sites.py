"""``manage.py geocode_sites``: place the sites still waiting for coordinates."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sites.geocoding import sites_geocode_pending
from sites.models import Site


class Command(BaseCommand):
    help = (
        "Geocode the sites in 'pending' status through the geocoder in settings.GEOCODER, "
        "at most one request per GEOCODER['MIN_DELAY_SECONDS'] (default 1 s), and print how "
        "many ended in each status. Sites placed by hand are never touched."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit",
            type=int,
            default=None,
            metavar="N",
            help="Geocode at most N sites (in id order).",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="Also retry sites whose last attempt failed or found nothing.",
        )

    def handle(self, *args: Any, limit: int | None, force: bool, **options: Any) -> None:
        if limit is not None and limit < 0:
            raise CommandError("--limit must be zero or more.")
        verbosity = options["verbosity"]

        def progress(done: int, total: int, site: Site) -> None:
            if verbosity >= 2:
                self.stdout.write(
                    f"[{done}/{total}] site {site.pk} {site.address}: {site.geocode_status}"
                    + (f" ({site.geocode_error})" if site.geocode_error else "")
                )

        try:
            counts = sites_geocode_pending(limit=limit, progress=progress, retry_failed=force)
        except ImproperlyConfigured as exc:
            raise CommandError(f"Geocoder settings are unusable: {exc}") from exc
        total = sum(counts.values())
        summary = ", ".join(f"{status}={count}" for status, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Geocoded {total} site(s): {summary}"))
