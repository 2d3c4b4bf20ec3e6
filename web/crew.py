"""The crews' phone page: the day's stops, reports from the field, offline.

Partner users (``Role.PARTNER``) open ``/crew/``: the page is a shell the
script ``static/js/crew.js`` fills from the partner routes API
(``GET /api/v1/routes/?date=…``, scoped to the user's company there) and
reports through the idempotent report API (``POST /api/v1/jobs/<id>/reports/``).
Everything a person reads comes from here, in the request's language: the
texts as ``data-*`` attributes, the labels of coded values as ``json_script``
(the Content-Security-Policy allows no inline script).

``/crew/sw.js`` serves the service worker from ``static/js/crew-sw.js`` under
the page's path, so its scope covers ``/crew/``; the list of the shell's
static files (hashed names in production) is written at its top. See
``docs/CREWS.md``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.access import roles_required
from accounts.models import Role
from dispatch.models import IncompleteReason, ReportKind
from dispatch.problem import planning_tz
from dispatch.states import JobKind, JobStatus
from dispatch.texts import day_label
from sites.models import Parking, PhotoKind

#: Days the day switch offers: today and the next ones.
DAYS_AHEAD = 6
#: Static files of the page's shell, cached by the service worker.
SHELL_STATIC = ("css/app.css", "css/crew.css", "js/app.js", "js/crew.js")
SERVICE_WORKER_SOURCE = Path(__file__).resolve().parent.parent / "static" / "js" / "crew-sw.js"


def _photo_kind_labels() -> dict[str, str]:
    """The photo kinds the crew picks from (the photos API's ``kind``)."""
    return {code: str(label) for code, label in PhotoKind.choices}


def _days(today: dt.date) -> list[dict[str, str]]:
    days = []
    for offset in range(DAYS_AHEAD + 1):
        day = today + dt.timedelta(days=offset)
        label = day_label(day)
        if offset == 0:
            label = _("Today %(day)s") % {"day": label}
        elif offset == 1:
            label = _("Tomorrow %(day)s") % {"day": label}
        days.append({"date": day.isoformat(), "label": label})
    return days


def _labels() -> dict[str, dict[str, str]]:
    """The labels of the coded values the routes payload carries, in this language."""
    return {
        "job_kind": {code: str(label) for code, label in JobKind.choices},
        "job_status": {code: str(label) for code, label in JobStatus.choices},
        "parking": {code: str(label) for code, label in Parking.choices},
        "reason": {code: str(label) for code, label in IncompleteReason.choices},
        "report": {code: str(label) for code, label in ReportKind.choices},
        "photo_kind": _photo_kind_labels(),
    }


def _texts() -> dict[str, str]:
    """What the script writes on the page, in this language (placeholders: ``%(name)s``)."""
    return {
        "offline": _("Offline: reports wait on this phone and are sent when the signal returns."),
        "fetched": _("Saved copy, fetched %(time)s"),
        "no_copy": _("This day could not be loaded and no copy is saved on this phone."),
        "no_stops": _("No visits on this day."),
        "waiting": _("Waiting to send: %(count)s"),
        "not_sent": _("Not sent: %(count)s"),
        "failed": _("Could not be sent: %(message)s"),
        "sign_in": _("Sign in again to send the reports waiting on this phone."),
        "dismiss": _("Remove"),
        "arrival": _("Arrival"),
        "work": _("Work"),
        "customer_slot": _("Customer's slot"),
        "promised": _("promised"),
        "map": _("Open in the map app"),
        "access": _("Access"),
        "closed": _("Closed on this day"),
        "parking": _("Parking"),
        "instructions": _("Work instructions"),
        "contact": _("Site contact"),
        "as_built": _("As-built notes"),
        "media_converter": _("Media converter"),
        "port": _("Port"),
        "riser": _("Riser"),
        "cable_route": _("Cable route"),
        "notes": _("Notes"),
        "survey_riser": _("Riser route (survey)"),
        "en_route": _("Leave for the site"),
        "started": _("Start work"),
        "done": _("Done"),
        "incomplete": _("Not finished"),
        "add_photo": _("Add photo"),
        "queued": _("%(report)s: waiting to send"),
        "photo_item": _("Photo (%(kind)s)"),
        "off_schedule": _("Reported not finished; back with the coordinators."),
        "lunch": _("Lunch %(start)s–%(end)s"),
        "stops": _("%(count)s visits"),
    }


@roles_required(Role.PARTNER)
@require_GET
def crew_day(request: HttpRequest) -> HttpResponse:
    """The phone page: today's stops and the next days', for the user's company."""
    today = timezone.localdate(timezone=planning_tz())
    requested = request.GET.get("date", "")
    try:
        chosen = dt.date.fromisoformat(requested) if requested else today
    except ValueError:
        chosen = today
    days = _days(today)
    if chosen.isoformat() not in {day["date"] for day in days}:
        chosen = today
    context = {
        "company": getattr(getattr(request.user, "partner_company", None), "name", ""),
        "days": days,
        "chosen": chosen.isoformat(),
        "today": today.isoformat(),
        "tomorrow": (today + dt.timedelta(days=1)).isoformat(),
        "labels": _labels(),
        "texts": _texts(),
        "reasons": IncompleteReason.choices,
        "photo_kinds": list(_photo_kind_labels().items()),
        "routes_url": reverse("api:routes"),
        "reports_url": reverse("api:job-reports", args=[0]),
        "photos_url": reverse("api:photos"),
        "language": get_language() or settings.LANGUAGE_CODE,
    }
    return render(request, "web/crew.html", context)


@require_GET
def crew_service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, served under ``/crew/`` so its scope covers the page.

    Public on purpose (a browser fetches it to update the worker, signed in or
    not); it holds no data, only code and the names of the shell's files.
    """
    shell = [reverse("web:crew")] + [static(name) for name in SHELL_STATIC]
    header = (
        "/* Generated by web/crew.py from static/js/crew-sw.js. */\n"
        f"const CREW_SHELL = {json.dumps(shell)};\n"
        f"const CREW_VERSION = {json.dumps(_version(shell))};\n"
    )
    response = HttpResponse(
        header + SERVICE_WORKER_SOURCE.read_text(encoding="utf-8"),
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = reverse("web:crew")
    # The browser must see a new version at once; the worker caches what it needs.
    response["Cache-Control"] = "no-cache"
    return response


def _version(shell: list[str]) -> str:
    """Changes whenever a shell file or the worker itself changes (a new cache then)."""
    digest = hashlib.sha256(SERVICE_WORKER_SOURCE.read_bytes())
    for name in SHELL_STATIC:
        path = Path(__file__).resolve().parent.parent / "static" / name
        if path.exists():
            digest.update(path.read_bytes())
    digest.update("|".join(shell).encode())
    return digest.hexdigest()[:12]
