"""Large VRPTW instances: route-group sub-problems keep the plan feasible and never longer."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence

import pytest

from benchmarks.vrptw_generate import generate, render
from scheduler import vrptw
from scheduler.vrptw import exact_distance, exact_violations, parse_solomon, solve_instance
from scheduler.vrptw_decompose import improve_by_groups, pick_group, sectors

XY = {n: (math.cos(n), math.sin(n)) for n in range(1, 41)}
"""Forty customers on the unit circle around a depot at the origin (angle = number)."""


def _length(routes: Sequence[Sequence[int]]) -> float:
    total = 0.0
    for route in routes:
        stops = [(0.0, 0.0), *(XY[n] for n in route), (0.0, 0.0)]
        total += sum(math.dist(a, b) for a, b in itertools.pairwise(stops))
    return total


def test_a_group_is_whole_neighbouring_routes_of_about_the_target_size() -> None:
    """Routes are taken whole until the target is reached; no route twice."""
    routes = [list(range(k, k + 4)) for k in range(1, 41, 4)]
    for by_angle in (True, False):
        group = pick_group(routes, XY, (0.0, 0.0), 10, random.Random(1), by_angle)
        assert len(set(group)) == len(group) == 3  # 4 + 4 + 4 >= 10


def test_sectors_cover_every_customer_once_in_polar_order() -> None:
    """Sectors of the first plan: consecutive in angle, about the target size, no customer lost."""
    parts = sectors(XY, (0.0, 0.0), 12)
    assert sorted(n for part in parts for n in part) == list(range(1, 41))
    assert [len(part) for part in parts] == [14, 14, 12]  # 40 / 12 -> 3 sectors of ceil(40 / 3)
    angles = [math.atan2(XY[n][1], XY[n][0]) for part in parts for n in part]
    assert angles == sorted(angles)
    assert sectors({1: (1.0, 0.0)}, (0.0, 0.0), 120) == [[1]]


def test_only_shorter_answers_are_accepted_and_every_customer_stays_planned() -> None:
    """A sub-problem answer replaces its routes only when it is shorter."""
    scrambled = random.Random(2).sample(range(1, 41), 40)
    routes = [scrambled[k : k + 5] for k in range(0, 40, 5)]
    calls: list[int] = []

    def solve_group(
        group: list[list[int]], vehicles: int, seconds: float, seed: int
    ) -> list[list[int]] | None:
        calls.append(vehicles)
        if len(calls) % 2:
            return [*(list(reversed(r)) for r in group), []]  # same length: refused
        ordered = sorted((n for r in group for n in r), key=lambda n: n % (2 * math.pi))
        return [ordered[k : k + 5] for k in range(0, len(ordered), 5)]

    clock = iter(range(1000))
    before = _length(routes)
    improved, stats = improve_by_groups(
        routes,
        xy=XY,
        depot=(0.0, 0.0),
        fleet=9,
        deadline=12.0,
        seed=1,
        solve_group=solve_group,
        length=_length,
        target=10,
        clock=lambda: float(next(clock)),
    )
    assert sorted(n for r in improved for n in r) == list(range(1, 41))
    assert _length(improved) < before
    assert stats["subproblems"] == len(calls) > stats["accepted"] > 0
    assert calls[0] == 4  # three routes (the minimum) and a spare vehicle: 5 routes outside


@pytest.mark.parametrize("kind", ["R1", "C2"])
def test_decomposed_solve_is_feasible_and_not_longer_than_its_first_plan(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The whole path on a small generated instance, with the threshold lowered for the test."""
    monkeypatch.setattr(vrptw, "DECOMPOSE_FROM_CUSTOMERS", 60)
    instance = parse_solomon(render(*generate(kind, customers=80, seed=4)))
    answer = solve_instance(instance, time_limit_s=9, seed=1)
    routes = answer["routes"]
    assert isinstance(routes, list)
    assert exact_violations(instance, routes) == []
    subproblems, first_distance = answer["subproblems"], answer["first_distance"]
    assert isinstance(subproblems, int) and subproblems >= 1
    assert isinstance(first_distance, float)
    assert exact_distance(instance, routes) <= first_distance + 1e-3  # rounded to 4 decimals


