"""The tickets app's hand-written SQL, on top of punt.db: every statement here is one the ORM made
measurably slower in a bench scenario (bench/http_bench.py), named in its docstring.

Rules (tests/test_fastpath_rules.py holds them): no other module of the app opens a cursor;
table and column names come from Model._meta, values always go as parameters; each function
has an ORM twin in tests/tickets/test_fastpath_parity.py that must give the same result on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlite3
from functools import cache
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import DateField, ForeignKey, ForeignObjectRel, Lookup, Model, Q, QuerySet

from accounts.models import User
from projects.models import Column, Label, Project
from punt import db
from tickets.models import (
    Attachment,
    ChecklistItem,
    CustomField,
    CustomFieldOption,
    CustomFieldValue,
    Event,
    GitLink,
    Ticket,
    Watcher,
)


def _q(name: str) -> str:
    return connection.ops.quote_name(name)


def _column(model: Any, name: str) -> str:
    return db.column(model, name)


def _pk(model: type[Model]) -> str:
    return db.column(model, model._meta.pk.name)


def _table(model: Any) -> str:
    return _q(model._meta.db_table)


# --------------------------------------------------------------------------- cards


@cache
def _card_select(columns: tuple[Any, ...], vendor: str) -> str:
    """SELECT <columns> FROM the ticket and the joins they need, for cards.columns(shape).

    A column is an ORM path from Ticket ("title", "assignee_id", "assignee__username": one
    join per relation, inner where the foreign key is NOT NULL) or a cards.Count (a
    correlated COUNT, so two counts do not multiply each other's joins).
    """
    ticket = _q("t")
    selected, joins = [], {}
    for column in columns:
        if not isinstance(column, str):
            relation = Ticket._meta.get_field(column.relation)
            assert isinstance(relation, ForeignObjectRel)
            related = relation.related_model
            where = f"i.{_column(related, relation.field.name)} = {ticket}.{_pk(Ticket)}"
            if column.where is not None:
                where += f" AND i.{_column(related, column.where)}"
            selected.append(f"(SELECT COUNT(*) FROM {_table(related)} i WHERE {where})")  # noqa: S608
            continue
        relation_name, _, attribute = column.partition("__")
        if attribute:
            relation = Ticket._meta.get_field(relation_name)
            assert isinstance(relation, ForeignKey)
            alias = _q(f"t_{relation_name}")
            if alias not in joins:
                join = "LEFT JOIN" if relation.null else "INNER JOIN"
                target = _column(relation.related_model, relation.target_field.name)
                joins[alias] = (
                    f"{join} {_table(relation.related_model)} {alias} "
                    f"ON {alias}.{target} = {ticket}.{_column(Ticket, relation_name)}"
                )
            model_field = relation.related_model._meta.get_field(attribute)
            sql = f"{alias}.{_column(relation.related_model, attribute)}"
        else:
            model_field = Ticket._meta.get_field(column)
            sql = f"{ticket}.{_column(Ticket, column)}"
        if vendor == "sqlite" and isinstance(model_field, DateField):
            # SQLite keeps dates and timestamps (UTC) as ISO text. Read as text, they skip being
            # parsed into Python objects only for the JSON to turn them straight back into text:
            # a third of a big board's time (cards.iso_datetime reads the text).
            sql = f"CAST({sql} AS text)"
        selected.append(sql)
    return f"SELECT {', '.join(selected)} FROM {_table(Ticket)} {ticket} {' '.join(joins.values())}"  # noqa: S608


def _ids_sql(tickets: list[int] | QuerySet[Ticket]) -> tuple[str, list[Any]] | None:
    """`IN (...)` for ids, or for a queryset of tickets as a subquery (a whole board's ids would
    be thousands of query parameters); None when it can match no ticket."""
    if isinstance(tickets, QuerySet):
        try:
            sql, params = tickets.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:
            # .none(), or a lookup value no column can hold (Django refuses to compile those).
            return None
        if connection.vendor == "postgresql":
            # Given IN (subquery), PostgreSQL hash-joined it against a scan of every ticket
            # (30 ms for a 1,000-card board in a 100k-ticket database); with the ids as one
            # array it looks each up by primary key (4 ms).
            return f"= ANY(ARRAY({sql}))", list(params)
        return f"IN ({sql})", list(params)
    if not tickets:
        return None
    return f"IN ({db.placeholders(tickets)})", list(tickets)


def card_rows(
    tickets: list[int] | QuerySet[Ticket], *, columns: tuple[Any, ...], row_type: type[tuple[Any, ...]]
) -> list[tuple[Any, ...]]:
    """Rows of `columns` (cards.columns(shape)) as `row_type`, one statement.

    `tickets`: ids (the rows come in that order) or a queryset of tickets (a board: the rows
    come in rank order).

    Bench: board 200 / 1,000 and ticket list 100k / 1k. The ORM spent ~1.3 ms building this
    statement for a 50-card page and ~0.1 ms running it, and model instances or values()
    dicts for a thousand cards were most of a board's time. Tuples: a thousand rows as dicts
    cost 1.5 ms to build.
    """
    ids = _ids_sql(tickets)
    if ids is None:
        return []
    where, params = ids
    ticket_id = f"{_q('t')}.{_pk(Ticket)}"
    sql = f"{_card_select(columns, connection.vendor)} WHERE {ticket_id} {where}"
    make = row_type._make  # type: ignore[attr-defined]
    if isinstance(tickets, QuerySet):
        order = f"{_q('t')}.{_column(Ticket, 'rank')}, {ticket_id}"
        return [make(row) for row in db.fetch_all(f"{sql} ORDER BY {order}", params)]
    rows = db.fetch_all(sql, params)
    position = {ticket_id: index for index, ticket_id in enumerate(tickets)}
    rows.sort(key=lambda row: position[row[0]])
    return [make(row) for row in rows]


def card_labels(tickets: list[int] | QuerySet[Ticket]) -> dict[int, list[dict[str, Any]]]:
    """{ticket id: [{id, name, color}, ...]} in label-name order, in one statement; one dict per
    label, shared by its cards.

    Bench: board 200 / 1,000 and ticket list 100k / 1k (the second statement of card_rows()'s
    pages, with the same subquery).
    """
    ids = _ids_sql(tickets)
    if ids is None:
        return {}
    where, params = ids
    through = Ticket.labels.through
    link_ticket, link_label = _column(through, "ticket"), _column(through, "label")
    sql = (
        f"SELECT tl.{link_ticket}, l.{_column(Label, 'id')}, l.{_column(Label, 'name')}, l.{_column(Label, 'color')} "  # noqa: S608
        f"FROM {_table(through)} tl INNER JOIN {_table(Label)} l ON l.{_column(Label, 'id')} = tl.{link_label} "
        f"WHERE tl.{link_ticket} {where} ORDER BY l.{_column(Label, 'name')}"
    )
    labels: dict[int, list[dict[str, Any]]] = {}
    briefs: dict[int, dict[str, Any]] = {}
    for ticket_id, label_id, name, color in db.fetch_all(sql, params):
        brief = briefs.get(label_id)
        if brief is None:
            brief = briefs[label_id] = {"id": label_id, "name": name, "color": color}
        labels.setdefault(ticket_id, []).append(brief)
    return labels


def card_custom_value_rows(tickets: list[int] | QuerySet[Ticket]) -> list[tuple[Any, ...]]:
    """(ticket id, field key, field type, text, number, date, option name, username, flag) of the
    tickets' values of live custom fields, in field and option order, in one statement
    (custom_field_selectors.custom_values() turns them into each card's `custom_fields`).

    Bench: ticket list 100k / 1k, ticket detail, create, move (the third statement of every card
    read). Through the ORM (three joins, its ordering) it cost ~1 ms per page to build, and the
    list's server CPU per request rose 34% with it.
    """
    ids = _ids_sql(tickets)
    if ids is None:
        return []
    where, params = ids
    value, field, option = CustomFieldValue, CustomField, CustomFieldOption
    sql = (
        f"SELECT v.{_column(value, 'ticket')}, f.{_column(field, 'key')}, f.{_column(field, 'type')}, "  # noqa: S608
        f"v.{_column(value, 'text')}, v.{_column(value, 'number')}, v.{_column(value, 'date')}, "
        f"o.{_column(option, 'name')}, u.{_column(User, 'username')}, v.{_column(value, 'flag')} "
        f"FROM {_table(value)} v "
        f"INNER JOIN {_table(field)} f ON f.{_pk(field)} = v.{_column(value, 'field')} "
        f"LEFT OUTER JOIN {_table(option)} o ON o.{_pk(option)} = v.{_column(value, 'option')} "
        f"LEFT OUTER JOIN {_table(User)} u ON u.{_pk(User)} = v.{_column(value, 'user')} "
        f"WHERE v.{_column(value, 'ticket')} {where} AND f.{_column(field, 'deleted_at')} IS NULL "
        f"ORDER BY f.{_column(field, 'position')}, f.{_pk(field)}, o.{_column(option, 'position')}, o.{_pk(option)}"
    )
    return db.fetch_all(sql, params)


# --------------------------------------------------------------------------- single rows


def column_in_project(*, project_id: int, column_id: int) -> Column | None:
    """The project's column `column_id`, or None.

    Bench: create ticket, move ticket (every create and move starts here; the ORM took longer
    to build the statement than to run it).
    """
    sql = (
        f"SELECT {db.columns(Column, 'c')} FROM {_table(Column)} c "  # noqa: S608
        f"WHERE c.{_pk(Column)} = %s AND c.{_column(Column, 'project')} = %s"
    )
    row = db.fetch_one(sql, [column_id, project_id])
    return None if row is None else db.instance(Column, "c", row)


def live_ticket(*, project_id: int, field: str, value: int) -> Ticket | None:
    """The live ticket whose `field` ("id" or "number") is `value` in the project: the row only.

    Bench: move ticket (the ticket a move starts from).
    """
    row = db.fetch_one(_live_ticket_sql(connection.vendor, field), [project_id, value])
    return None if row is None else db.instance(Ticket, "t", row)


@cache
def _live_ticket_sql(vendor: str, field: str) -> str:
    return (
        f"SELECT {db.columns(Ticket, 't')} FROM {_table(Ticket)} t "  # noqa: S608
        f"WHERE t.{_column(Ticket, 'project')} = %s AND t.{_column(Ticket, 'deleted_at')} IS NULL "
        f"AND t.{_column(Ticket, field)} = %s"
    )


TICKET_COUNT_NAMES = ("checklist_total", "checklist_done", "comment_count", "attachment_count", "link_count")


def ticket_counts(*, ticket_id: int) -> dict[str, int]:
    """checklist_total/_done, comment_count (live comments), attachment_count, link_count.

    Bench: ticket detail + 50 comments (as correlated-subquery annotations they cost more to
    compile, ~2 ms, than to run).
    """
    params = [ticket_id, ticket_id, True, ticket_id, Event.Kind.COMMENT.value, ticket_id, ticket_id]
    row = db.fetch_one(_counts_sql(connection.vendor), params)
    assert row is not None
    return dict(zip(TICKET_COUNT_NAMES, (int(value) for value in row), strict=True))


# --------------------------------------------------------------------------- the ticket detail


def _timestamp(sql: str, vendor: str) -> str:
    """A timestamp column as cards.iso_datetime() reads it fastest: SQLite's stored text as is
    (see _card_select)."""
    return f"CAST({sql} AS text)" if vendor == "sqlite" else sql


def _person(alias: str, user_id: str) -> str:
    """The columns of cards.person_briefs()'s person (id, username, display_name, avatar) of the
    user `alias`, LEFT JOINed on `user_id` (no user: NULLs)."""
    names = ", ".join(f"{alias}.{_column(User, name)}" for name in ("username", "display_name", "avatar"))
    return f"{user_id}, {names}"


def subtask_rows(*, ticket_id: int) -> list[tuple[Any, ...]]:
    """(id, number, title, column category, state) of the ticket's live sub-tasks, by number.

    Bench: ticket detail + 50 comments (with values_list() this statement cost more to
    build, ~0.4 ms, than to run; the detail was 18% of the floor).
    """
    return db.fetch_all(_subtask_sql(connection.vendor), [ticket_id])


@cache
def _subtask_sql(vendor: str) -> str:
    t, c = _table(Ticket), _table(Column)
    return (
        f"SELECT t.{_pk(Ticket)}, t.{_column(Ticket, 'number')}, t.{_column(Ticket, 'title')}, "  # noqa: S608
        f"c.{_column(Column, 'category')}, t.{_column(Ticket, 'state')} "
        f"FROM {t} t INNER JOIN {c} c ON c.{_pk(Column)} = t.{_column(Ticket, 'column')} "
        f"WHERE t.{_column(Ticket, 'parent')} = %s AND t.{_column(Ticket, 'deleted_at')} IS NULL "
        f"ORDER BY t.{_column(Ticket, 'number')}"
    )


def watcher_rows(*, ticket_id: int) -> list[tuple[Any, ...]]:
    """(id, username, display_name, avatar) of the ticket's watchers, by username.

    Bench: ticket detail + 50 comments (see subtask_rows).
    """
    return db.fetch_all(_watcher_sql(connection.vendor), [ticket_id])


@cache
def _watcher_sql(vendor: str) -> str:
    watcher_user, watcher_ticket = _column(Watcher, "user"), _column(Watcher, "ticket")
    names = ", ".join(f"u.{_column(User, name)}" for name in ("id", "username", "display_name", "avatar"))
    return (
        f"SELECT {names} FROM {_table(User)} u "  # noqa: S608
        f"INNER JOIN {_table(Watcher)} w ON w.{watcher_user} = u.{_pk(User)} "
        f"WHERE w.{watcher_ticket} = %s ORDER BY u.{_column(User, 'username')}"
    )


def comment_rows(*, ticket_id: int, limit: int) -> list[tuple[Any, ...]]:
    """The first `limit` live comments of the ticket, oldest first (selectors.ticket_comments):
    (id, ticket id, text, html, minutes, author id, username, display_name, avatar,
    created_at, updated_at), timestamps as cards.iso_datetime() reads them.

    Bench: ticket detail ?include=comments (as values_list() the page cost ~1.5 ms more:
    building the statement and parsing 100 timestamps only for the JSON to print them again).
    """
    return db.fetch_all(_comment_sql(connection.vendor), [ticket_id, Event.Kind.COMMENT.value, limit])


@cache
def _comment_sql(vendor: str) -> str:
    columns = ", ".join(f"e.{_column(Event, name)}" for name in ("id", "ticket", "text", "html", "minutes"))
    created, updated = (_timestamp(f"e.{_column(Event, name)}", vendor) for name in ("created_at", "updated_at"))
    author = f"e.{_column(Event, 'author')}"
    return (
        f"SELECT {columns}, {_person('u', author)}, {created}, {updated} "  # noqa: S608
        f"FROM {_table(Event)} e LEFT JOIN {_table(User)} u ON u.{_pk(User)} = {author} "
        f"WHERE e.{_column(Event, 'ticket')} = %s AND e.{_column(Event, 'kind')} = %s "
        f"AND e.{_column(Event, 'deleted_at')} IS NULL "
        f"ORDER BY e.{_column(Event, 'created_at')}, e.{_pk(Event)} LIMIT %s"
    )


@cache
def _counts_sql(vendor: str) -> str:
    checklist, event = _table(ChecklistItem), _table(Event)
    of_ticket = f"{_column(ChecklistItem, 'ticket')} = %s"
    return (
        f"SELECT (SELECT COUNT(*) FROM {checklist} WHERE {of_ticket}),"  # noqa: S608
        f" (SELECT COUNT(*) FROM {checklist} WHERE {of_ticket} AND {_column(ChecklistItem, 'done')} = %s),"
        f" (SELECT COUNT(*) FROM {event} WHERE {_column(Event, 'ticket')} = %s AND {_column(Event, 'kind')} = %s"
        f" AND {_column(Event, 'deleted_at')} IS NULL),"
        f" (SELECT COUNT(*) FROM {_table(Attachment)} WHERE {_column(Attachment, 'ticket')} = %s),"
        f" (SELECT COUNT(*) FROM {_table(GitLink)} WHERE {_column(GitLink, 'ticket')} = %s)"
    )


def column_ids(*, project_id: int, categories: list[str]) -> list[int]:
    """The ids of the project's columns in `categories`.

    Bench: ticket list 100k / 1k and board 200 / 1,000 with ?status= (on every filtered list).
    """
    if not categories:
        return []
    sql = (
        f"SELECT {_pk(Column)} FROM {_table(Column)} "  # noqa: S608
        f"WHERE {_column(Column, 'project')} = %s AND {_column(Column, 'category')} IN ({db.placeholders(categories)})"
    )
    return [column_id for (column_id,) in db.fetch_all(sql, [project_id, *categories])]


# --------------------------------------------------------------------------- list pages


def count_of(sql: str, params: list[Any]) -> int:
    """COUNT(*) of an ORM-compiled statement.

    Bench: ticket list 100k / 1k (the ORM compiles the filtered statement once; counting and
    paging it as two more ORM queries cost more to build than to run).
    """
    row = db.fetch_one(f"SELECT COUNT(*) FROM ({sql}) matched", params)  # noqa: S608
    assert row is not None
    return int(row[0])


def page_of(
    sql: str, params: list[Any], *, order_by: str, order_params: list[Any], limit: int, offset: int
) -> list[Any]:
    """The first column of an ORM-compiled statement, ordered by the ORM-compiled `order_by`, one page.

    Bench: ticket list 100k / 1k (see count_of).
    """
    page = f"{sql} ORDER BY {order_by} LIMIT %s OFFSET %s"
    return [value for (value, *_rest) in db.fetch_all(page, [*params, *order_params, limit, offset])]


# --------------------------------------------------------------------------- writes


def neighbour_ranks(
    *, column_id: int, exclude_id: int | None, anchor_id: int | None, above: bool, index: int | None
) -> tuple[int | None, int | None] | None:
    """(rank just above, rank just below) a slot among a column's live cards (None at an end).

    The slot: next to the card `anchor_id` (`above` it or below it; None if that card is not
    in the column), else at `index` (0 = top), else at the bottom.

    Bench: move ticket, create ticket (the ORM took longer to build these than to run them).
    """
    rank, ticket_id = _column(Ticket, "rank"), _pk(Ticket)
    siblings = (
        f"FROM {_table(Ticket)} WHERE {_column(Ticket, 'column')} = %s AND {_column(Ticket, 'deleted_at')} IS NULL"
    )
    params: list[Any] = [column_id]
    if exclude_id is not None:
        siblings += f" AND {ticket_id} <> %s"
        params.append(exclude_id)
    ascending, descending = f"{rank}, {ticket_id}", f"{rank} DESC, {ticket_id} DESC"

    def first_rank(condition: str, extra: list[Any], order: str) -> int | None:
        found = db.fetch_one(f"SELECT {rank} {siblings}{condition} ORDER BY {order} LIMIT 1", params + extra)
        return None if found is None else found[0]

    def last_rank() -> int | None:
        found = db.fetch_one(f"SELECT MAX({rank}) {siblings}", params)
        return None if found is None else found[0]

    if anchor_id is not None:
        anchor = db.fetch_one(f"SELECT {rank}, {ticket_id} {siblings} AND {ticket_id} = %s", [*params, anchor_id])
        if anchor is None:
            return None
        anchor_rank, anchor_id = anchor
        if above:
            condition = f" AND ({rank} < %s OR ({rank} = %s AND {ticket_id} < %s))"
            return first_rank(condition, [anchor_rank, anchor_rank, anchor_id], descending), anchor_rank
        condition = f" AND ({rank} > %s OR ({rank} = %s AND {ticket_id} > %s))"
        return anchor_rank, first_rank(condition, [anchor_rank, anchor_rank, anchor_id], ascending)
    if index is None:
        return last_rank(), None
    if index <= 0:
        return None, first_rank("", [], ascending)
    slot = f"SELECT {rank} {siblings} ORDER BY {ascending} LIMIT 2 OFFSET %s"
    pair = [value for (value,) in db.fetch_all(slot, [*params, index - 1])]
    if not pair:
        return last_rank(), None
    return pair[0], (pair[1] if len(pair) > 1 else None)


def lock_columns(*, ids: list[int]) -> dict[int, Column]:
    """{id: column} of the columns `ids`, row-locked in id order (a fixed order, so two movers
    cannot deadlock) where the database locks rows.

    Bench: move ticket, create ticket. The ORM twin (`select_for_update().filter(pk__in=...)`)
    cost ~1.2 ms more per call to build than this statement takes to run: a fifth of a move.
    """
    ordered = sorted(set(ids))
    if not ordered:
        return {}
    sql = (
        f"SELECT {db.columns(Column, 'c')} FROM {_table(Column)} c "  # noqa: S608
        f"WHERE c.{_pk(Column)} IN ({db.placeholders(ordered)}) ORDER BY c.{_pk(Column)}"
    )
    found = (db.instance(Column, "c", row) for row in db.fetch_all(sql + db.for_update(), ordered))
    return {column.pk: column for column in found if column is not None}


def active_watchers(*, ticket_id: int, except_user_id: int | None) -> list[User]:
    """The active users watching the ticket, but `except_user_id` (the actor), in no set order.

    Bench: move ticket (every change to a ticket notifies its watchers; the ORM query through
    the watchers relation cost more to build than to run).
    """
    watcher_user, watcher_ticket = _column(Watcher, "user"), _column(Watcher, "ticket")
    sql = (
        f"SELECT {db.columns(User, 'u')} FROM {_table(User)} u "  # noqa: S608
        f"INNER JOIN {_table(Watcher)} w ON w.{watcher_user} = u.{_pk(User)} "
        f"WHERE w.{watcher_ticket} = %s AND u.{_column(User, 'is_active')}"
    )
    params: list[Any] = [ticket_id]
    if except_user_id is not None:
        sql += f" AND u.{_pk(User)} <> %s"
        params.append(except_user_id)
    found = (db.instance(User, "u", row) for row in db.fetch_all(sql, params))
    return [user for user in found if user is not None]


def ticket_place_for_update(*, ticket_id: int) -> tuple[int, str]:
    """(column id, state) of a ticket, row-locked where the database locks rows.

    Bench: move ticket (a move re-reads these after locking the columns).
    """
    columns = f"{_column(Ticket, 'column')}, {_column(Ticket, 'state')}"
    sql = f"SELECT {columns} FROM {_table(Ticket)} WHERE {_pk(Ticket)} = %s"  # noqa: S608
    row = db.fetch_one(sql + db.for_update(), [ticket_id])
    assert row is not None
    return row[0], row[1]


def next_ticket_number(*, project_id: int) -> int | None:
    """Project.ticket_counter + 1, written and returned by one `UPDATE ... RETURNING` (the UPDATE
    row-locks the project); None if the project is gone.

    Needs RETURNING (PostgreSQL, SQLite >= 3.35): see has_returning(). Bench: create ticket.
    """
    table, counter = _table(Project), _column(Project, "ticket_counter")
    sql = f"UPDATE {table} SET {counter} = {counter} + 1 WHERE {_pk(Project)} = %s RETURNING {counter}"  # noqa: S608
    row = db.fetch_one(sql, [project_id])
    return None if row is None else int(row[0])


def has_returning() -> bool:
    return connection.vendor == "postgresql" or (
        # The library Django's SQLite backend binds to (its `connection.Database`).
        connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 35)
    )


# --------------------------------------------------------------------------- full-text search

# Made by migration 0008 (tickets.search describes the rule): on PostgreSQL a generated tsvector
# column of the ticket table with a GIN index, on SQLite an FTS5 table kept by triggers.
SEARCH_VECTOR = "search_vector"


def search_table() -> str:
    return f"{Ticket._meta.db_table}_search"


def _tsquery(search: tuple[tuple[str, ...], ...]) -> str:
    # Words are letters and digits only (tickets.search.words): nothing to escape.
    return " & ".join("(" + " <-> ".join(f"'{word}':*" for word in phrase) + ")" for phrase in search)


def _fts5_query(search: tuple[tuple[str, ...], ...]) -> str:
    return " AND ".join("(" + " + ".join(f'"{word}"*' for word in phrase) + ")" for phrase in search)


class TextMatch(Lookup):
    """`id__text_match=phrases`: the ticket's title and body hold every phrase (tickets.search).

    No ORM expression reaches either index: PostgreSQL's `@@` on the generated tsvector (GIN),
    SQLite's FTS5 `MATCH`. Where the ORM's `icontains` per word (text_match_twin) scans every
    row of the project (bench: ticket list `q=<word>`, 100k project), the index finds the few.
    """

    lookup_name = "text_match"
    prepare_rhs = False

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        lhs, params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            vector = f"{compiler.quote_name_unless_alias(self.lhs.alias)}.{_q(SEARCH_VECTOR)}"
            return f"{vector} @@ to_tsquery('simple'::regconfig, %s)", (*params, _tsquery(self.rhs))
        if connection.vendor == "sqlite":
            fts = _q(search_table())
            return f"{lhs} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)", (*params, _fts5_query(self.rhs))  # noqa: S608
        raise NotImplementedError(f"No full-text search on {connection.vendor}")


Ticket._meta.pk.register_lookup(TextMatch)


def text_match(search: tuple[tuple[str, ...], ...]) -> Q:
    """Tickets whose text holds every phrase of `search` (tickets.search.phrases); none: all."""
    return Q(id__text_match=search) if search else Q()


def text_match_twin(search: tuple[tuple[str, ...], ...]) -> Q:
    """text_match's ORM twin: each word `icontains` in the title or body. The same answers only
    on text where no searched word sits inside another word or across a phrase's gap (the
    parity test's corpus): the index matches word starts and phrases, icontains any substring."""
    condition = Q()
    for phrase in search:
        for word in phrase:
            condition &= Q(title__icontains=word) | Q(body__icontains=word)
    return condition
