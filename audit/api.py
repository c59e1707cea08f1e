"""The audit log as JSON pages or a CSV download; who may read which part is the subclass's.

Site admins read it all (accounts.api.AuditLogAdminView, /api/v1/admin/audit-log); a
project's admins read that project's part (projects.api.ProjectAuditLogView). Those live
with the apps that know the roles: audit imports no app, so every app can record into it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response

from audit import selectors
from audit.models import AuditEntry
from audit.serializers import (
    CSV_HEADER,
    PAGE_DEFAULT,
    PAGE_MAX,
    AuditEntryPageSerializer,
    AuditEntrySerializer,
    AuditLogQuerySerializer,
)
from punt.api.downloads import CsvView, csv_text
from punt.api.request import validated

FORMAT = OpenApiParameter(
    "format", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=["json", "csv"], description="csv: a CSV download."
)
CSV = OpenApiResponse(
    OpenApiTypes.STR, description="Every matching entry (limit and offset do not apply): a header line, then the rows."
)
ERROR = OpenApiResponse(description='Error: {"error": "...", "details": [{"field", "message"}]}')
PAGE = OpenApiResponse(AuditEntryPageSerializer, description="A page of entries, newest first.")
DESCRIPTION = (
    "Security-relevant changes, newest first: sign-ins and failed sign-ins, two-factor changes, API keys, "
    "members and roles, projects archived, deleted or restored, webhooks, backups and restores, system "
    "settings, user accounts. Each entry says who, what, when, from which address, and before/after. "
    "Filters combine; `to` is exclusive. Entries cannot be changed or deleted; they are kept for "
    "PUNT_AUDIT_RETENTION_DAYS (`manage.py audit_prune`)."
)


def audit_log_schema(*, operation_id: str, parameters: list[Any], summary: str, statuses: tuple[int, ...]) -> Any:
    """The OpenAPI declaration of an audit-log GET: JSON pages or CSV, and its error statuses."""
    return extend_schema(
        operation_id=operation_id,
        parameters=[*parameters, FORMAT],
        responses={(200, "application/json"): PAGE, (200, "text/csv"): CSV, **dict.fromkeys(statuses, ERROR)},
        summary=summary,
        description=DESCRIPTION,
    )


class AuditPagination(LimitOffsetPagination):
    default_limit = PAGE_DEFAULT
    max_limit = PAGE_MAX


def _json_cell(value: Any) -> str:
    return "" if value in (None, {}) else json.dumps(value, sort_keys=True)


def csv_rows(entries: QuerySet[AuditEntry]) -> Iterator[Sequence[Any]]:
    for entry in entries.iterator(chunk_size=2000):
        yield (
            entry.at.isoformat(),
            entry.actor_name,
            entry.ip,
            entry.action,
            entry.target_type,
            entry.target_id,
            entry.target_repr,
            entry.project_id,
            entry.project_name,
            _json_cell(entry.before),
            _json_cell(entry.after),
            _json_cell(entry.data),
        )


# (A comment, not a docstring: drf-spectacular would show it on every endpoint.)
# The subclass sets the permissions and answers entries(); this reads the filters (400
# naming the field), then answers a page or the CSV.
class AuditLogView(CsvView):
    query_serializer: type[AuditLogQuerySerializer] = AuditLogQuerySerializer
    filename_prefix = "audit-log"

    def entries(self, query: dict[str, Any]) -> QuerySet[AuditEntry]:
        raise NotImplementedError

    def filtered(self, query: dict[str, Any], *, project_id: int | None) -> QuerySet[AuditEntry]:
        return selectors.audit_entries(
            project_id=project_id,
            action=query["action"],
            actor=query["actor"],
            target_type=query["target_type"],
            start=query["from"],
            end=query["to"],
        )

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = validated(self.query_serializer, request.query_params)
        entries = self.entries(query)
        if self.wants_csv():
            name = f"{self.filename_prefix}-{timezone.localdate().isoformat()}.csv"
            return self.csv_response(csv_text(CSV_HEADER, csv_rows(entries)), name)
        paginator = AuditPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(AuditEntrySerializer(page, many=True).data)
