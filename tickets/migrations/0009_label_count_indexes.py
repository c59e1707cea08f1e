"""The indexes that make a label's exact count cheap (issue 20, item 3).

`?label=perf&state=open` counts the open tickets linked to the label. With these two, PostgreSQL
merges two index-only scans in ticket id order: the label's link rows, (label_id, ticket_id),
and the project's open tickets, (project, id) WHERE open and not deleted. Before them it hashed
the label's ~12k link rows read from the heap against the project's open tickets read from
ticket_open_updated (wider, in updated order). Bench project BIG0 (100k tickets, 12,314 links
to `perf`, 56,942 open): the count 13-16 ms -> 5.1 ms of execution (EXPLAIN ANALYZE, TIMING
OFF); `http_bench --only label` db ms 16.3-18.4 -> 10.3-13.5 (1k project: 4.5-6.0).
The other plans are dearer: a hash join of the same two index-only scans 8.2 ms, a nested loop
probing the ticket index per link 11.7 ms, `id = ANY(ARRAY(links))` 11 ms (37k buffers).

The link table is Django's auto-created table for Ticket.labels: the model cannot declare an
index on it without a custom `through` model (a state-only swap of the M2M, for one index), so
the link index is plain SQL, the same statement on PostgreSQL and SQLite, with its reverse. No
ORM state knows it, so makemigrations stays clean; a later migration that rebuilds the link
table on SQLite (none should: it has no model of its own) would drop it.
"""

from django.db import migrations, models

OPEN = models.Q(("deleted_at__isnull", True), ("state", "opened"))


class Migration(migrations.Migration):
    dependencies = [("tickets", "0008_search_index")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX tickets_ticket_labels_label_ticket ON tickets_ticket_labels (label_id, ticket_id)",
            "DROP INDEX IF EXISTS tickets_ticket_labels_label_ticket",
            elidable=False,
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(condition=OPEN, fields=["project", "id"], name="ticket_open_id"),
        ),
    ]
