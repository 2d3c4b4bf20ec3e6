"""Production static files: the manifest storage collects every asset, vendored ones included."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings


@pytest.mark.slow
def test_collectstatic_with_the_production_storage_succeeds(tmp_path: Path) -> None:
    storages = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    manifest = (tmp_path / "staticfiles.json").read_text()
    assets = ("js/board.js", "css/board.css", "vendor/leaflet/leaflet.js", "vendor/htmx.min.js")
    for asset in assets:
        assert f'"{asset}"' in manifest
