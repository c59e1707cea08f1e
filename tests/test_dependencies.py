"""Dependencies point one way: apps -> punt/ plumbing, and no import cycle between apps.

Every module of the repository is parsed with `ast` (nothing is imported). An import counts
wherever it sits, inside functions too; only `if TYPE_CHECKING:` blocks are skipped (they
never run). punt/'s composition root - the modules that wire the apps together - may import
any app; nothing but the root imports the root, so it can never close a cycle and is left
out of the graph.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
APPS = (
    "accounts",
    "audit",
    "projects",
    "tickets",
    "chat",
    "webhooks",
    "notifications",
    "dialects",
    "insights",
    "web",
    "punt",
)
SKIPPED_DIRS = {"tests", "bench", "static", "templates", "node_modules", "__pycache__"}

# punt/'s composition root: settings, URL and ASGI wiring, commands and operations. Beyond
# the obvious ones:
# - punt/realtime/{auth,consumers,sse,urls}.py are the realtime endpoints, the WebSocket and
#   SSE counterparts of punt/urls.py: they decide who is connecting (accounts' API keys and
#   users) and which project groups they may join (projects' roles), and are mounted only by
#   punt/routing.py and punt/urls.py. The bus itself (punt.events, punt/realtime/{backend,
#   conf,fanout,layers,presence,renderers}.py) is plumbing. punt/realtime/subscriptions.py
#   runs the project socket's live PQL views for consumers.py (tickets.live decides what
#   matches; it reads projects and tickets), so it is an endpoint module too.
# - punt/ops/metrics.py is NOT root: the event bus and webhooks record into it. The counts it
#   serves that read app tables live in punt/ops/site_counts.py (root) instead.
COMPOSITION_ROOT_FILES = {
    "punt/urls.py",
    "punt/routing.py",
    "punt/settings.py",
    "punt/asgi.py",
    "punt/realtime/auth.py",
    "punt/realtime/consumers.py",
    "punt/realtime/subscriptions.py",
    "punt/realtime/sse.py",
    "punt/realtime/urls.py",
}
COMPOSITION_ROOT_DIRS = ("punt/management/", "punt/ops/")
PLUMBING_IN_ROOT_DIRS = {"punt/ops/metrics.py", "punt/ops/__init__.py"}

# Back edges that still close a cycle, each with the reason it is tolerated for now. The
# test fails if one disappears, so the allowance goes when the edge does.
ALLOWED_BACK_EDGES: dict[tuple[str, str], str] = {
    # None left. projects -> tickets went with issue 15, item 4: what projects' column,
    # sprint and project services do to tickets is tickets/services/board.py, reached through
    # the hook in projects/board_contents.py that tickets fills in from its AppConfig.ready().
}


@dataclass(frozen=True)
class Import:
    source: str  # repository-relative path of the importing module
    line: int
    target: str  # the imported module's dotted name
    module_level: bool  # False when inside a function body

    @property
    def target_app(self) -> str:
        return self.target.split(".")[0]

    def __str__(self) -> str:
        return f"{self.source}:{self.line} imports {self.target}"


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_in(source: str, path: str) -> list[Import]:
    """Absolute imports in `source`, skipping `if TYPE_CHECKING:` bodies, marked module-level or not."""
    found: list[Import] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, in_function)
            return
        if isinstance(node, ast.Import):
            found.extend(Import(path, node.lineno, alias.name, not in_function) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append(Import(path, node.lineno, node.module, not in_function))
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(ast.parse(source, filename=path), False)
    return found


def python_files() -> Iterator[Path]:
    for app in APPS:
        for path in sorted((REPO / app).rglob("*.py")):
            if not SKIPPED_DIRS.intersection(path.relative_to(REPO).parts):
                yield path


def in_composition_root(path: str) -> bool:
    if path in PLUMBING_IN_ROOT_DIRS:
        return False
    return path in COMPOSITION_ROOT_FILES or path.startswith(COMPOSITION_ROOT_DIRS)


def module_name(path: str) -> str:
    return path.removesuffix(".py").removesuffix("/__init__").replace("/", ".")


def all_imports() -> list[Import]:
    found: list[Import] = []
    for path in python_files():
        relative = path.relative_to(REPO).as_posix()
        found += imports_in(path.read_text(encoding="utf-8"), relative)
    return found


def app_graph(imports: list[Import]) -> dict[tuple[str, str], list[Import]]:
    """(from_app, to_app) -> the imports behind that edge; the composition root left out."""
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for imp in imports:
        source_app = imp.source.split("/")[0]
        if in_composition_root(imp.source) or imp.target_app not in APPS or imp.target_app == source_app:
            continue
        edges[(source_app, imp.target_app)].append(imp)
    return edges


def find_cycle(edges: dict[tuple[str, str], list[Import]]) -> list[str] | None:
    """One cycle of the graph as [a, b, ..., a], or None."""
    successors: dict[str, list[str]] = defaultdict(list)
    for source, target in sorted(edges):
        successors[source].append(target)
    state: dict[str, str] = {}  # "open" while on the DFS path, "done" after
    path: list[str] = []

    def dfs(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in successors[node]:
            if state.get(nxt) == "open":
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := dfs(nxt)) is not None:
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(successors):
        if node not in state and (cycle := dfs(node)) is not None:
            return cycle
    return None


def describe(cycle: list[str], edges: dict[tuple[str, str], list[Import]]) -> str:
    steps = [f"{a} -> {b} ({edges[(a, b)][0]})" for a, b in pairwise(cycle)]
    return "import cycle between apps: " + " -> ".join(cycle) + "\n  " + "\n  ".join(steps)


# --- the rules ------------------------------------------------------------------------------------


def test_no_import_cycle_between_apps():
    edges = app_graph(all_imports())
    for allowed in ALLOWED_BACK_EDGES:
        edges.pop(allowed, None)
    cycle = find_cycle(edges)
    assert cycle is None, describe(cycle, edges)


def test_allowed_back_edges_still_exist():
    """An allowance outlives its edge only by mistake: remove it from ALLOWED_BACK_EDGES."""
    edges = app_graph(all_imports())
    assert [edge for edge in ALLOWED_BACK_EDGES if edge not in edges] == []


def test_punt_plumbing_imports_no_app_at_module_level():
    offending = [
        str(imp)
        for imp in all_imports()
        if imp.source.startswith("punt/")
        and not in_composition_root(imp.source)
        and imp.module_level
        and imp.target_app in APPS
        and imp.target_app != "punt"
    ]
    assert offending == [], "punt/ plumbing imports an app:\n" + "\n".join(offending)


def test_nothing_outside_the_composition_root_imports_it():
    """The root may import anything because nothing imports it: keep it that way."""
    root_modules = {
        module_name(path.relative_to(REPO).as_posix())
        for path in python_files()
        if in_composition_root(path.relative_to(REPO).as_posix())
    }
    offending = [
        str(imp)
        for imp in all_imports()
        if not in_composition_root(imp.source)
        and any(imp.target == root or imp.target.startswith(root + ".") for root in root_modules)
    ]
    assert offending == []


def test_composition_root_files_exist():
    missing = [path for path in [*COMPOSITION_ROOT_FILES, *PLUMBING_IN_ROOT_DIRS] if not (REPO / path).exists()]
    assert missing == []


# --- the checker itself -----------------------------------------------------------------------


def test_imports_inside_functions_count_and_type_checking_blocks_do_not():
    source = """
