"""The import graph of ``backend``, ``judging``, ``ticketing`` and ``incubator``, read from the source (``ast``, nothing is
imported): no import cycles, the rules layer stays free of the web framework, and the judging engine
stays pure (numpy, scipy and the standard library only).

Every import counts, also those inside functions (a deferred import hides a cycle, it does not remove
it); only ``if TYPE_CHECKING:`` blocks are left out, as they never run.
"""

from __future__ import annotations

import ast
import sys
from collections import deque
from graphlib import CycleError, TopologicalSorter
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("backend", "judging", "ticketing", "incubator")
ENGINE = "judging.engine"
# What the pure engine may import besides the standard library and itself.
ENGINE_MAY_IMPORT = {"numpy", "scipy"}
# Ticketing's pure modules and what each may import besides the standard library: no database, no
# web framework, no service (the font is looked up by backend.fonts, which reads no table).
TICKETING_PURE = {
    "ticketing.codes": {"cryptography"},
    "ticketing.rules": set(),
    "ticketing.render": {"numpy", "qrcode", "PIL", "backend.fonts"},
}
# The incubator's pure modules, likewise (``incubator.metrics``: what is reported each period).
INCUBATOR_PURE = {"incubator.metrics": set()}
# Modules that hold the rules: plain Python, called by controllers, jobs and commands alike.
FRAMEWORK_FREE = {"backend.policy"}
MIDDLEWARE = "backend.security"  # sessions, tokens and CSRF: the HTTP layer


def module_files() -> dict[str, Path]:
    files = {}
    for path in sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        files[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return files


MODULES = module_files()


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported(module: str, path: Path) -> dict[str, int]:
    """Every module ``module`` imports (ours as dotted names, others by their top-level name), each
    with the line of its first import."""
    found: dict[str, int] = {}
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]

    def add(name: str, line: int) -> None:
        # the most specific module of ours that the name denotes, else the outside package
        parts = name.split(".")
        for end in range(len(parts), 0, -1):
            if ".".join(parts[:end]) in MODULES:
                found.setdefault(".".join(parts[:end]), line)
                return
        found.setdefault(parts[0], line)

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.name, node.lineno)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base, node.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
    return found


def import_graph() -> dict[str, dict[str, int]]:
    """Module → {imported module → line}, for every module under ``backend/`` and ``judging/``."""
    return {module: imported(module, path) for module, path in MODULES.items()}


def cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Import cycles, each once: find one, drop its last edge, look again, until none is left."""
    edges = {m: {t for t in targets if t in graph and t != m} for m, targets in graph.items()}
    self_loops = [[m, m] for m, targets in graph.items() if m in targets]
    found = []
    while True:
        try:
            TopologicalSorter(edges).prepare()
        except CycleError as error:
            cycle = list(reversed(error.args[1]))  # graphlib lists it against the import direction
            found.append(cycle)
            edges[cycle[-2]].discard(cycle[-1])
        else:
            return self_loops + found


def describe(cycle: list[str], graph: dict[str, dict[str, int]]) -> str:
    steps = [f"{a} (line {graph[a][b]})" for a, b in pairwise(cycle)]
    return " → ".join([*steps, cycle[-1]])


def test_the_cycle_finder_reports_each_cycle_with_its_lines():
    graph = {
        "a": {"b": 3, "os": 1},
        "b": {"c": 7},
        "c": {"a": 9},
        "d": {"d": 2, "e": 4},
        "e": {"d": 5},
        "f": {"a": 1},
    }
    found = cycles(graph)
    assert sorted(sorted(c[:-1]) for c in found) == [["a", "b", "c"], ["d"], ["d", "e"]]
    for cycle in found:
        assert cycle[0] == cycle[-1]
        assert all(b in graph[a] for a, b in pairwise(cycle))
    assert describe(["a", "b", "c", "a"], graph) == "a (line 3) → b (line 7) → c (line 9) → a"
    assert cycles({"a": {"b": 1}, "b": {}}) == []


def test_the_graph_sees_every_kind_of_import(tmp_path):
    source = tmp_path / "probe.py"
    source.write_text(
        """
