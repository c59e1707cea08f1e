"""The integers a column can hold, the same on every database PUNT runs on.

PostgreSQL refuses 2^31 in an `integer` column and 2^63 anywhere (a DataError, a 500 if it
reaches the database); SQLite stores up to 2^63 - 1 in any column and its driver raises
OverflowError past that. Django's own model validators follow the connection (32-bit on
PostgreSQL, 64-bit on SQLite) and DRF's plain IntegerField has no bounds at all, so input
is checked here against PostgreSQL's ranges: one answer on both engines.
"""

from __future__ import annotations

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

ID_MAX = 2**63 - 1  # bigint: every primary key (BigAutoField) and foreign key


def column_range(model: type[models.Model], name: str) -> tuple[int, int]:
    """(min, max) of the integer column `model.name` (a foreign key: its target's key)."""
    field = model._meta.get_field(name)
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    return BaseDatabaseOperations.integer_field_ranges[field.get_internal_type()]


def as_int(text: str, low: int, high: int) -> int | None:
    """`text` as an integer in [low, high] if it is a plain ASCII number, else None.

    str.isdigit() alone accepts "²" (int() then raises) and numbers no column can hold;
    `as_int(text, *column_range(Ticket, "number"))` reads a value for that column.
    """
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None


def as_id(text: str) -> int | None:
    """`text` as a row id if it is a plain ASCII number a key can hold, else None."""
    return as_int(text, 0, ID_MAX)
