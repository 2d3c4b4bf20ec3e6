"""Every refusal of the domain is one ``DomainError``, rendered by one generic branch.

The expected bodies below are the ones the API answered when ``api/errors.py``
still mapped each exception class by hand; the generic branch must keep them.
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import scheduler
from api import errors
from core.errors import DomainError
from delivery import handover
from delivery.imports import tables
from dispatch import (
    editing,
    ledger,
    plans,
    problem,
    readiness,
    reports,
    runs,
    services,
    slots,
    states,
    travel,
)
from dispatch.models import Job
from sites import photos
from webhooks import services as webhook_services
from webhooks import urls as webhook_urls

MESSAGE = "the plan changed; reload and try again"
BLOCKERS = ["construction is not completed", "no IP address is assigned"]
CONFLICT = ledger.Conflict(
    "job", plan_id=4, crew_id=2, date=dt.date(2026, 3, 2), job_id=9, job_reference="J-9"
)

#: class -> (a representative refusal, the body the API answers for it).
CASES: dict[type[DomainError], tuple[Callable[[], DomainError], dict[str, Any]]] = {
    webhook_services.DeliveryBusy: (
        lambda: webhook_services.DeliveryBusy(MESSAGE),
        {"status": 409, "code": "delivery_in_progress"},
    ),
    webhook_urls.InvalidWebhookUrl: (
        lambda: webhook_urls.InvalidWebhookUrl(MESSAGE),
        {"status": 400, "code": "invalid", "fields": {"url": [MESSAGE]}},
    ),
    states.PlanningError: (
        lambda: states.PlanningError(MESSAGE, field="status"),
        {"status": 409, "code": "plan_state", "fields": {"status": [MESSAGE]}},
    ),
    plans.PlanBusy: (
        lambda: plans.PlanBusy(MESSAGE),
        {"status": 409, "code": "plan_busy"},
    ),
    plans.PlanConflict: (
        lambda: plans.PlanConflict(MESSAGE, field="version"),
        {"status": 409, "code": "plan_conflict", "fields": {"version": [MESSAGE]}},
    ),
    runs.QueueUnavailable: (
        lambda: runs.QueueUnavailable(MESSAGE),
        {"status": 503, "code": "queue_unavailable"},
    ),
    editing.RuleViolation: (
        lambda: editing.RuleViolation([scheduler.Violation("day", "outside", job_id="J-1")]),
        {
            "status": 409,
            "code": "rule_violated",
            "rule": "day",
            "violations": [{"rule": "day", "message": "outside", "job_id": "J-1"}],
        },
    ),
    reports.ReportRefused: (
        lambda: reports.ReportRefused(MESSAGE, kind="arrived", accepted=["en_route"]),
        {
            "status": 409,
            "code": "report_refused",
            "fields": {"kind": [MESSAGE]},
            "report_kind": "arrived",
            "accepted": ["en_route"],
        },
    ),
    reports.FactsRefused: (
        lambda: reports.FactsRefused(MESSAGE),
        {"status": 400, "code": "invalid", "fields": {"facts": [MESSAGE]}},
    ),
    reports.OccurredAtRefused: (
        lambda: reports.OccurredAtRefused(MESSAGE),
        {"status": 400, "code": "invalid", "fields": {"occurred_at": [MESSAGE]}},
    ),
    reports.IdempotencyKeyReused: (
        lambda: reports.IdempotencyKeyReused(SimpleNamespace(pk=31)),  # type: ignore[arg-type]
        {"status": 409, "code": "idempotency_key_reused", "report_id": 31},
    ),
    ledger.ScheduleConflict: (
        lambda: ledger.ScheduleConflict([CONFLICT]),
        {"status": 409, "code": "schedule_conflict", "conflicts": [CONFLICT.as_dict()]},
    ),
    problem.ParameterError: (
        lambda: problem.ParameterError("seed", "must be a whole number"),
        {"status": 400, "code": "invalid", "fields": {"seed": ["seed: must be a whole number"]}},
    ),
    readiness.JobBlocked: (
        lambda: readiness.JobBlocked(
            SimpleNamespace(pk=7, reference="J-7"),  # type: ignore[arg-type]
            [readiness.Blocker("survey_missing", "no site survey")],
        ),
        {
            "status": 409,
            "code": "job_blocked",
            "job_id": 7,
            "blockers": [{"code": "survey_missing", "message": "no site survey"}],
        },
    ),
    services.JobOnLiveSchedule: (
        lambda: services.JobOnLiveSchedule(
            SimpleNamespace(pk=7, reference="J-7"),  # type: ignore[arg-type]
            SimpleNamespace(pk=30, plan_id=4, date=dt.date(2026, 3, 2)),  # type: ignore[arg-type]
        ),
        {
            "status": 409,
            "code": "on_live_schedule",
            "job_id": 7,
            "plan_id": 4,
            "visit_id": 30,
            "fields": {
                "status": [
                    "J-7 is on the live schedule (plan 4, 2026-03-02): revise that plan "
                    "and take the visit out, or cancel the job"
                ]
            },
        },
    ),
    services.ReportNotFinishedInstead: (
        lambda: services.ReportNotFinishedInstead(
            SimpleNamespace(pk=7, reference="J-7"),  # type: ignore[arg-type]
            SimpleNamespace(pk=30, plan_id=4, date=dt.date(2026, 3, 2)),  # type: ignore[arg-type]
        ),
        {
            "status": 409,
            "code": "on_live_schedule",
            "job_id": 7,
            "plan_id": 4,
            "visit_id": 30,
            "fields": {
                "status": [
                    "J-7 is on the live schedule (plan 4, 2026-03-02): report the visit not "
                    "finished (POST /api/v1/jobs/7/reports/, kind 'incomplete'), which takes "
                    "it off the crew's route and sends the job back to the queue"
                ]
            },
        },
    ),
    states.TransitionError: (
        lambda: states.TransitionError("new", "completed"),
        {
            "status": 409,
            "code": "illegal_transition",
            "current_status": "new",
            "requested_status": "completed",
        },
    ),
    handover.HandoverError: (
        lambda: handover.HandoverError(MESSAGE),
        {"status": 409, "code": "handover_refused"},
    ),
    handover.IpPoolExhausted: (
        lambda: handover.IpPoolExhausted(MESSAGE, field="pool"),
        {"status": 409, "code": "ip_pool_exhausted", "fields": {"pool": [MESSAGE]}},
    ),
    handover.IpAllocationContended: (
        lambda: handover.IpAllocationContended(MESSAGE),
        {"status": 409, "code": "ip_allocation_contended"},
    ),
    handover.NoIpPool: (
        lambda: handover.NoIpPool(MESSAGE, field="pool"),
        {"status": 409, "code": "no_ip_pool", "fields": {"pool": [MESSAGE]}},
    ),
    handover.ContractCancelled: (
        lambda: handover.ContractCancelled(MESSAGE),
        {"status": 409, "code": "contract_cancelled"},
    ),
    handover.IpInUse: (
        lambda: handover.IpInUse(MESSAGE),
        {"status": 409, "code": "ip_in_use"},
    ),
    handover.BillingTransitionError: (
        lambda: handover.BillingTransitionError(MESSAGE, field="status"),
        {"status": 409, "code": "billing_transition", "fields": {"status": [MESSAGE]}},
    ),
    handover.HandoverBlocked: (
        lambda: handover.HandoverBlocked(MESSAGE, blockers=BLOCKERS),
        {"status": 409, "code": "handover_blocked", "blockers": BLOCKERS},
    ),
    handover.FactsAlreadyDecided: (
        lambda: handover.FactsAlreadyDecided(MESSAGE, current_status="confirmed"),
        {"status": 409, "code": "facts_already_decided", "current_status": "confirmed"},
    ),
    handover.NoConstructionRecord: (
        lambda: handover.NoConstructionRecord(MESSAGE),
        {"status": 409, "code": "no_construction_record"},
    ),
    tables.ExportEncodingError: (
        lambda: tables.ExportEncodingError(
            row=3, column="customer name", character="𠮷", encoding="cp932"
        ),
        {
            "status": 400,
            "code": "unencodable_character",
            "row": 3,
            "column": "customer name",
            "character": "𠮷",
            "fields": {
                "encoding": [
                    "row 3, customer name: the character '𠮷' (U+20BB7) cannot be written in "
                    "Shift_JIS; export as UTF-8 CSV or Excel instead, or change that character"
                ]
            },
        },
    ),
    slots.SlotInputError: (
        lambda: slots.SlotInputError("duration_minutes", "must be a whole number from 5 to 480"),
        {
            "status": 400,
            "code": "invalid",
            "fields": {"duration_minutes": ["must be a whole number from 5 to 480"]},
        },
    ),
    travel.RoutingUnavailable: (
        lambda: travel.RoutingUnavailable(MESSAGE),
        {"status": 503, "code": "routing_unavailable"},
    ),
    slots.SlotTaken: (
        lambda: slots.SlotTaken("this slot was taken meanwhile", [{"date": "2026-12-07"}]),
        {"status": 409, "code": "slot_taken", "offers": [{"date": "2026-12-07"}]},
    ),
    slots.SlotNotConfirmable: (
        lambda: slots.SlotNotConfirmable("this slot is not waiting for confirmation"),
        {"status": 409, "code": "slot_not_confirmable"},
    ),
    slots.JobNotRebookable: (
        lambda: slots.JobNotRebookable(Job(pk=7, reference="J-7", status="cancelled")),
        {
            "status": 409,
            "code": "job_not_rebookable",
            "current_status": "cancelled",
            "job_id": 7,
            "fields": {"job": ["J-7 cannot get a new slot: it was cancelled"]},
        },
    ),
    slots.SlotRebookedMeanwhile: (
        lambda: slots.SlotRebookedMeanwhile(
            SimpleNamespace(pk=7, reference="J-7"),  # type: ignore[arg-type]
            None,
        ),
        {
            "status": 409,
            "code": "rebooked_meanwhile",
            "current_slot": None,
            "fields": {"replaces": ["J-7 has no current slot any more: look at its card again"]},
        },
    ),
    photos.PhotoRejected: (
        lambda: photos.PhotoRejected("the file is not a JPEG, PNG or WebP image"),
        {
            "status": 400,
            "code": "invalid",
            "fields": {"file": ["the file is not a JPEG, PNG or WebP image"]},
        },
    ),
    photos.PhotoTooLarge: (
        lambda: photos.PhotoTooLarge("the photo is larger than 10 MB"),
        {
            "status": 413,
            "code": "payload_too_large",
            "fields": {"file": ["the photo is larger than 10 MB"]},
        },
    ),
    photos.PhotoKeyReused: (
        lambda: photos.PhotoKeyReused(12),
        {"status": 409, "code": "idempotency_key_reused", "photo_id": 12},
    ),
}


def _all_subclasses(cls: type[DomainError]) -> set[type[DomainError]]:
    found: set[type[DomainError]] = set()
    for subclass in cls.__subclasses__():
        found |= {subclass, *_all_subclasses(subclass)}
    return found


DOMAIN_ERRORS = sorted(_all_subclasses(DomainError), key=lambda cls: cls.__qualname__)


def _rendered(exc: Exception) -> tuple[int, dict[str, Any]]:
    response = errors.exception_handler(exc, {})
    assert response is not None
    return response.status_code, response.data["error"]


def test_every_domain_error_has_a_case_here() -> None:
    """A new refusal class cannot ship without a pinned answer below."""
    assert set(DOMAIN_ERRORS) == set(CASES)


@pytest.mark.parametrize("cls", DOMAIN_ERRORS, ids=lambda cls: cls.__qualname__)
def test_a_domain_error_renders_with_its_status_code_fields_and_details(
    cls: type[DomainError],
) -> None:
    build, expected = CASES[cls]
    exc = build()
    assert type(exc) is cls
    status, body = _rendered(exc)
    fields = {"fields": {exc.field: [str(exc)]}} if exc.field else {}
    assert status == exc.status
    assert body == {
        "status": exc.status,
        "code": exc.code,
        "message": str(exc),
        **exc.details,
        **fields,
    }
    assert body == {"message": str(exc), **expected}


def test_a_parameter_error_is_still_a_value_error() -> None:
    """Callers that catch ``ValueError`` for bad plan parameters keep catching it."""
    with pytest.raises(ValueError, match="seed: must be a whole number"):
        raise problem.ParameterError("seed", "must be a whole number")


def test_the_api_maps_no_domain_error_class_by_name() -> None:
    """``api/errors.py`` has one generic branch: no ``isinstance`` names a subclass."""
    tree = ast.parse(Path(inspect.getfile(errors)).read_text())
    named: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance":
            named |= {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
            named |= {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
    domain_names = {cls.__name__ for cls in DOMAIN_ERRORS}
    assert "DomainError" in named
    assert not named & domain_names


def test_the_api_imports_no_domain_module_for_its_errors() -> None:
    """The handler knows ``core.errors`` only, not where each refusal is defined."""
    tree = ast.parse(Path(inspect.getfile(errors)).read_text())
    modules = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "core.errors" in modules
    assert not {m for m in modules if m and m.split(".")[0] in {"dispatch", "sites"}}