from typing import TYPE_CHECKING
import backend.events.service
from backend import audit, errors as e
from . import tables
from ..accounts import service
if TYPE_CHECKING:
    from backend import app
def later():
    from backend.mail.service import deliver
    import litestar.response
""",
        encoding="utf-8",
    )
    assert imported("backend.events.probe", source) == {
        "typing": 2,
        "backend.events.service": 3,
        "backend.audit": 4,
        "backend.errors": 4,
        "backend.events.tables": 5,
        "backend.accounts.service": 6,
        "backend.mail.service": 10,
        "litestar": 11,
    }
    assert len(import_graph()) == sum(len(list((ROOT / p).rglob("*.py"))) for p in PACKAGES) > 30


def test_the_backend_has_no_import_cycles():
    graph = import_graph()
    found = cycles(graph)
    if found:
        pytest.fail(
            f"{len(found)} import cycle(s) in backend/ or judging/ (module (line of the import) → ...):\n"
            + "\n".join(describe(c, graph) for c in found)
        )


def chain(graph: dict[str, dict[str, int]], start: str, goal: str) -> list[str] | None:
    """The shortest import chain from ``start`` to ``goal`` through our modules, if there is one."""
    previous: dict[str, str | None] = {start: None}
    queue = deque([start])
    while queue:
        module = queue.popleft()
        if module == goal:
            path = [module]
            while (before := previous[path[-1]]) is not None:
                path.append(before)
            return path[::-1]
        for target in graph.get(module, {}):
            if target in graph and target not in previous:
                previous[target] = module
                queue.append(target)
    return None


def test_services_and_the_policy_do_not_import_the_web_layer():
    graph = import_graph()
    rules = sorted(m for m in graph if m.endswith(".service") or m in FRAMEWORK_FREE)
    assert "backend.events.service" in rules
    assert "backend.policy" in rules
    wrong = [
        f"{module} imports {target} (line {line})"
        for module in rules
        for target, line in graph[module].items()
        if target == "litestar"  # outside packages are named by their top level
    ]
    # nor the middleware, not even through other modules: services must run without the HTTP layer
    paths = (chain(graph, module, MIDDLEWARE) for module in rules)
    wrong += [describe(path, graph) for path in paths if path is not None]
    if wrong:
        pytest.fail(
            "services and backend.policy must not depend on Litestar or the middleware:\n"
            + "\n".join(sorted(wrong))
        )


def test_the_chain_finder_follows_our_modules_only():
    graph = {"a": {"b": 1, "litestar": 2}, "b": {"c": 3}, "c": {}, "d": {"a": 1}}
    assert chain(graph, "a", "c") == ["a", "b", "c"]
    assert chain(graph, "c", "a") is None
    assert chain(graph, "a", "litestar") is None


def test_the_judging_engine_is_pure():
    """The engine is numpy/scipy code with no I/O: no database, web framework, or service of ours."""
    graph = import_graph()
    engine = [m for m in graph if m == ENGINE or m.startswith(ENGINE + ".")]
    assert len(engine) > 10
    wrong = [
        f"{module} imports {target} (line {line})"
        for module in engine
        for target, line in graph[module].items()
        if not (
            target.startswith(ENGINE)
            or target in ENGINE_MAY_IMPORT
            or (target not in graph and target in sys.stdlib_module_names)
        )
    ]
    if wrong:
        pytest.fail("the judging engine must stay pure:\n" + "\n".join(sorted(wrong)))


@pytest.mark.parametrize("pure", [TICKETING_PURE, INCUBATOR_PURE], ids=["ticketing", "incubator"])
def test_the_pure_modules_are_pure(pure):
    """Ticketing's codes, rules and images, the incubator's metrics, are plain functions of their
    arguments: the scanner's logic, the gate's decisions, the badges and what a startup must report
    can be tested and benchmarked without a server."""
    graph = import_graph()
    wrong = [
        f"{module} imports {target} (line {line})"
        for module, allowed in pure.items()
        for target, line in graph[module].items()
        if not (target in allowed or (target not in graph and target in sys.stdlib_module_names))
    ]
    if wrong:
        pytest.fail("pure modules must stay pure:\n" + "\n".join(sorted(wrong)))
