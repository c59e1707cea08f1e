"""Model instances from hand-written SQL, for the few reads on every request.

Building a statement with the ORM costs far more than running it: the project lookup that
every project endpoint starts with took ~0.5 ms to build and 0.03 ms to run. These helpers
select a model's columns and turn a row back into an instance, through the same database
converters the ORM applies (SQLite hands over timestamps and booleans as text and integers).
"""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Field, Model

M = TypeVar("M", bound=Model)


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
