"""The coordinators' Calendar page: national holidays, closures and extra working days.

Thin: the holidays and the rule of which days a crew works are
:mod:`dispatch.calendars`; the forms only check what a person can get wrong
(an end before the start, the same crew and date twice) and name the field,
and the database constraints stay the last line of defence.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Model
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext
from django.views.decorators.http import require_GET, require_POST

from accounts.access import roles_required
from accounts.models import Role
from dispatch.calendars import national_holidays
from dispatch.ledger import live_visits_between
from dispatch.models import (
    CompanyClosure,
    Crew,
    CrewWorkingDay,
    PartnerClosure,
    PartnerCompany,
    Visit,
)
from dispatch.problem import planning_tz

coordinators = roles_required(Role.COORDINATOR)

#: How far ahead the page lists national holidays.
HOLIDAYS_AHEAD_DAYS = 365


class DateInput(forms.DateInput):
    input_type = "date"


class PeriodForm(forms.ModelForm):
    """A closure from ``start_date`` to ``end_date`` (inclusive): the end may not come first."""

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The last day must be on or after the first day."))
        return cleaned


class CompanyClosureForm(PeriodForm):
    prefix = "company"

    class Meta:
        model = CompanyClosure
        fields = ["start_date", "end_date", "name"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}


class PartnerClosureForm(PeriodForm):
    prefix = "partner"

    class Meta:
        model = PartnerClosure
        fields = ["company", "start_date", "end_date", "reason"]
        widgets = {"start_date": DateInput(), "end_date": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["company"].queryset = PartnerCompany.objects.order_by("name")  # type: ignore[attr-defined]


class CrewChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, crew: Model) -> str:
        assert isinstance(crew, Crew)
        return f"{crew.company.name} / {crew.name}"


class CrewWorkingDayForm(forms.ModelForm):
    prefix = "working"
    crew = CrewChoiceField(label=gettext_lazy("crew"), queryset=Crew.objects.none())

    class Meta:
        model = CrewWorkingDay
        fields = ["crew", "date", "note"]
        widgets = {"date": DateInput()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["crew"].queryset = (  # type: ignore[attr-defined]
            Crew.objects.filter(is_active=True)
            .select_related("company")
            .order_by("company__name", "name")
        )

    def clean(self) -> dict[str, Any]:
        # Named on the date, before the unique constraint's anonymous form-wide message.
        cleaned = super().clean() or {}
        crew, date = cleaned.get("crew"), cleaned.get("date")
        if crew and date and CrewWorkingDay.objects.filter(crew=crew, date=date).exists():
            self.add_error(
                "date",
                _("%(crew)s already works %(date)s as an extra day.")
                % {"crew": crew.name, "date": date.isoformat()},
            )
        return cleaned


FORMS: dict[str, type[forms.ModelForm]] = {
    "company-closure": CompanyClosureForm,
    "partner-closure": PartnerClosureForm,
    "crew-working-day": CrewWorkingDayForm,
}
MODELS: dict[str, type[Model]] = {
    "company-closure": CompanyClosure,
    "partner-closure": PartnerClosure,
    "crew-working-day": CrewWorkingDay,
}
ADDED = {
    "company-closure": gettext_lazy("Company closure added."),
    "partner-closure": gettext_lazy("Partner closure added."),
    "crew-working-day": gettext_lazy("Extra working day added."),
}


def _today() -> dt.date:
    return timezone.localdate(timezone=planning_tz())


def _page(
    request: HttpRequest, bound: forms.ModelForm | None = None, status: int = 200
) -> HttpResponse:
    """The page, with ``bound`` (a form that failed) in place of its empty twin."""
    today = _today()
    forms_by_kind = {kind: form_class() for kind, form_class in FORMS.items()}
    if bound is not None:
        kind = next(k for k, form_class in FORMS.items() if isinstance(bound, form_class))
        forms_by_kind[kind] = bound
    return render(
        request,
        "web/calendar.html",
        {
            "today": today,
            "holidays": national_holidays(today, today + dt.timedelta(days=HOLIDAYS_AHEAD_DAYS)),
            "company_closures": CompanyClosure.objects.filter(end_date__gte=today),
            "partner_closures": PartnerClosure.objects.filter(end_date__gte=today)
            .select_related("company")
            .order_by("start_date", "company__name", "id"),
            "working_days": CrewWorkingDay.objects.filter(date__gte=today)
            .select_related("crew__company")
            .order_by("date", "crew__company__name", "crew__name"),
            "company_form": forms_by_kind["company-closure"],
            "partner_form": forms_by_kind["partner-closure"],
            "working_form": forms_by_kind["crew-working-day"],
        },
        status=status,
    )


@coordinators
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    """Upcoming national holidays, closures and extra working days, with forms to add them."""
    return _page(request)


@coordinators
@require_POST
def calendar_add(request: HttpRequest, kind: str) -> HttpResponse:
    """Add a closure or an extra working day; a form with errors comes back with them (400)."""
    form_class = FORMS.get(kind)
    if form_class is None:
        return HttpResponse(status=404)
    form = form_class(request.POST)
    if not form.is_valid():
        return _page(request, bound=form, status=400)
    period = form.save()
    messages.success(request, str(ADDED[kind]))
    stranded = _stranded_visits(period)
    if stranded:
        messages.warning(request, stranded_text(stranded))
    return redirect("web:calendar")


#: How many stranded visits the warning names; the rest are counted.
STRANDED_LISTED = 5


def _stranded_visits(period: Model) -> list[Visit]:
    """The live visits on the days a closure just closed (none for an extra working day)."""
    if isinstance(period, CompanyClosure):
        visits = live_visits_between(period.start_date, period.end_date)
    elif isinstance(period, PartnerClosure):
        visits = live_visits_between(
            period.start_date, period.end_date, company_id=period.company_id
        )
    else:
        return []
    return list(visits)


def stranded_text(visits: list[Visit]) -> str:
    """The warning: which published visits still send crews out on the closed days."""
    separator = pgettext("list separator", ", ")
    listed = separator.join(
        f"{v.job.reference} ({v.crew.name}, {v.date:%m/%d})" for v in visits[:STRANDED_LISTED]
    )
    if len(visits) > STRANDED_LISTED:
        listed += " " + _("and %(count)d more") % {"count": len(visits) - STRANDED_LISTED}
    plans = separator.join(str(p) for p in sorted({v.plan_id for v in visits}))
    return ngettext(
        "%(count)d published visit still sends a crew out on these days: %(visits)s. "
        "The routes do not change until plan %(plans)s is revised and published.",
        "%(count)d published visits still send crews out on these days: %(visits)s. "
        "The routes do not change until plan %(plans)s is revised and published.",
        len(visits),
    ) % {"count": len(visits), "visits": listed, "plans": plans}


@coordinators
@require_POST
def calendar_delete(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Delete one closure or extra working day."""
    model = MODELS.get(kind)
    if model is None:
        return HttpResponse(status=404)
    get_object_or_404(model, pk=pk).delete()
    messages.success(request, _("Deleted."))
    return redirect("web:calendar")
