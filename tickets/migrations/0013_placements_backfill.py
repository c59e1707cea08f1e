"""Placement rows for the tickets that existed before them, read back from their timelines.

The `create`, `move`, `delete` and `restore` entries say where each ticket went and when. A
create entry names only its column, whose category is taken as it is now; a move since issue 20
carries the category it had then. A ticket whose timeline does not end where the ticket is (no
create entry, as imported ones, or a change that wrote none) gets a closing row at its last
update, so every ticket's latest row agrees with it. Ranks are today's.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

BATCH = 2000
VERBS = ("create", "move", "delete", "restore")


def _column(data: dict[str, Any], *keys: str) -> dict[str, Any]:
    for key in keys:
        if isinstance(data.get(key), dict):
            return data[key]
    return {}


class _History:
    """One ticket's rows, as its timeline is read; `where` is (column id, category or None, since)."""

    def __init__(self, Placement: Any, rows: list[Any], categories: dict[int, str], ticket: tuple[Any, ...]) -> None:
        self.Placement, self.rows, self.categories = Placement, rows, categories
        self.pk, self.project_id, self.column_id, self.rank = ticket[:4]
        self.where: tuple[Any, ...] | None = None

    def place(self, column: int | None, category: str | None, at: Any) -> None:
        if self.where is not None:
            at = max(at, self.where[2])
        self.rows.append(
            self.Placement(
                ticket_id=self.pk,
                project_id=self.project_id,
                column_id=column if column in self.categories else None,
                category=category,
                from_category=self.where[1] if self.where else None,
                rank=self.rank,
                at=at,
            )
        )
        self.where = (column, category, at)


def backfill(apps: Any, schema_editor: Any) -> None:
    Ticket = apps.get_model("tickets", "Ticket")
    Event = apps.get_model("tickets", "Event")
    Column = apps.get_model("projects", "Column")
    Placement = apps.get_model("tickets", "Placement")
    alias = schema_editor.connection.alias
    categories = dict(Column.objects.using(alias).values_list("id", "category"))
    rows: list[Any] = []

    tickets = (
        Ticket.objects.using(alias)
        .order_by("pk")
        .values_list("pk", "project_id", "column_id", "rank", "created_at", "updated_at", "deleted_at")
    )
    events = (
        Event.objects.using(alias)
        .filter(kind="action", text__in=VERBS)
        .order_by("ticket_id", "created_at", "id")
        .values_list("ticket_id", "text", "data", "created_at")
        .iterator(chunk_size=BATCH)
    )
    pending = next(events, None)
    for ticket in tickets.iterator(chunk_size=BATCH):
        pk, _, column_id, _, created_at, updated_at, deleted_at = ticket
        history = _History(Placement, rows, categories, ticket)
        while pending is not None and pending[0] < pk:
            pending = next(events, None)
        while pending is not None and pending[0] == pk:
            _, verb, data, at = pending
            data = data if isinstance(data, dict) else {}
            if verb == "move" and history.where is None:
                # No create entry: the ticket stood in the column it left since it was made.
                source = _column(data, "from_column", "from")
                category = source.get("category") or categories.get(source.get("id"))
                history.place(source.get("id"), category, min(created_at, at))
            if verb in ("create", "move"):
                target = _column(data, "column") if verb == "create" else _column(data, "to_column", "to")
                target_id = target.get("id") or column_id
                category = target.get("category") or categories.get(target_id) or categories.get(column_id)
                history.place(target_id, category, at)
            elif verb == "delete" and history.where is not None and history.where[1] is not None:
                history.place(None, None, at)
            elif verb == "restore" and history.where is not None and history.where[1] is None:
                history.place(column_id, categories.get(column_id), at)
            pending = next(events, None)
        category = categories.get(column_id)
        if history.where is None:
            history.place(column_id, category, created_at)
        want = None if deleted_at is not None else category
        assert history.where is not None
        if history.where[1] != want or (want is not None and history.where[0] != column_id):
            history.place(column_id if want else None, want, max(updated_at, deleted_at or updated_at))
        if len(rows) >= BATCH:
            Placement.objects.using(alias).bulk_create(rows)
            rows.clear()
    Placement.objects.using(alias).bulk_create(rows)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0012_placements")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
