"""Integer inputs bounded by the column they are stored in or compared with (punt.ranges).

Every integer an API client sends goes through one of these, so an out-of-range number is a
400 naming the field on SQLite and PostgreSQL alike, never a database error.
"""

from __future__ import annotations

from typing import Any

from django.db import models
from rest_framework import serializers

from punt.ranges import ID_MAX, as_id, column_range

# Ids in one list (labels of a card, columns of a board in their new order): more is a bug
# or an attack, and SQLite refuses a condition of a few thousand terms.
MAX_IDS = 200


def _bounded(low: int, high: int, kwargs: dict[str, Any]) -> serializers.IntegerField:
    """An IntegerField within [low, high], narrowed further by the caller's min/max_value."""
    kwargs["min_value"] = max(low, kwargs.get("min_value", low))
    kwargs["max_value"] = min(high, kwargs.get("max_value", high))
    return serializers.IntegerField(**kwargs)


def model_integer(model: type[models.Model], name: str, **kwargs: Any) -> serializers.IntegerField:
    """An input for the integer column `model.name`: `model_integer(Column, "wip_limit", min_value=1)`."""
    return _bounded(*column_range(model, name), kwargs)


def id_field(**kwargs: Any) -> serializers.IntegerField:
    """A row id (any table's key): 1 to 2^63 - 1."""
    return _bounded(1, ID_MAX, kwargs)


def id_list(child: serializers.Field | None = None, **kwargs: Any) -> serializers.ListField:
    """A list of ids (or of names standing for rows), at most MAX_IDS long."""
    kwargs.setdefault("max_length", MAX_IDS)
    return serializers.ListField(child=child if child is not None else id_field(), **kwargs)


def query_id(value: str, name: str) -> int:
    """A query parameter that names a row by id: its value, or a 400 for `name`."""
    pk = as_id(value)
    if pk is None:
        raise serializers.ValidationError({name: [f"'{value}' is not a valid id."]})
    return pk


class TextOnlyField(serializers.CharField):
    """A CharField that takes only a JSON string: DRF's turns 42 into "42", which the schema
    (type: string) says is refused."""

    default_error_messages = {"invalid": "Not a valid string."}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)
