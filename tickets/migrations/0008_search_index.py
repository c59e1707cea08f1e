"""Full-text search of tickets (issue 20; the rule is in tickets/search.py).

PostgreSQL: `search_vector`, a tsvector column generated from the title and body (every
character that is not a letter or digit made a space, so the parser sees only words), with a
GIN index. PostgreSQL fills it for existing rows here (the table is rewritten once) and keeps
it on every INSERT and UPDATE, whatever writes. A later migration that changes the type of
`title` or `body` must drop the column first and add it again (PostgreSQL refuses to alter a
column a generated column reads).

SQLite: `tickets_ticket_search`, a contentless FTS5 table (one column, `doc` = title || ' ' ||
body, rowid = the ticket's id), filled here for existing rows and kept by three triggers. A
later migration that makes SQLite rebuild the ticket table (most AlterField/RemoveField)
drops the triggers with the old table: it must run TRIGGERS again
(tests/tickets/test_search.py fails until it does).

The model does not know either: no ORM query reads them; tickets.fastpath.TextMatch does.
"""

from django.db import migrations

TOKENIZE = "unicode61 remove_diacritics 0"

PG_FORWARD = [
    """
    ALTER TABLE tickets_ticket ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        to_tsvector('simple'::regconfig, regexp_replace(title || ' ' || body, '[^[:alnum:]]+', ' ', 'g'))
    ) STORED
    """,
    "CREATE INDEX tickets_ticket_search_vector ON tickets_ticket USING gin (search_vector)",
]
PG_BACKWARD = [
    "DROP INDEX IF EXISTS tickets_ticket_search_vector",
    "ALTER TABLE tickets_ticket DROP COLUMN IF EXISTS search_vector",
]

DOC_NEW = "new.title || ' ' || new.body"
DOC_OLD = "old.title || ' ' || old.body"
TRIGGERS = [
    f"""
    CREATE TRIGGER tickets_ticket_search_insert AFTER INSERT ON tickets_ticket BEGIN
        INSERT INTO tickets_ticket_search (rowid, doc) VALUES (new.id, {DOC_NEW});
    END
    """,
    f"""
    CREATE TRIGGER tickets_ticket_search_delete AFTER DELETE ON tickets_ticket BEGIN
        INSERT INTO tickets_ticket_search (tickets_ticket_search, rowid, doc) VALUES ('delete', old.id, {DOC_OLD});
    END
    """,
    f"""
    CREATE TRIGGER tickets_ticket_search_update AFTER UPDATE OF title, body ON tickets_ticket BEGIN
        INSERT INTO tickets_ticket_search (tickets_ticket_search, rowid, doc) VALUES ('delete', old.id, {DOC_OLD});
        INSERT INTO tickets_ticket_search (rowid, doc) VALUES (new.id, {DOC_NEW});
    END
    """,
]
SQLITE_FORWARD = [
    f"CREATE VIRTUAL TABLE tickets_ticket_search USING fts5(doc, content='', tokenize='{TOKENIZE}', prefix='2 3')",
    "INSERT INTO tickets_ticket_search (rowid, doc) SELECT id, title || ' ' || body FROM tickets_ticket",
    *TRIGGERS,
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS tickets_ticket_search_insert",
    "DROP TRIGGER IF EXISTS tickets_ticket_search_delete",
    "DROP TRIGGER IF EXISTS tickets_ticket_search_update",
    "DROP TABLE IF EXISTS tickets_ticket_search",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("tickets", "0007_list_filter_indexes")]

    operations = [
        migrations.RunPython(
            _run({"postgresql": PG_FORWARD, "sqlite": SQLITE_FORWARD}),
            _run({"postgresql": PG_BACKWARD, "sqlite": SQLITE_BACKWARD}),
            elidable=False,
        ),
    ]
