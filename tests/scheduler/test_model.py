"""Input dataclasses refuse inconsistent data at construction, not deep in the solver."""

from __future__ import annotations

import pytest

from scheduler import Crew, CrewDay, Job, Problem, Rules, TimeWindow, daily_windows
from tests.scheduler.conftest import DAY_S, TOKYO, H, crew, crew_days, job, problem


def test_window_must_not_end_before_it_starts() -> None:
    """A window ending before it starts is a data error."""
    with pytest.raises(ValueError, match="ends before"):
        TimeWindow(10, 5)


def test_priority_outside_1_to_5_is_refused() -> None:
    """Priorities are 1 (low) to 5 (high)."""
    with pytest.raises(ValueError, match="priority"):
        Job("j", TOKYO, 60, priority=9)


def test_max_utilization_must_be_a_fraction() -> None:
    """Utilization caps are fractions of the shift, in (0, 1]."""
    with pytest.raises(ValueError):
        Rules(max_utilization=1.5)
    with pytest.raises(ValueError):
        Crew("c", TOKYO, max_utilization=0)


def test_crew_day_must_reference_a_known_crew() -> None:
    """A crew-day of an unknown crew is refused when the problem is built."""
    with pytest.raises(ValueError, match="unknown crew"):
        Problem((crew("A"),), (CrewDay("B", 0, 0, H),), ())


def test_duplicate_job_ids_are_refused() -> None:
    """Job ids identify jobs in plans and results, so they must be unique."""
    with pytest.raises(ValueError, match="unique"):
        problem([crew("A")], crew_days(["A"]), [job("a", TOKYO), job("a", TOKYO)])


def test_daily_windows_are_absolute_per_day() -> None:
    """daily_windows(9:00-17:00) on days 0 and 2 gives two absolute windows."""
    assert daily_windows([2, 0], 9 * H, 17 * H) == (
        TimeWindow(9 * H, 17 * H),
        TimeWindow(2 * DAY_S + 9 * H, 2 * DAY_S + 17 * H),
    )


def test_busy_cap_is_floor_of_utilization_times_shift() -> None:
    """85 % of a 10-hour shift is 30,600 s exactly (no floating-point loss)."""
    p = problem([crew("A")], crew_days(["A"]), [], rules=Rules(max_utilization=0.85))
    assert p.busy_cap_s(p.crew_days[0]) == 30_600
