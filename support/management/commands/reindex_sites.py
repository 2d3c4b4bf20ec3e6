"""``manage.py reindex_sites``: rebuild the support search index of every site (or some).

Needed after bulk writes that bypass the ORM's signals (``bulk_create``,
``QuerySet.update``, SQL restores) and after changing the normalisation rules.
"""

from __future__ import annotations

import time
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from support.indexing import site_search_reindex, site_search_reindex_all


class Command(BaseCommand):
    help = "Rebuild the support desk's search entries (all sites, or the ids given)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("site_ids", nargs="*", type=int, help="Only these sites.")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        if options["site_ids"]:
            count = site_search_reindex(site_ids=options["site_ids"])
        else:
            count = site_search_reindex_all(batch_size=options["batch_size"])
        self.stdout.write(f"Indexed {count} sites in {time.monotonic() - started:.1f} s.")
