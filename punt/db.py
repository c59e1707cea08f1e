"""Model instances from hand-written SQL, for the few reads on every request; statement timeouts.

Building a statement with the ORM costs far more than running it: the project lookup that
every project endpoint starts with took ~0.5 ms to build and 0.03 ms to run. These helpers
select a model's columns and turn a row back into an instance, through the same database
converters the ORM applies (SQLite hands over timestamps and booleans as text and integers).
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any, TypeVar

from django.conf import settings
from django.db import OperationalError, connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)
logger = logging.getLogger("punt.db")


@cache
def _layout(model: type[Model], alias: str, vendor: str) -> tuple[str, tuple[str, ...], int, tuple[Any, ...]]:
    """(columns SQL, attnames, index of the primary key, (index, column, converters) per converted column)."""
    fields = model._meta.concrete_fields
    quote = connection.ops.quote_name
    columns = ", ".join(f"{alias}.{quote(_column_name(field))}" for field in fields)
    converters = []
    for index, field in enumerate(fields):
        column = field.get_col(alias)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((index, column, found))
    pk_index = fields.index(model._meta.pk)
    return columns, tuple(field.attname for field in fields), pk_index, tuple(converters)


def _column_name(field: Any) -> str:
    # Field.column is None only for fields without a column (reverse relations, some private
    # fields); `concrete_fields` and the ForeignKey/plain fields callers name always have one.
    assert isinstance(field, Field) and field.column is not None, f"{field} has no column"
    return field.column


def column(model: type[Model], name: str) -> str:
    """The quoted column of `model`'s concrete field `name` (a ForeignKey gives its `_id` column)."""
    return connection.ops.quote_name(_column_name(model._meta.get_field(name)))


def columns(model: type[Model], alias: str) -> str:
    """`alias."col", ...` for every column of `model`, in the order instance() reads them."""
    return _layout(model, alias, connection.vendor)[0]


def width(model: type[Model]) -> int:
    return len(model._meta.concrete_fields)


def instance(model: type[M], alias: str, values: tuple[Any, ...] | list[Any]) -> M | None:
    """The `model` of a row's columns(model, alias) slice, or None if they are all NULL (an outer join missed)."""
    _, attnames, pk_index, converters = _layout(model, alias, connection.vendor)
    if values[pk_index] is None:
        return None
    values = list(values)
    for index, column, functions in converters:
        value = values[index]
        for function in functions:
            value = function(value, column, connection)
        values[index] = value
    return model.from_db(connection.alias, attnames, values)


