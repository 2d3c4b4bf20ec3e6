"""Jobs left out that would have fitted: the planner's plan checked by brute force.

For a generated week solved under a time limit, every job the plan leaves out
(and that fits on some crew-day alone) is tried in every position of every
crew-day it may go to, against the final plan, with the validator
(:func:`scheduler.validate.validate_route`): one that passes fitted and was
dropped anyway. Also reported: the wall time against the limit, the reasons
given, and how many jobs the repair step inserted.

Issue 24 found such jobs under time pressure (the explanation started after
the deadline). To reproduce a loaded machine, share the core with a busy
process::

    taskset -c 0 yes > /dev/null &
    taskset -c 0 .venv/bin/python -m benchmarks.left_out_jobs --jobs 3000 --limit 30 --load 1.0
    kill %1
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from collections.abc import Sequence

from scheduler.generate import generate_week
from scheduler.params import MaxRuntime, SolveParams
from scheduler.reasons import screen
from scheduler.solve import solve
from scheduler.timing import is_feasible, schedule_route
from scheduler.travel import travel_for
from scheduler.validate import validate_route


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--limit", type=float, default=30.0, help="solver seconds")
    parser.add_argument("--load", type=float, default=1.0, help="generate_week target_load")
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args(argv)
    problem = generate_week(args.jobs, seed=args.seed, target_load=args.load)
    started = time.monotonic()
    result = solve(problem, MaxRuntime(args.limit), SolveParams(seed=1))
    wall_s = time.monotonic() - started
    travel = travel_for(problem)
    candidates = screen(problem, travel).candidates
    crew_days = problem.crew_days_by_key()
    routes = {(r.crew_id, r.day): list(r.job_ids) for r in result.routes}
    fitted = 0
    for left_out in result.unassigned:
        for key in candidates.get(left_out.job_id, ()):
            route = routes.get(key, [])
            if any(
                is_feasible(
                    schedule_route(
                        problem,
                        travel,
                        crew_days[key],
                        trial := [*route[:p], left_out.job_id, *route[p:]],
                    ),
                    crew_days[key],
                )
                and not validate_route(problem, key[0], key[1], trial, travel)
                for p in range(len(route) + 1)
            ):
                fitted += 1
                break
    print(
        json.dumps(
            {
                "jobs": args.jobs,
                "limit_s": args.limit,
                "wall_s": round(wall_s, 2),
                "planned": result.kpis.jobs_assigned,
                "left_out": len(result.unassigned),
                "reasons": Counter(r.rule for u in result.unassigned for r in u.reasons),
                "left_out_but_fitted": fitted,
                "repaired_after_search": result.extra.repaired_jobs,
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
