"""The coordinators' Import page: check a spreadsheet, read what it would do, import it.

Thin over :mod:`delivery.imports`, the same service the API calls: the page
uploads the file, shows the dry run's report row by row, and imports only
on a second, explicit press. The file is never kept on the server between the
two; the browser keeps it selected (``static/js/imports.js`` posts the form
in the background and swaps in the report), and without JavaScript the
coordinator picks it again.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.access import roles_required
from accounts.models import Role
from delivery.imports import (
    MAX_FILE_BYTES,
    ImportReport,
    import_apply,
    import_preview,
    sites_geocoding_progress,
)

coordinators = roles_required(Role.COORDINATOR)

KIND_CHOICES = [
    ("orders", gettext_lazy("Orders (jobs with contract, customer and site)")),
    ("crews", gettext_lazy("Crews")),
]
#: What each action of a row is called on the page.
ACTION_LABELS = {
    "create": gettext_lazy("New"),
    "update": gettext_lazy("Update"),
    "unchanged": gettext_lazy("Unchanged"),
    "invalid": gettext_lazy("Error"),
}


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What the file holds"), choices=KIND_CHOICES)
    file = forms.FileField(
        label=gettext_lazy("File (CSV or Excel, up to 5 MB)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx,text/csv"}),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if upload.size is not None and upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(limit)s MB."),
                params={"limit": MAX_FILE_BYTES // (1024 * 1024)},
            )
        return upload


def _rows(report: ImportReport) -> list[dict[str, Any]]:
    """The report's rows with the words the table shows, problems first."""
    rows: list[dict[str, Any]] = [
        {
            "row": result.row,
            "key": result.key,
            "action": result.action,
            "action_label": ACTION_LABELS[result.action],
            "changes": result.changes,
            "notes": result.notes,
            "errors": result.errors,
        }
        for result in report.rows
    ]
    rows.sort(key=lambda row: (row["action"] != "invalid", row["row"]))
    return rows


@coordinators
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    """GET: the empty form. POST ``action=preview|apply``: the report (400: nothing written)."""
    report: ImportReport | None = None
    status = 200
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            run = import_apply if request.POST.get("action") == "apply" else import_preview
            report = run(kind=form.cleaned_data["kind"], file=upload.read(), filename=upload.name)
            if report.file_errors or (not report.dry_run and not report.applied):
                status = 400
        else:
            status = 400
    else:
        form = ImportForm(initial={"kind": request.GET.get("kind", "orders")})
    context = {
        "form": form,
        "report": report,
        "rows": _rows(report) if report else [],
        "counts": [(label, report.counts[action]) for action, label in ACTION_LABELS.items()]
        if report
        else [],
        "geocoding": sites_geocoding_progress() if report and report.applied else None,
        "max_rows_shown": 500,
    }
    return render(request, "web/imports.html", context, status=status)
