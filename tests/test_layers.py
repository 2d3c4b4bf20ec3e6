"""The project's packages depend one way: each imports only from the layers below it.

Read from the source with ``ast`` (every ``import``, at module level or inside a
function: a deferred import is a dependency too), so a new upward import fails
here before it can grow into a cycle. Migrations are left out: Django writes them.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: Lowest first. A package may import its own layer's other packages only where
#: listed in SIDEWAYS; everything else must come from a lower layer.
LAYERS: list[set[str]] = [
    {"scheduler"},  # the solver: plain Python, problem in, plan out
    {"core", "observability", "stamps"},  # domain error type and other plain building blocks;
    # metrics, logs and request ids (no project imports, so the domain can count); change
    # counters for cached answers
    {"accounts"},  # users, roles, tokens
    {"sites"},  # customers, contracts, buildings, surveys
    {"dispatch"},  # jobs, crews, plans, the live schedule
    {"support", "delivery", "audit", "webhooks"},  # support calls; handover and imports;
    # the audit trail; events pushed to partners
    {"demo"},  # the demo data and its builder
    {"api", "web"},  # the REST API and the coordinator's pages
    {"config"},  # settings, URLs, WSGI
]
SIDEWAYS: set[tuple[str, str]] = set()

RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def imports_of(package: str) -> set[tuple[str, str]]:
    """(imported project package, file) for every import in ``package``."""
    found = set()
    for path in (ROOT / package).rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in RANK and top != package:
                    found.add((top, str(path.relative_to(ROOT))))
    return found


def test_every_project_package_has_a_layer() -> None:
    packages = {
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "benchmarks", "scripts"}
    }
    assert packages - set(RANK) == set()


@pytest.mark.parametrize("package", sorted(RANK))
def test_a_package_imports_only_from_the_layers_below(package: str) -> None:
    upward = sorted(
        f"{path} imports {target}"
        for target, path in imports_of(package)
        if RANK[target] > RANK[package]
        or (RANK[target] == RANK[package] and (package, target) not in SIDEWAYS)
    )
    assert upward == []


def test_the_solver_knows_nothing_of_django() -> None:
    uses = sorted(
        str(path.relative_to(ROOT))
        for path in (ROOT / "scheduler").rglob("*.py")
        if "import django" in path.read_text() or "from django" in path.read_text()
    )
    assert uses == []
