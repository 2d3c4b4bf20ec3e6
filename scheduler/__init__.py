"""Field-dispatch scheduler: plain-Python planning library ("problem in, plan out").

No Django here: the web app converts its models to :class:`Problem` and back
from :class:`Result`. See ``scheduler/README.md`` for units and an example.
"""

from scheduler.model import (
    DAY_S,
    Break,
    Crew,
    CrewDay,
    FixedAssignment,
    Job,
    Location,
    Plan,
    Problem,
    Rules,
    TimeWindow,
    Weights,
    daily_windows,
)
from scheduler.params import (
    AnyOf,
    FirstFeasible,
    FirstSolution,
    MaxRuntime,
    Metaheuristic,
    NoImprovement,
    OperatorParams,
    SearchParams,
    SolveParams,
    StartParams,
)
from scheduler.result import (
    Kpis,
    Reason,
    Result,
    Route,
    SolveInfo,
    Status,
    StopReason,
    Unassigned,
    build_result,
)
from scheduler.solve import solve
from scheduler.timing import Visit, schedule_route
from scheduler.travel import HaversineTravel, OsrmTravel, TravelMatrix, travel_for
from scheduler.validate import Violation, validate, validate_route

__all__ = [
    "DAY_S",
    "AnyOf",
    "Break",
    "Crew",
    "CrewDay",
    "FirstFeasible",
    "FirstSolution",
    "FixedAssignment",
    "HaversineTravel",
    "Job",
    "Kpis",
    "Location",
    "MaxRuntime",
    "Metaheuristic",
    "NoImprovement",
    "OperatorParams",
    "OsrmTravel",
    "Plan",
    "Problem",
    "Reason",
    "Result",
    "Route",
    "Rules",
    "SearchParams",
    "SolveInfo",
    "SolveParams",
    "StartParams",
    "Status",
    "StopReason",
    "TimeWindow",
    "TravelMatrix",
    "Unassigned",
    "Violation",
    "Visit",
    "Weights",
    "build_result",
    "daily_windows",
    "schedule_route",
    "solve",
    "travel_for",
    "validate",
    "validate_route",
]
