"""What the three dialects share: timestamp formats and small DRF fields.

The dialects translate; they never decide. Reads go through the apps' selectors, writes
through their services.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from punt import errors

# Paging parameters beyond this are refused (an OFFSET that large is never meant).
MAX_PAGING = 10**9

ERROR = OpenApiResponse(description='Error: {"error": "...", "details": [{"field", "message"}]}')


def _as_utc(value: datetime | date) -> datetime:
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min, tzinfo=UTC)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value.astimezone(UTC)


def iso_millis(value: datetime | date | None) -> str | None:
    """PUNT's timestamps: `2024-01-15T10:30:00.000Z` (seed 000)."""
    if value is None:
        return None
    value = _as_utc(value)
    # Four-digit years always: strftime's %Y writes the year 673 as "673" on Linux.
    return f"{value.year:04d}" + value.strftime("-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def iso_seconds(value: datetime | date | None) -> str | None:
    """AgentsMesh's and the GitHub-style timestamps: `2025-01-10T08:00:00Z` (seeds 002, 003)."""
    if value is None:
        return None
    value = _as_utc(value)
    return f"{value.year:04d}" + value.strftime("-%m-%dT%H:%M:%SZ")


@extend_schema_field(OpenApiTypes.DATETIME)
class MillisDateTimeField(serializers.Field):
    def to_representation(self, value: Any) -> str | None:
        return iso_millis(value)


@extend_schema_field(OpenApiTypes.DATETIME)
class SecondsDateTimeField(serializers.Field):
    def to_representation(self, value: Any) -> str | None:
        return iso_seconds(value)


class IdString(serializers.CharField):
    """An integer key written as a string, as PUNT's ids are (`"id": "clx1abc123"`)."""

    def to_representation(self, value: Any) -> str:
        return str(value)


def rename_error_fields(exc: Exception, names: dict[str, str]) -> Exception:
    """A service's validation error with its field names in the dialect's words.

    The services name fields as the model does (`assignee`, `due_date`); a dialect's client
    sent `assigneeId` or `assignee_id`, and its error `details` should point at that.
    """
    if isinstance(exc, errors.Invalid):
        exc.details = [{**detail, "field": names.get(detail["field"], detail["field"])} for detail in exc.details]
    elif isinstance(exc, ValidationError) and isinstance(exc.detail, dict):
        exc.detail = {names.get(str(field), field): messages for field, messages in exc.detail.items()}
    return exc


class DialectErrorsMixin:
    """Views set `error_fields` = {service field: dialect field}."""

    error_fields: dict[str, str] = {}

    def handle_exception(self, exc: Exception) -> Any:
        return super().handle_exception(rename_error_fields(exc, self.error_fields))  # type: ignore[misc]
