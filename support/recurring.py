"""The recurring-issues page: places that keep calling, what about, and the calls behind.

For delivery (coordinators) and support; there is no development role
(``accounts.models.Role``), so developers read it with one of those two
accounts. ``K`` (at least this many calls) and ``N`` (in the last N days)
are a GET form, so a page is a link anyone can pass on; bad values answer
400 with the form saying which field and why. The same query downloads as
CSV (UTF-8 with BOM, or ``encoding=cp932`` for Japanese Excel), one row per
call with its group's counts, headers in the reader's language.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from accounts.access import roles_required
from accounts.models import Role

from .models import CallCategory, FaultIsolation
from .selectors import FAULT_SIDES, Grouping, RecurringGroup, recurring_groups

READERS = (Role.SUPPORT, Role.COORDINATOR)

DEFAULT_DAYS = 30
DEFAULT_MIN_CALLS = 3
MAX_DAYS = 365
MAX_MIN_CALLS = 1000
#: Groups on one page (most calls first) and the latest calls shown per group.
GROUP_LIMIT = 100
CALLS_SHOWN = 20
#: Calls per group in the CSV: every call of a site; the latest ones of a large area.
CALLS_EXPORTED = 1000

EXPORT_ENCODINGS = ("utf-8", "cp932")
CSV_CONTENT_TYPES = {
    "utf-8": "text/csv; charset=utf-8",
    "cp932": "text/csv; charset=shift_jis",
}
#: Text a spreadsheet would run as a formula gets a leading quote.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: Characters Japanese text often holds that CP932 spells with another code point.
_CP932_LOOKALIKES = str.maketrans(
    {"〜": "～", "−": "－", "‖": "∥", "—": "―", "¢": "￠", "£": "￡", "¬": "￢"}
)

GROUPINGS = (
    (Grouping.SITE, gettext_lazy("Site")),
    (Grouping.POSTAL, gettext_lazy("Postal area (first three digits)")),
    (Grouping.CITY, gettext_lazy("City / ward")),
    (Grouping.REGION, gettext_lazy("Region")),
)


class RecurringForm(forms.Form):
    """K and N, and how calls are grouped; every field has a default."""

    min_calls = forms.IntegerField(
        label=gettext_lazy("At least this many calls (K)"),
        min_value=2,
        max_value=MAX_MIN_CALLS,
        initial=DEFAULT_MIN_CALLS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    days = forms.IntegerField(
        label=gettext_lazy("In the last days (N)"),
        min_value=1,
        max_value=MAX_DAYS,
        initial=DEFAULT_DAYS,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    group = forms.ChoiceField(
        label=gettext_lazy("Group by"), choices=GROUPINGS, initial=Grouping.SITE
    )
    encoding = forms.ChoiceField(
        label=gettext_lazy("CSV encoding"),
        choices=(("utf-8", "UTF-8"), ("cp932", "Shift_JIS (CP932)")),
        initial="utf-8",
        required=False,
    )

    def __init__(self, query: Any) -> None:
        # A parameter left out takes its default; one sent empty or wrong is an error.
        data = {name: field.initial for name, field in self.base_fields.items()}
        data.update({name: query[name] for name in self.base_fields if name in query})
        super().__init__(data)
        for name, field in self.fields.items():
            if name in self.errors:
                field.widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": f"id_{name}-error"}
                )


def _labels() -> dict[str, dict[str, str]]:
    return {
        "category": {value: str(label) for value, label in CallCategory.choices},
        "fault": {value: str(label) for value, label in FaultIsolation.choices},
    }


def _read(request: HttpRequest, *, calls_per_group: int) -> tuple[RecurringForm, list[Any]]:
    form = RecurringForm(request.GET)
    if not form.is_valid():
        return form, []
    data = form.cleaned_data
    groups = recurring_groups(
        days=data["days"],
        min_calls=data["min_calls"],
        group=data["group"],
        limit=GROUP_LIMIT,
        calls_per_group=calls_per_group,
    )
    return form, groups


def _render(
    request: HttpRequest, form: RecurringForm, groups: list[RecurringGroup], **extra: Any
) -> HttpResponse:
    labels = _labels()
    fault_short: dict[str, str] = {
        FaultIsolation.CARRIER_SIDE: _("Carrier side"),
        FaultIsolation.CUSTOMER_SIDE: _("Customer side"),
        FaultIsolation.UNKNOWN: _("Not yet known"),
    }
    shown = [
        {
            "group": group,
            "breakdown": [
                {
                    "label": labels["category"].get(row.category, row.category),
                    "counts": [row.count(fault) for fault in FAULT_SIDES],
                    "total": row.total,
                }
                for row in group.breakdown
            ],
            "totals": [group.fault_totals[fault] for fault in FAULT_SIDES],
            "calls": [
                {
                    "view": view,
                    "category": labels["category"].get(view.current["category"], ""),
                    "fault": fault_short.get(view.current["fault_isolation"], ""),
                    "operator": view.call.operator.get_full_name() or view.call.operator.username,
                }
                for view in group.calls
            ],
        }
        for group in groups
    ]
    status = 400 if form.errors else 200
    context = {
        "form": form,
        "groups": shown,
        "fault_sides": [fault_short[fault] for fault in FAULT_SIDES],
        "grouping": getattr(form, "cleaned_data", {}).get("group", ""),
        "query": _query_without_encoding(request),
        "group_limit": GROUP_LIMIT,
        **extra,
    }
    return render(request, "support/recurring.html", context, status=status)


def _query_without_encoding(request: HttpRequest) -> str:
    """The page's parameters, for the download links (each adds its own encoding)."""
    params = request.GET.copy()
    params.pop("encoding", None)
    return params.urlencode()


