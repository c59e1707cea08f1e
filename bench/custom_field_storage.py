"""Custom field storage (issue 21): a JSON column on the ticket with an expression index, against a
typed value table with composite indexes, for the filter a list runs.

    .venv/bin/python bench/custom_field_storage.py                    # SQLite (a file in bench/results)
    DATABASE_URL=postgres://... .venv/bin/python bench/custom_field_storage.py

Standalone tables (not PUNT's): `tickets` (id, project, priority, updated_at, data JSON) with
N tickets in one project, and `cf_values` (ticket, field, option, number) holding the same
values. The JSON values follow priority (severity "S2" exactly where priority is "high"), so
the three filters find the same rows. Each filter: the first 50 by updated_at and the count.

- priority:   WHERE project = 1 AND priority = 'high'             (index project, priority, updated_at)
- json:       WHERE project = 1 AND data->>'severity' = 'S2'     (an expression index per field)
- typed:      WHERE project = 1 AND id IN (SELECT ticket FROM cf_values WHERE field = 7 AND option = 2)
              (one index (field, option, ticket) for every select field of every project)
"""

from __future__ import annotations

import os
import random
import sqlite3
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

N = int(os.environ.get("CF_BENCH_TICKETS", "100000"))
REPEAT = 30
PRIORITIES = ["low", "medium", "high", "urgent"]
WEIGHTS = [30, 45, 20, 5]
SEVERITY = {"urgent": 1, "high": 2, "medium": 3, "low": 4}
FIELD = 7  # the severity field's id in cf_values

SCHEMA = [
    "CREATE TABLE tickets (id integer PRIMARY KEY, project integer NOT NULL, priority varchar(10) NOT NULL, "
    "updated_at timestamp NOT NULL, data {json} NOT NULL)",
    "CREATE TABLE cf_values (id integer PRIMARY KEY, ticket integer NOT NULL, field integer NOT NULL, "
    "option integer, number double precision)",
]
INDEXES = [
    "CREATE INDEX t_prio ON tickets (project, priority, updated_at)",
    "CREATE INDEX t_updated ON tickets (project, updated_at)",
    "CREATE INDEX t_json_severity ON tickets (project, ({severity}), updated_at)",
    "CREATE INDEX v_option ON cf_values (field, option, ticket)",
    "CREATE INDEX v_ticket ON cf_values (ticket, field)",
]
FILTERS = {
    "priority = high (built-in column)": "project = 1 AND priority = 'high'",
    "JSON column + expression index": "project = 1 AND {severity} = 'S2'",
    "typed value table, IN (subquery)": (
        "project = 1 AND id IN (SELECT ticket FROM cf_values WHERE field = 7 AND option = 2)"
    ),
    "typed value table, JOIN (values first)": (
        "project = 1 AND id IN (SELECT v.ticket FROM cf_values v CROSS JOIN tickets t ON t.id = v.ticket "
        "WHERE v.field = 7 AND v.option = 2)"
    ),
    "typed value table, EXISTS (correlated)": (
        "project = 1 AND EXISTS "
        "(SELECT 1 FROM cf_values v WHERE v.ticket = tickets.id AND v.field = 7 AND v.option = 2)"
    ),
}


def rows() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    rng = random.Random(21)
    start = datetime(2025, 1, 1)
    tickets, values = [], []
    for ticket_id in range(1, N + 1):
        priority = rng.choices(PRIORITIES, WEIGHTS)[0]
        severity = SEVERITY[priority]
        updated = start + timedelta(minutes=rng.randrange(600_000))
        tickets.append((ticket_id, 1, priority, updated.isoformat(" "), f'{{"severity": "S{severity}"}}'))
        values.append((ticket_id, ticket_id, FIELD, severity, None))
    return tickets, values


def measure(run: Callable[[str, tuple[Any, ...]], list[Any]], where: str) -> tuple[float, float, int]:
    page = f"SELECT id FROM tickets WHERE {where} ORDER BY updated_at DESC LIMIT 50"
    count = f"SELECT count(*) FROM tickets WHERE {where}"
    found = run(count, ())[0][0]
    run(page, ())
    pages, counts = [], []
    for _ in range(REPEAT):
        started = time.perf_counter()
        run(page, ())
        pages.append(time.perf_counter() - started)
        started = time.perf_counter()
        run(count, ())
        counts.append(time.perf_counter() - started)
    return statistics.median(pages) * 1000, statistics.median(counts) * 1000, found


def sqlite() -> Callable[[str, tuple[Any, ...]], list[Any]]:
    path = Path(__file__).resolve().parent / "results" / "cf_storage.sqlite3"
    path.parent.mkdir(exist_ok=True)
    path.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    severity = "json_extract(data, '$.severity')"
    for statement in SCHEMA:
        db.execute(statement.format(json="text"))
    tickets, values = rows()
    db.executemany("INSERT INTO tickets VALUES (?, ?, ?, ?, ?)", tickets)
    db.executemany("INSERT INTO cf_values VALUES (?, ?, ?, ?, ?)", values)
    for statement in INDEXES:
        db.execute(statement.format(severity=severity))
    db.commit()
    FILTERS["JSON column + expression index"] = FILTERS["JSON column + expression index"].format(severity=severity)
    return lambda sql, params: db.execute(sql, params).fetchall()


def postgres(url: str) -> Callable[[str, tuple[Any, ...]], list[Any]]:
    import psycopg

    db = psycopg.connect(url, autocommit=True)
    db.execute("DROP SCHEMA IF EXISTS cf_bench CASCADE")
    db.execute("CREATE SCHEMA cf_bench")
    db.execute("SET search_path TO cf_bench")
    severity = "(data->>'severity')"
    for statement in SCHEMA:
        db.execute(statement.format(json="jsonb"))
    tickets, values = rows()
    with db.cursor() as cursor:
        with cursor.copy("COPY tickets FROM STDIN") as copy:
            for row in tickets:
                copy.write_row(row)
        with cursor.copy("COPY cf_values FROM STDIN") as copy:
            for row in values:
                copy.write_row(row)
    for statement in INDEXES:
        db.execute(statement.format(severity=severity))
    db.execute("VACUUM ANALYZE")
    FILTERS["JSON column + expression index"] = FILTERS["JSON column + expression index"].format(severity=severity)

    def run(sql: str, params: tuple[Any, ...]) -> list[Any]:
        return db.execute(sql, params).fetchall()

    return run


def main() -> None:
    url = os.environ.get("DATABASE_URL", "")
    run = postgres(url) if url.startswith("postgres") else sqlite()
    print(f"{'postgresql' if url.startswith('postgres') else 'sqlite'}, {N:,} tickets in one project")
    print(f"{'filter':45} {'page of 50 (ms)':>16} {'count (ms)':>11} {'rows':>7}")
    for name, where in FILTERS.items():
        page, count, found = measure(run, where)
        print(f"{name:45} {page:16.2f} {count:11.2f} {found:7}")


if __name__ == "__main__":
    main()
