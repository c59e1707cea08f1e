"""Services and selectors speak PUNT's own exceptions (punt/errors.py), never DRF's."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SKIP = {".venv", "tests", "node_modules", "bench", "static", "templates"}


def _domain_modules() -> list[Path]:
    found = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0] in SKIP or parts[0].startswith("."):
            continue
        in_package = any(part in ("services", "selectors") for part in parts[:-1])
        if (
            in_package
            or path.stem.startswith(("services", "selectors"))
            or path.stem.endswith(("_services", "_selectors"))
        ):
            found.append(path)
    return sorted(found)


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_the_domain_modules_are_found():
    names = {str(path.relative_to(ROOT)) for path in _domain_modules()}
    assert {
        "tickets/services/tickets.py",
        "tickets/services/time.py",
        "tickets/time_selectors.py",
        "projects/selectors.py",
        "chat/services.py",
    } <= names


@pytest.mark.parametrize("path", _domain_modules(), ids=lambda path: str(path.relative_to(ROOT)))
def test_services_and_selectors_import_nothing_from_rest_framework(path):
    drf = sorted(
        name for name in _imported_modules(path) if name == "rest_framework" or name.startswith("rest_framework.")
    )
    assert drf == [], f"{path.relative_to(ROOT)} imports {drf}: raise punt.errors instead"


def test_views_do_not_catch_drf_exceptions():
    """Pages and dialects catch punt.errors.PuntError; only DRF itself translates DRF's exceptions."""
    offenders = []
    for path in sorted([*ROOT.glob("web/**/*.py"), *ROOT.glob("dialects/**/*.py"), *ROOT.glob("punt/realtime/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and node.type is not None:
                caught = ast.unparse(node.type)
                if any(name in caught for name in ("APIException", "ValidationError", "ServiceError")):
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} except {caught}")
    assert offenders == []


# Services build cards and events with tickets.cards; the card module and the SQL under it stay
# free of DRF, which turns the card's schema into OpenAPI components in tickets/serializers.py.
CARD_MODULES = ("tickets/cards.py", "tickets/fastpath.py")
API_PACKAGES = ("rest_framework", "drf_spectacular")


def _module_path(name: str) -> Path | None:
    """The file of a project module `name` ("tickets.models"), or None for a library."""
    base = ROOT.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file() and path.relative_to(ROOT).parts[0] not in SKIP:
            return path
    return None


def _imported_at_load(path: Path) -> set[str]:
    """The modules `path` imports when it is loaded: its top-level imports (not those inside
    functions or under `if TYPE_CHECKING`)."""
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            # `from tickets import fastpath` loads the module tickets.fastpath.
            names.update(
                f"{node.module}.{alias.name}" for alias in node.names if _module_path(f"{node.module}.{alias.name}")
            )
    return names


@pytest.mark.parametrize("module", CARD_MODULES)
def test_the_card_modules_load_no_drf(module):
    """Not in the module itself, and not through the project modules it loads."""
    offenders, seen, todo = [], set(), [ROOT / module]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        for name in _imported_at_load(path):
            if name.split(".")[0] in API_PACKAGES:
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
            elif (found := _module_path(name)) is not None:
                todo.append(found)
    assert len(seen) > 3  # the walk followed the project's own modules (models, punt.db, ...)
    assert offenders == []