@require_GET
@roles_required(*READERS)
def recurring_page(request: HttpRequest) -> HttpResponse:
    """Sites or areas with at least K calls in the last N days, with the calls behind them."""
    form, groups = _read(request, calls_per_group=CALLS_SHOWN)
    return _render(request, form, groups)


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


class UnencodableCharacter(ValueError):
    def __init__(self, *, row: int, column: str, character: str) -> None:
        super().__init__(character)
        self.row, self.column, self.character = row, column, character


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Any]], *, encoding: str) -> bytes:
    """CSV as Excel opens it: UTF-8 with BOM, or CP932 (Shift_JIS) without.

    Raises
    ------
    UnencodableCharacter
        A cell holds a character CP932 cannot write (row numbers count the header as 1).
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for number, row in enumerate(rows, start=2):
        cells = [_cell(value) for value in row]
        if encoding == "cp932":
            cells = [cell.translate(_CP932_LOOKALIKES) for cell in cells]
            for position, cell in enumerate(cells):
                try:
                    cell.encode("cp932")
                except UnicodeEncodeError as exc:
                    raise UnencodableCharacter(
                        row=number, column=header[position], character=cell[exc.start]
                    ) from exc
        writer.writerow(cells)
    if encoding == "cp932":
        return buffer.getvalue().encode("cp932")
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def export_rows(groups: list[RecurringGroup]) -> tuple[list[str], list[list[Any]]]:
    """One row per call, with its group's counts; headers in the active language."""
    labels = _labels()
    header = [
        _("Group"),
        _("Calls in the group"),
        _("Carrier side"),
        _("Customer side"),
        _("Not yet known"),
        _("Call"),
        _("Date and time"),
        _("Site"),
        _("Address"),
        _("Category"),
        _("Fault side"),
        _("Operator"),
        _("Summary"),
    ]
    rows = []
    for group in groups:
        totals = group.fault_totals
        for view in group.calls:
            call, current = view.call, view.current
            rows.append(
                [
                    group.issue.label,
                    group.issue.call_count,
                    totals[FaultIsolation.CARRIER_SIDE],
                    totals[FaultIsolation.CUSTOMER_SIDE],
                    totals[FaultIsolation.UNKNOWN],
                    call.pk,
                    timezone.localtime(call.started_at).strftime("%Y-%m-%d %H:%M"),
                    call.site.name,
                    call.site.address,
                    labels["category"].get(current["category"], current["category"]),
                    labels["fault"].get(current["fault_isolation"], current["fault_isolation"]),
                    call.operator.get_full_name() or call.operator.username,
                    current["description"],
                ]
            )
    return header, rows


@require_GET
@roles_required(*READERS)
def recurring_export(request: HttpRequest) -> HttpResponse:
    """The page's groups and their calls as CSV; bad parameters show the page with a 400."""
    form, groups = _read(request, calls_per_group=CALLS_EXPORTED)
    if form.errors:
        return _render(request, form, [])
    encoding = form.cleaned_data["encoding"] or "utf-8"
    header, rows = export_rows(groups)
    try:
        data = csv_bytes(header, rows, encoding=encoding)
    except UnencodableCharacter as exc:
        message = _(
            "row %(row)s, %(column)s: the character '%(character)s' (U+%(codepoint)04X) "
            "cannot be written in Shift_JIS; download the UTF-8 CSV instead"
        ) % {
            "row": exc.row,
            "column": exc.column,
            "character": exc.character,
            "codepoint": ord(exc.character),
        }
        page_form, page_groups = _read(request, calls_per_group=CALLS_SHOWN)
        page_form.add_error("encoding", message)
        return _render(request, page_form, page_groups)
    response = HttpResponse(data, content_type=CSV_CONTENT_TYPES[encoding])
    filename = f"recurring-issues-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # Customers' names and what they said: no shared cache may keep them.
    response["Cache-Control"] = "no-store"
    return response
