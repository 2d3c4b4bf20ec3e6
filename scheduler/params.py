"""How long and how to search: stopping criteria and solver parameters.

Stopping criteria are tiny validated objects, as in PyVRP, combined with ``|``
("stop when any of them says so")::

    MaxRuntime(30) | NoImprovement(5)
    FirstFeasible()

Progress is reported through a plain callable and cancellation through a
``threading.Event`` (or any ``() -> bool``), so the CLI, a Celery task and the
tests can all drive the same solver.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True)
class MaxRuntime:
    """Stop after ``seconds`` of wall clock for the whole :func:`scheduler.solve` call.

    Travel matrix, screening, the start plan, the model build, the search and
    the explanation of unplaced jobs all come out of this budget (the search
    gets what is left), so a caller can rely on the call returning in time.
    """

    seconds: float

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise ValueError("MaxRuntime.seconds must be > 0")

    def __or__(self, other: StopCriterion) -> AnyOf:
        return AnyOf((self, other))


@dataclass(frozen=True)
class NoImprovement:
    """Stop when the best plan has not improved for ``seconds``.

    Checked from inside the search, so it costs a little speed; combine it with
    :class:`MaxRuntime` to also bound the total time.
    """

    seconds: float

    def __post_init__(self) -> None:
        if not self.seconds > 0:
            raise ValueError("NoImprovement.seconds must be > 0")

    def __or__(self, other: StopCriterion) -> AnyOf:
        return AnyOf((self, other))


@dataclass(frozen=True)
class FirstFeasible:
    """Stop at the first complete plan (construction only, no improvement).

    The fastest way to get *a* plan, and the only reproducible mode that does
    not depend on the machine's speed.
    """

    def __or__(self, other: StopCriterion) -> AnyOf:
        return AnyOf((self, other))


@dataclass(frozen=True)
class AnyOf:
    """Stop as soon as any of the criteria is met."""

    criteria: tuple[MaxRuntime | NoImprovement | FirstFeasible | AnyOf, ...]

    def __post_init__(self) -> None:
        flat: list[MaxRuntime | NoImprovement | FirstFeasible | AnyOf] = []
        for criterion in self.criteria:
            if isinstance(criterion, AnyOf):
                flat.extend(criterion.criteria)  # already flat: AnyOf flattens on creation
            elif isinstance(criterion, MaxRuntime | NoImprovement | FirstFeasible):
                flat.append(criterion)
            else:
                raise TypeError(f"not a stopping criterion: {criterion!r}")
        if not flat:
            raise ValueError("AnyOf needs at least one criterion")
        object.__setattr__(self, "criteria", tuple(flat))

    def __or__(self, other: StopCriterion) -> AnyOf:
        return AnyOf((*self.criteria, other))

    @property
    def max_runtime_s(self) -> float | None:
        """The tightest :class:`MaxRuntime`, if any."""
        runtimes = [c.seconds for c in self.criteria if isinstance(c, MaxRuntime)]
        return min(runtimes) if runtimes else None

    @property
    def no_improvement_s(self) -> float | None:
        """The tightest :class:`NoImprovement`, if any."""
        spans = [c.seconds for c in self.criteria if isinstance(c, NoImprovement)]
        return min(spans) if spans else None

    @property
    def first_feasible(self) -> bool:
        """Whether to stop at the first plan."""
        return any(isinstance(c, FirstFeasible) for c in self.criteria)


StopCriterion = MaxRuntime | NoImprovement | FirstFeasible | AnyOf


def as_any_of(stop: StopCriterion) -> AnyOf:
    """Normalise a single criterion or a combination to :class:`AnyOf`."""
    return stop if isinstance(stop, AnyOf) else AnyOf((stop,))


class FirstSolution(StrEnum):
    """Construction heuristics worth choosing from (names as in OR-Tools).

    ``PARALLEL_CHEAPEST_INSERTION`` is the default: OR-Tools' own default
    (``PATH_CHEAPEST_ARC``) finds no plan at all on tight time windows when
    every job is mandatory (``/work/shared/NOTES.md``).
    """

    PARALLEL_CHEAPEST_INSERTION = "PARALLEL_CHEAPEST_INSERTION"
    LOCAL_CHEAPEST_INSERTION = "LOCAL_CHEAPEST_INSERTION"
    SEQUENTIAL_CHEAPEST_INSERTION = "SEQUENTIAL_CHEAPEST_INSERTION"
    SAVINGS = "SAVINGS"
    PATH_CHEAPEST_ARC = "PATH_CHEAPEST_ARC"
    AUTOMATIC = "AUTOMATIC"


class Metaheuristic(StrEnum):
    """How the search escapes local optima once a first plan exists.

    ``ITERATED_LOCAL_SEARCH``: OR-Tools' ruin-and-recreate iterated local
    search (remove strings of nearby visits, SISR, Christiaens and Vanden
    Berghe 2020; re-insert by cheapest insertion; descend; accept by a
    simulated-annealing test). The better search when there is time for
    hundreds of iterations. OR-Tools has no warm start for it; a caller's
    plan is made its first plan through route locks
    (``scheduler.ortools_search._iterated_search``), and is kept if the
    search ends worse.

    ``GUIDED_LOCAL_SEARCH``: penalise the arcs of local optima and keep
    descending from the same plan; continues from a warm start.

    ``AUTO`` (the default): :func:`scheduler.solve.solve` picks iterated
    local search for a week searched as one model when the time limit gives
    each job at least ``scheduler.solve.ITERATED_SECONDS_PER_JOB`` and the
    caller gave no warm start, guided local search otherwise. Code below
    :func:`~scheduler.solve.solve` that receives ``AUTO`` runs guided local
    search. Measurements: ``docs/BENCHMARKS.md``, "Why the solver defaults
    are what they are".
    """

    AUTO = "AUTO"
    GUIDED_LOCAL_SEARCH = "GUIDED_LOCAL_SEARCH"
    ITERATED_LOCAL_SEARCH = "ITERATED_LOCAL_SEARCH"


@dataclass(frozen=True)
class StartParams:
    """Where the search starts: the first plan(s) it improves.

    Attributes
    ----------
    first_solution
        Construction heuristic of the (first) worker.
    greedy_start
        Without a warm start, start from the greedy plan
        (:func:`scheduler.greedy.solve_greedy`) instead of an OR-Tools
        construction: it is valid at once and takes a fraction of the time
        of OR-Tools' insertion heuristics, which do not stop at the time
        limit. Ignored with ``restarts``. With iterated local search the
        greedy plan is only kept if the search ends worse.
    constructions
        Without a warm start: build a first plan with each of these
        heuristics and improve only the cheapest one for the whole time
        left. Empty = use ``first_solution``.
    restarts
        Constructions to restart from, one after the other in this process,
        each followed by guided local search for an equal share of the
        ``MaxRuntime``; the best plan wins. Which construction leads to the
        best local optimum differs from problem to problem. Empty = one
        search.
    restart_on_stall_s
        With ``restarts``: move on to the next construction only when the
        best plan has not improved for this many seconds (the last restart
        runs to the end), instead of splitting the time evenly.
    """

    first_solution: FirstSolution = FirstSolution.PARALLEL_CHEAPEST_INSERTION
    greedy_start: bool = True
    constructions: tuple[FirstSolution, ...] = ()
    restarts: tuple[FirstSolution, ...] = ()
    restart_on_stall_s: float | None = None


@dataclass(frozen=True)
class SearchParams:
    """How local optima are escaped: the metaheuristic and its settings.

    Attributes
    ----------
    metaheuristic
        :class:`Metaheuristic`; plain names are accepted (JSON settings, the CLI).
    guided_local_search_lambda
        Penalty strength of guided local search; OR-Tools' default is 0.1.
    ruin_visits
        Iterated local search: visits removed per perturbation, on average
        (SISR's ``c-bar``; the paper's value).
    ruin_sequence
        Iterated local search: the longest string of consecutive visits one
        route loses in a perturbation (SISR's ``L-max``).
    annealing_start, annealing_end
        Iterated local search: simulated-annealing temperature at the start
        and at the end of the time limit (exponential cooling), as fractions
        of the mean arc cost of the model. A worse reference plan is accepted
        with probability ``exp(-increase / temperature)``.
    """

    metaheuristic: Metaheuristic = Metaheuristic.AUTO
    guided_local_search_lambda: float = 0.1
    ruin_visits: int = 10
    ruin_sequence: int = 10
    annealing_start: float = 0.3
    annealing_end: float = 0.003

    def __post_init__(self) -> None:
        if self.ruin_visits < 1 or self.ruin_sequence < 1:
            raise ValueError("ruin_visits and ruin_sequence must be >= 1")
        if not 0 < self.annealing_end <= self.annealing_start:
            raise ValueError("need 0 < annealing_end <= annealing_start")
        # Accept the plain names too (JSON settings, the CLI); unknown names raise.
        object.__setattr__(self, "metaheuristic", Metaheuristic(self.metaheuristic))
        if self.guided_local_search_lambda < 0:
            raise ValueError("guided_local_search_lambda must be >= 0")


@dataclass(frozen=True)
class OperatorParams:
    """Which local-search moves OR-Tools tries (its defaults: all on, no penalties).

    Attributes
    ----------
    drop_moves
        Let local search unassign planned jobs (make-inactive and swap-active
        operators, relocating a path to insert unperformed nodes). Needed
        when jobs compete for too little capacity; pure overhead when every
        job is meant to be planned and the start plan places all of them.
        Inserting a left-out job (``make_active``) stays on either way.
    insertion_lns
        OR-Tools' insertion-based large-neighbourhood operators (remove a
        route segment and re-insert its jobs by cheapest insertion), the
        most expensive operators of a step.
    penalties_in_operators
        Let the operators see guided local search's arc penalties when
        choosing moves
        (``use_guided_local_search_penalties_in_local_search_operators``);
        off until measured on the ISP weeks.
    """

    drop_moves: bool = True
    insertion_lns: bool = True
    penalties_in_operators: bool = False


@dataclass(frozen=True)
class SolveParams:
    """Search settings that do not change what a good plan is (see ``Weights`` for that).

    Grouped as in PyVRP: the run itself at the top, then where the search
    starts (:class:`StartParams`), how it escapes local optima
    (:class:`SearchParams`) and which moves it tries (:class:`OperatorParams`)::

        SolveParams(
            seed=1,
            start=StartParams(greedy_start=False, constructions=(FirstSolution.SAVINGS,)),
            search=SearchParams(metaheuristic=Metaheuristic.GUIDED_LOCAL_SEARCH),
            operators=OperatorParams(drop_moves=False),
        )

    Why the defaults are what they are, with the measurements:
    ``docs/BENCHMARKS.md``, "Why the solver defaults are what they are".

    Attributes
    ----------
    seed
        Permutes the order in which jobs are presented to the solver
        (OR-Tools' routing search has no random seed of its own). With
        ``FirstFeasible`` the same seed gives the same plan on every run and
        machine; time-limited search is not repeatable.
    num_workers
        Independent searches run in parallel processes (different seeds and
        construction heuristics); the best plan wins. ``1`` keeps everything in
        this process.
    decompose
        Improve large weeks region by region (:mod:`scheduler.decompose`);
        ``False`` keeps one OR-Tools model whatever the size.
    log_search
        Let OR-Tools print its search log to stderr.
    start, search, operators
        The groups above.
    """

    seed: int = 0
    num_workers: int = 1
    decompose: bool = True
    log_search: bool = False
    start: StartParams = field(default_factory=StartParams)
    search: SearchParams = field(default_factory=SearchParams)
    operators: OperatorParams = field(default_factory=OperatorParams)

    def __post_init__(self) -> None:
        if self.num_workers < 1:
            raise ValueError("num_workers must be >= 1")


ProgressCallback = Callable[[float, float, int], None]
"""Called as ``progress(elapsed_s, best_objective_yen, assigned_count)`` on each improvement."""


CancelToken = threading.Event | Callable[[], bool]
"""Set the event (or return ``True``) to stop the search and keep the best plan so far."""


def is_cancelled(token: CancelToken | None) -> bool:
    """Whether a cancellation token asks to stop."""
    if token is None:
        return False
    if isinstance(token, threading.Event):
        return token.is_set()
    return bool(token())
