"""Time tickets.cards.payloads() against the hand-written card_payloads() it replaced.

    DEBUG=1 python bench/card_payloads_timing.py [--rows 1000] [--before 2be57fe]

The old function is read from git (`--before`, the commit before the card module) and fed the
same 1,000 synthetic rows, in its own column order; both outputs must be equal.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import timeit
import types
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "punt.settings")

import django  # noqa: E402

django.setup()

from tickets import cards  # noqa: E402


def _old_module(commit: str) -> types.ModuleType:
    source = subprocess.check_output(["git", "show", f"{commit}:tickets/serializers.py"], cwd=ROOT, text=True)
    module = types.ModuleType("old_serializers")
    exec(compile(source, "old_serializers.py", "exec"), module.__dict__)
    return module


def _records(count: int, as_text: bool) -> list[dict]:
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    people = [(n, f"user{n}", f"User {n}" if n % 2 else "", f"avatars/{n}.webp" if n % 3 else "") for n in range(1, 9)]
    records = []
    for n in range(1, count + 1):
        created = start + timedelta(minutes=n, microseconds=n * 7 % 1000)
        stamp = (lambda d: d.strftime("%Y-%m-%d %H:%M:%S.%f")) if as_text else (lambda d: d)
        assignee = rng.choice([*people, (None, None, None, None)])
        reporter = rng.choice(people)
        parent = rng.random() < 0.2
        records.append(
            {
                "id": n, "number": n, "title": f"Card {n}", "type": "task", "column__category": "todo",
                "state": "opened", "column_id": 1 + n % 4, "rank": n * 1024, "priority": "medium",
                "assignee": assignee, "sprint_id": n % 3 or None, "sprint__name": f"Sprint {n % 3}",
                "parent_id": 1 if parent else None, "parent__number": 1 if parent else None,
                "parent__title": "Card 1" if parent else None, "estimate": n % 5 or None,
                "due_date": (date(2026, 5, 1).isoformat() if as_text else date(2026, 5, 1)) if n % 4 == 0 else None,
                "created_at": stamp(created), "updated_at": stamp(created + timedelta(hours=1)),
                "closed_at": None, "checklist_done": n % 3, "checklist_total": 3,
                "body": "Body", "body_html": "<p>Body</p>", "reporter": reporter,
            }
        )  # fmt: skip
    return records


def _old_row(r: dict) -> tuple:
    return (
        *(r["id"], r["number"], r["title"], r["type"], r["column__category"], r["state"], r["column_id"]),
        *(r["rank"], r["priority"], *r["assignee"], r["sprint_id"], r["sprint__name"] if r["sprint_id"] else None),
        *(r["parent_id"], r["parent__number"], r["parent__title"], r["estimate"], r["due_date"]),
        *(r["created_at"], r["updated_at"], r["closed_at"], r["checklist_done"], r["checklist_total"]),
        *(r["body"], r["body_html"], *r["reporter"]),
    )


def _new_row(r: dict, shape: str) -> tuple:
    values = dict(r)
    for role in ("assignee", "reporter"):
        for name, value in zip(("_id", "__username", "__display_name", "__avatar"), r[role], strict=True):
            values[f"{role}{name}"] = value
    if not r["sprint_id"]:
        values["sprint__name"] = None
    return cards.Row[shape]._make(values[cards.column_name(column)] for column in cards.columns(shape))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--before", default="2be57fe")
    parser.add_argument("--repeat", type=int, default=200)
    args = parser.parse_args()
    old = _old_module(args.before)
    project = types.SimpleNamespace(key="BIG")
    labels = {n: [{"id": 1, "name": "bug", "color": "#f00"}] for n in range(1, args.rows + 1, 3)}
    for as_text in (True, False):
        records = _records(args.rows, as_text)
        for shape, full in ((cards.COMPACT, False), (cards.FULL, True)):
            old_rows = [_old_row(r) for r in records]
            new_rows = [_new_row(r, shape) for r in records]
            assert old.card_payloads(old_rows, project=project, labels=labels, full=full) == cards.payloads(
                new_rows, project=project, labels=labels, shape=shape
            )
            timings = {}
            for name, run in (
                ("before", lambda o=old_rows, f=full: old.card_payloads(o, project=project, labels=labels, full=f)),
                ("after", lambda n=new_rows, s=shape: cards.payloads(n, project=project, labels=labels, shape=s)),
            ):
                timings[name] = min(timeit.repeat(run, number=1, repeat=args.repeat)) * 1000
            kind = "text dates (SQLite)" if as_text else "date objects (PostgreSQL)"
            print(
                f"{args.rows} {shape:7} cards, {kind:26}: before {timings['before']:.2f} ms, "
                f"after {timings['after']:.2f} ms ({timings['after'] / timings['before'] - 1:+.0%})"
            )


if __name__ == "__main__":
    main()
