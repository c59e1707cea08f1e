"""Hand-written SQL stays in one module per app: `<app>/fastpath.py`, on top of punt/db.py.

These tests read the source tree: no other module opens a cursor or calls punt.db's raw SQL
helpers, and no PUNT model's table name is written out anywhere (fast paths take table and
column names from Model._meta).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parent.parent
SKIPPED_DIRS = {".venv", "migrations", "tests", "bench", "node_modules", "static", "media"}
RAW_SQL_HELPERS = {"fetch_one", "fetch_all", "execute"}


def _sources() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts[:-1])
        and not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
    )


def _may_run_sql(path: Path) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    return relative == "punt/db.py" or path.name == "fastpath.py"


def _punt_tables() -> set[str]:
    tables = set()
    for model in apps.get_models(include_auto_created=True):
        if Path(model._meta.app_config.path).resolve().is_relative_to(ROOT):
            tables.add(model._meta.db_table)
    return tables


def test_only_fast_paths_and_punt_db_run_sql():
    offenders = []
    for path in _sources():
        if _may_run_sql(path):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            name = node.func.attr
            receiver = node.func.value
            if name == "cursor" or (name in RAW_SQL_HELPERS and isinstance(receiver, ast.Name) and receiver.id == "db"):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} .{name}(")
            if name == "raw":  # Manager.raw(): SQL by another door
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} .raw(")
    assert offenders == []


def test_no_source_spells_out_a_table_name():
    tables = _punt_tables()
    assert "tickets_ticket" in tables and "tickets_ticket_labels" in tables
    pattern = re.compile(r"\b(" + "|".join(sorted(map(re.escape, tables), key=len, reverse=True)) + r")\b")
    offenders = []
    for path in _sources():
        tree = ast.parse(path.read_text(), str(path))
        # url(..., name="chat_message") names a route, not a table.
        route_names = {
            id(keyword.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
            for keyword in node.keywords
            if keyword.arg == "name"
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in route_names:
                found = pattern.search(node.value)
                if found:
                    offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {found.group(0)}")
    assert offenders == []