from __future__ import annotations
from typing import TYPE_CHECKING
import accounts.models
from . import sibling
if TYPE_CHECKING:
    from tickets.models import Ticket
else:
    import chat.models
class Thing:
    from projects import permissions
def later():
    from webhooks.services import deliver
"""
    found = {(imp.target, imp.module_level) for imp in imports_in(source, "x/y.py")}
    assert found == {
        ("__future__", True),
        ("typing", True),
        ("accounts.models", True),
        ("chat.models", True),
        ("projects", True),
        ("webhooks.services", False),
    }


def test_a_cycle_is_named_with_the_imports_behind_it():
    imports = [
        Import("tickets/services.py", 41, "chat.services", True),
        Import("chat/services.py", 45, "tickets.models", False),
        Import("chat/services.py", 46, "projects.models", True),
    ]
    edges = app_graph(imports)
    cycle = find_cycle(edges)
    assert cycle == ["chat", "tickets", "chat"]
    assert describe(cycle, edges) == (
        "import cycle between apps: chat -> tickets -> chat\n"
        "  chat -> tickets (chat/services.py:45 imports tickets.models)\n"
        "  tickets -> chat (tickets/services.py:41 imports chat.services)"
    )


@pytest.mark.parametrize(
    ("path", "root"),
    [
        ("punt/urls.py", True),
        ("punt/management/commands/punt_backup.py", True),
        ("punt/ops/backup.py", True),
        ("punt/ops/metrics.py", False),
        ("punt/events.py", False),
        ("punt/realtime/fanout.py", False),
        ("punt/api/authentication.py", False),
    ],
)
def test_composition_root_membership(path, root):
    assert in_composition_root(path) is root
