"""The desk's forms: labelled controls and type checks; the rules live in the services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Role, User
from sites.models import Contract, Site
from sites.normalize import format_phone

from .models import CallCategory, FaultIsolation, HandoffTeam


class DateInput(forms.DateInput):
    input_type = "date"


def _person_label(user: User) -> str:
    return user.get_full_name() or user.username


class CallForm(forms.Form):
    """What the operator fills in while (or right after) talking to the caller."""

    contract = forms.ModelChoiceField(
        label=_("Contract"), queryset=Contract.objects.none(), required=False
    )
    caller_name = forms.CharField(label=_("Caller name"), max_length=100, required=False)
    caller_phone = forms.CharField(label=_("Caller phone"), max_length=32, required=False)
    category = forms.ChoiceField(label=_("Category"), choices=CallCategory.choices)
    fault_isolation = forms.ChoiceField(
        label=_("Fault isolation"),
        choices=FaultIsolation.choices,
        initial=FaultIsolation.UNKNOWN,
        widget=forms.RadioSelect,
    )
    description = forms.CharField(
        label=_("What the caller reported, what you checked"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    handoff_team = forms.ChoiceField(
        label=_("Hand off to"), choices=HandoffTeam.choices, required=False
    )
    handoff_user = forms.ModelChoiceField(
        label=_("Hand off to a person"), queryset=User.objects.none(), required=False
    )
    handoff_note = forms.CharField(label=_("Hand-off note"), max_length=300, required=False)
    follow_up_needed = forms.BooleanField(label=_("Follow-up needed"), required=False)
    follow_up_due = forms.DateField(label=_("Follow-up due"), required=False, widget=DateInput)
    follow_up_note = forms.CharField(label=_("Follow-up note"), max_length=300, required=False)

    prefix = "call"

    def __init__(self, *args: Any, site: Site, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        contracts = self.fields["contract"]
        assert isinstance(contracts, forms.ModelChoiceField)
        contracts.queryset = site.contracts.order_by("contract_id")
        contracts.empty_label = _("(not known)")
        # Support and coordinators receive hand-offs in their own inbox (support.inbox).
        people = self.fields["handoff_user"]
        assert isinstance(people, forms.ModelChoiceField)
        people.queryset = User.objects.filter(
            is_active=True, role__in=[Role.SUPPORT, Role.COORDINATOR]
        ).order_by("last_name", "first_name", "username")
        people.empty_label = _("(nobody in particular)")
        people.label_from_instance = _person_label  # type: ignore[method-assign,assignment]

    def clean_caller_phone(self) -> str:
        """``0312345678`` is saved as ``03-1234-5678``, like every phone number.

        Whatever is no valid number ("内線 204", a half-heard number) is kept
        as typed: the operator wrote down what the caller said.
        """
        return format_phone(self.cleaned_data.get("caller_phone", "").strip())


class AmendForm(forms.Form):
    """A correction appended to a saved call; empty corrections leave the field as it was."""

    text = forms.CharField(
        label=_("Amendment"), max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    fault_isolation = forms.ChoiceField(
        label=_("Corrected fault isolation"),
        choices=[("", _("(unchanged)")), *FaultIsolation.choices],
        required=False,
    )
    description = forms.CharField(
        label=_("Corrected description"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def corrections(self) -> dict[str, str]:
        return {
            field: self.cleaned_data[field]
            for field in ("fault_isolation", "description")
            if self.cleaned_data.get(field)
        }


def _in_days(days: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=days)


class BookForm(forms.Form):
    """Book a maintenance visit from a call."""

    priority = forms.TypedChoiceField(
        label=_("Priority"),
        coerce=int,
        choices=[(5, _("5 — most urgent")), (4, "4"), (3, "3"), (2, "2"), (1, _("1 — lowest"))],
        initial=4,
    )
    due_date = forms.DateField(label=_("Due date"), widget=DateInput, initial=lambda: _in_days(3))
    earliest_date = forms.DateField(label=_("Not before"), required=False, widget=DateInput)
    duration_minutes = forms.IntegerField(
        label=_("Duration (min)"), min_value=15, max_value=480, initial=60
    )
    # Offered (as radio buttons, see _card.html) once the desk has shown open jobs:
    # the id of the open job to attach the call to, or "new" for a new job anyway.
    choice = forms.CharField(label=_("Open jobs"), max_length=20, required=False)
    reason = forms.CharField(label=_("Why a new job is needed"), max_length=200, required=False)

    NEW_JOB = "new"

    def clean_choice(self) -> str:
        value = self.cleaned_data.get("choice", "").strip()
        if value and value != self.NEW_JOB and not value.isdigit():
            raise forms.ValidationError(_("Choose one of the open jobs, or a new job."))
        return value

    def attach_to_job(self) -> int | None:
        value = self.cleaned_data["choice"]
        return int(value) if value.isdigit() else None

    def create_anyway(self) -> bool:
        return self.cleaned_data["choice"] == self.NEW_JOB