def test_a_failed_sector_plan_falls_back_to_the_whole_model(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """When the sectors make no first plan, the whole model makes it; the answer stays feasible."""
    monkeypatch.setattr(vrptw, "DECOMPOSE_FROM_CUSTOMERS", 60)
    monkeypatch.setattr(vrptw, "_sector_plan", lambda *args: None)
    instance = parse_solomon(render(*generate("R2", customers=70, seed=5)))
    answer = solve_instance(instance, time_limit_s=6, seed=1)
    routes = answer["routes"]
    assert isinstance(routes, list)
    assert exact_violations(instance, routes) == []
    first_distance = answer["first_distance"]
    assert isinstance(first_distance, float)
    assert exact_distance(instance, routes) <= first_distance + 1e-3


def test_every_third_group_tries_to_do_without_one_of_its_shortest_routes() -> None:
    """The group around one of the three shortest routes gets a vehicle fewer than its
    routes, that route comes last (the search starts without it), and an answer
    that places everybody on fewer routes and is shorter is taken."""
    sizes = [2, 6, 3, 6, 6, 1, 6, 6, 4]
    numbers = iter(range(1, 41))
    routes = [[next(numbers) for _ in range(size)] for size in sizes]
    shortest = sorted(range(len(routes)), key=lambda k: len(routes[k]))[:3]
    seen: list[tuple[list[list[int]], int]] = []

    def solve_group(
        group: list[list[int]], vehicles: int, seconds: float, seed: int
    ) -> list[list[int]] | None:
        seen.append(([list(r) for r in group], vehicles))
        if vehicles < len(group):
            ordered = sorted((n for r in group for n in r), key=lambda n: n % (2 * math.pi))
            size = math.ceil(len(ordered) / vehicles)
            return [ordered[k : k + size] for k in range(0, len(ordered), size)]
        return None

    clock = iter(range(1000))
    improved, stats = improve_by_groups(
        routes,
        xy=XY,
        depot=(0.0, 0.0),
        fleet=12,
        deadline=6.0,
        seed=3,
        solve_group=solve_group,
        length=lambda rs: _length(rs) + 10 * len([r for r in rs if r]),  # a route costs more
        target=10,
        clock=lambda: float(next(clock)),
    )
    assert len(seen) == 3
    (ordinary, vehicles_1), _, (eliminating, vehicles_3) = seen
    assert vehicles_1 == len(ordinary) + 1
    assert vehicles_3 == len(eliminating) - 1
    assert eliminating[-1] in [routes[k] for k in shortest]
    assert stats["accepted"] == 1
    assert len(improved) == len(routes) - 1
    assert sorted(n for r in improved for n in r) == list(range(1, 41))


@pytest.mark.parametrize("up_to_routes", [8, 0], ids=["few routes: carried", "many: kept"])
def test_a_sector_with_few_routes_hands_its_shortest_route_to_the_next(
    up_to_routes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sector's leftovers fill a route of the next sector instead of one of their own,
    unless the sector had more routes than ``CARRY_UP_TO_ROUTES``."""
    monkeypatch.setattr(vrptw, "DECOMPOSE_FROM_CUSTOMERS", 60)
    monkeypatch.setattr(vrptw, "CARRY_UP_TO_ROUTES", up_to_routes)
    calls: list[tuple[set[str], list[list[str]]]] = []
    real_solve = vrptw.solve

    def spy(problem, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_solve(problem, *args, **kwargs)
        if kwargs.get("warm_start") is None:
            routes = [list(r.job_ids) for r in result.routes]
            calls.append(({j.id for j in problem.jobs}, routes))
        return result

    monkeypatch.setattr(vrptw, "solve", spy)
    instance = parse_solomon(render(*generate("R1", customers=90, seed=6)))
    monkeypatch.setattr(vrptw, "SECTOR_CUSTOMERS", 30)
    answer = solve_instance(instance, time_limit_s=6, seed=1)
    routes = answer["routes"]
    assert isinstance(routes, list) and exact_violations(instance, routes) == []
    sector_calls = [c for c in calls if len(c[0]) < 90]
    assert len(sector_calls) == 3
    carried = 0
    for (_, before), (after_jobs, _) in itertools.pairwise(sector_calls):
        shortest = set(min(before, key=len))
        if len(before) > 1 and up_to_routes:
            assert shortest <= after_jobs
            carried += 1
        else:
            assert not shortest & after_jobs
    assert carried == (2 if up_to_routes else 0)


class _Decomposed(Exception):
    """Raised by the spies below instead of solving."""


@pytest.mark.parametrize(
    ("customers", "decomposed"),
    [
        (100, False),
        (vrptw.DECOMPOSE_FROM_CUSTOMERS - 1, False),
        (vrptw.DECOMPOSE_FROM_CUSTOMERS, True),
        (200, True),
    ],
)
def test_instances_of_180_customers_and_more_are_decomposed(
    customers: int, decomposed: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Solomon's 100 customers stay one model; 200 (Gehring-Homberger's smallest) are decomposed."""

    def large(*args: object, **kwargs: object) -> None:
        raise _Decomposed("solve_large")

    def one_model(*args: object, **kwargs: object) -> None:
        raise _Decomposed("solve")

    monkeypatch.setattr(vrptw, "solve_large", large)
    monkeypatch.setattr(vrptw, "solve", one_model)
    instance = parse_solomon(render(*generate("RC2", customers=customers, seed=3)))
    assert len(instance.customers) == customers
    with pytest.raises(_Decomposed) as raised:
        solve_instance(instance, time_limit_s=60, seed=1)
    assert str(raised.value) == ("solve_large" if decomposed else "solve")
