"""Property: whatever plan and parameters the API accepts either solve to a plan the
independent validator accepts, or are refused with an error that names the field.
Never a crash, never an invalid plan. (Examples are few so CI stays fast.)"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import scheduler
from dispatch.models import Job
from dispatch.plans import plan_create
from dispatch.problem import ParameterError, PlanParameters, plan_problem, result_visits
from dispatch.states import PlanningError
from tests.dispatch.conftest import MONDAY, World

pytestmark = pytest.mark.django_db

#: CI runs a few; `ADAPTER_PROPERTY_EXAMPLES=500 make fuzz`-style runs go further.
EXAMPLES = int(os.environ.get("ADAPTER_PROPERTY_EXAMPLES", "15"))

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.text(max_size=5),
    st.floats(allow_nan=True),
    st.lists(st.integers(), max_size=2),
)
params = st.dictionaries(
    st.sampled_from(
        ["time_limit_seconds", "seed", "min_gap_minutes", "max_utilization", "weights", "colour"]
    ),
    st.one_of(
        st.integers(min_value=-10, max_value=5000),
        st.floats(min_value=-1, max_value=2, allow_nan=False),
        st.dictionaries(
            st.sampled_from(["late_day_yen", "per_km_yen", "nonsense"]),
            st.one_of(st.integers(-5, 10**10), junk),
            max_size=2,
        ),
        junk,
    ),
    max_size=4,
)
jobs = st.lists(
    st.tuples(
        st.integers(min_value=10, max_value=900),  # duration: some longer than any shift
        st.one_of(st.none(), st.integers(min_value=6, max_value=20)),  # slot from, hour
        st.integers(min_value=1, max_value=6),  # customer's slot length, hours
    ),
    min_size=4,
    max_size=4,
)


def _shape(world: World, shape: list[tuple[int, int | None, int]]) -> None:
    for job, (duration, start_hour, hours) in zip(world.jobs, shape, strict=True):
        window: dict[str, Any] = {"window_start": None, "window_end": None}
        if start_hour is not None:
            end_hour = min(start_hour + hours, 23)
            window = {"window_start": dt.time(start_hour), "window_end": dt.time(end_hour)}
        Job.objects.filter(pk=job.pk).update(duration_minutes=duration, **window)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
@given(raw_params=params, days=st.integers(min_value=-1, max_value=40), shape=jobs)
def test_accepted_plans_solve_validly_and_refused_ones_say_why(
    world: World, raw_params: dict, days: int, shape: list[tuple[int, int | None, int]]
) -> None:
    with transaction.atomic():  # each example starts from the same world
        _check(world, raw_params, days, shape)
        transaction.set_rollback(True)


def _check(
    world: World, raw_params: dict, days: int, shape: list[tuple[int, int | None, int]]
) -> None:
    _shape(world, shape)
    try:
        plan = plan_create(
            name="property",
            start_date=MONDAY,
            end_date=MONDAY + dt.timedelta(days=days),
            region=world.region,
            params=raw_params,
        )
    except ParameterError as refused:
        assert refused.field and str(refused)
        event("refused: a parameter")
        return
    except PlanningError as refused:
        assert refused.field in {"end_date"} and str(refused)
        event("refused: the dates")
        return

    checked = PlanParameters.from_dict(plan.params)
    planning = plan_problem(plan=plan, params=checked)
    result = scheduler.solve(
        planning.problem,
        scheduler.MaxRuntime(1) | scheduler.FirstFeasible(),
        scheduler.SolveParams(seed=checked.seed),
    )
    assert result.status == "plan_found" or not planning.jobs
    event(f"solved: {result.kpis.jobs_assigned} of {len(world.jobs)} jobs assigned")
    assert scheduler.validate(planning.problem, result) == []
    visits = result_visits(plan=plan, planning=planning, result=result, locked_job_ids=set())
    assert {v.job_id for v in visits} <= {job.pk for job in world.jobs}
    unassignable = {j.pk for j in world.jobs} - {v.job_id for v in visits}
    assert len(unassignable) == len(world.jobs) - result.kpis.jobs_assigned