def fetch_all(sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
        return rows


def fetch_one(sql: str, params: list[Any]) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row: tuple[Any, ...] | None = cursor.fetchone()
        return row


def placeholders(values: list[Any] | tuple[Any, ...]) -> str:
    """`%s, %s, ...` for an IN (...) of `values` (never empty: the caller checks)."""
    return ", ".join(["%s"] * len(values))


def for_update() -> str:
    """` FOR UPDATE` where the database locks rows so (PostgreSQL); SQLite locks the whole file on write."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def ping() -> bool:
    """Whether the database answers a trivial statement (the health check)."""
    return fetch_one("SELECT 1", []) == (1,)


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def begin_read_only_snapshot() -> None:
    """Make the PostgreSQL transaction just opened one consistent, read-only view (its first statement)."""
    _execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")


def reset_sequences(models: list[type[Model]]) -> None:
    """Point the id sequences of `models` past their largest id (after rows were loaded with ids)."""
    from django.core.management.color import no_style

    for sql in connection.ops.sequence_reset_sql(no_style(), models):
        _execute(sql)


# --- statement timeouts ---------------------------------------------------------------------------
#
# One statement may run for PUNT_STATEMENT_TIMEOUT_MS; backups, restores, exports and migrations
# run inside long_statements(), for PUNT_LONG_STATEMENT_TIMEOUT_MS. PostgreSQL enforces it
# (statement_timeout, set for every connection in the settings); SQLite has no such setting, so
# a progress handler interrupts a statement that runs past its deadline. Either way the statement
# fails with an OperationalError that is_statement_timeout() recognises (the API answers 503).

# SQLite calls the progress handler every this many virtual-machine instructions (~1 ms of work):
# often enough to stop on time, rarely enough to cost nothing measurable.
SQLITE_PROGRESS_STEPS = 50_000
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for statement_timeout and a cancel request
SQLITE_INTERRUPT = 9  # sqlite3's result code for an interrupted statement

_long_statements: contextvars.ContextVar[bool] = contextvars.ContextVar("punt_long_statements", default=False)


def statement_timeout_ms() -> int:
    """The timeout of the next statement on this thread, in ms (0: none)."""
    if _long_statements.get():
        return int(settings.PUNT_LONG_STATEMENT_TIMEOUT_MS)
    return int(settings.PUNT_STATEMENT_TIMEOUT_MS)


@contextmanager
def long_statements() -> Iterator[None]:
    """Statements in the block may run for PUNT_LONG_STATEMENT_TIMEOUT_MS (backups, exports)."""
    token = _long_statements.set(True)
    postgres = connection.vendor == "postgresql"
    # Inside a transaction, SET LOCAL ends with it (and cannot fail on the way out of an aborted
    # one); outside, the session's setting is raised and RESET to the connection's default after.
    local = postgres and connection.in_atomic_block
    try:
        if postgres:
            _execute(f"SET {'LOCAL ' if local else ''}statement_timeout = {statement_timeout_ms()}")
        yield
    finally:
        _long_statements.reset(token)
        if postgres and not local and connection.connection is not None:
            _execute("RESET statement_timeout")


def is_statement_timeout(exc: BaseException) -> bool:
    """Whether `exc` is a statement stopped by its timeout or by stop_running_statement()."""
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    return getattr(cause, "sqlstate", None) == QUERY_CANCELED or getattr(cause, "sqlite_errorcode", None) == (
        SQLITE_INTERRUPT
    )


class _SQLiteDeadline:
    """When the running SQLite statement must stop: set as it starts, checked by the progress handler."""

    __slots__ = ("at",)

    def __init__(self) -> None:
        self.at = 0.0

    def started(self, sql: str) -> None:
        # sqlite3's trace callback, called as each statement starts: ~0.5 us, where an execute
        # wrapper of Django's cost ~4 us a statement.
        timeout = statement_timeout_ms()
        self.at = time.monotonic() + timeout / 1000 if timeout else 0.0

    def passed(self) -> bool:
        return bool(self.at) and time.monotonic() > self.at


def install_statement_timeout(wrapper: BaseDatabaseWrapper) -> None:
    """For a connection just opened (connection_created): SQLite's stand-in for statement_timeout."""
    if wrapper.vendor != "sqlite":
        return  # PostgreSQL: the `options` of the connection settings carry statement_timeout
    deadline = _SQLiteDeadline()
    wrapper.connection.set_trace_callback(deadline.started)
    wrapper.connection.set_progress_handler(deadline.passed, SQLITE_PROGRESS_STEPS)


def stop_running_statement(wrapper: BaseDatabaseWrapper) -> None:
    """Stop the statement `wrapper` (another thread's connection) is running, if any.

    SQLite's interrupt() ends only statements running now. PostgreSQL's cancel request stops
    whatever the server runs for that connection when the request arrives: the caller checks
    just before that the statement it means is still running.
    """
    raw = wrapper.connection
    if raw is None:
        return
    backend: Any = wrapper  # a concrete backend's wrapper: it names its driver module
    try:
        if wrapper.vendor == "sqlite":
            raw.interrupt()
        elif wrapper.vendor == "postgresql":
            raw.cancel_safe(timeout=2.0)
    except backend.Database.Error:
        # The connection closed meanwhile, or the server did not take the cancel request:
        # the statement still ends at its timeout.
        logger.warning("Could not stop a running statement", exc_info=True)
