"""Thin /api/v1/ views for time tracking: time entries, the time report, the weekly
timesheet and estimates against time spent. Reports speak JSON or CSV (`?format=csv` or
`Accept: text/csv`). API key scope "tickets" (read for GETs, write otherwise).
"""

from __future__ import annotations

import datetime
import re
from datetime import date, timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import ViewSet

from accounts.serializers import UserBriefSerializer
from projects.models import PROJECT_SLUG_MAX_LENGTH
from projects.permissions import WRITE
from projects.selectors import project_for
from punt.api.downloads import CsvView, csv_text
from punt.api.fields import id_field
from punt.api.request import tab_id
from punt.api.schema import documented
from tickets import time_selectors as selectors
from tickets.models import TimeEntry
from tickets.services import time as services

ERROR = OpenApiResponse(description='Error: {"error": "...", "details": [{"field", "message"}]}')
FORMAT = OpenApiParameter(
    "format", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=["json", "csv"], description="csv: a CSV download."
)
ISO_WEEK_RE = re.compile(r"^(\d{4})-W(\d{1,2})$")
# A timesheet links to the previous and next weeks, which must fit in Python's dates.
TIMESHEET_FIRST_DAY = date.min + timedelta(days=7)
TIMESHEET_LAST_DAY = date.max - timedelta(days=13)
# Ids are 64-bit columns; a larger number must be a 400, not a database overflow.


# --------------------------------------------------------------------------- serializers


class _ProjectBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    slug = serializers.CharField()
    name = serializers.CharField()


class _TicketBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()


class TimeEntrySerializer(serializers.ModelSerializer):
    ticket = _TicketBriefSerializer(read_only=True)
    project = _ProjectBriefSerializer(source="ticket.project", read_only=True)
    user = UserBriefSerializer(read_only=True)
    comment_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The comment that logged this time, if any."
    )

    class Meta:
        model = TimeEntry
        fields = ["id", "ticket", "project", "user", "minutes", "date", "note", "comment_id", "created_at"]
        read_only_fields = fields


# many=False: the ViewSet's "list" action would otherwise be documented as an array of pages.
@extend_schema_serializer(many=False)
class TimeEntryPageSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = TimeEntrySerializer(many=True)


class TimeEntryCreateInputSerializer(serializers.Serializer):
    ticket = serializers.CharField(max_length=30, help_text='The ticket id, or its key like "BLOG-3".')
    minutes = serializers.IntegerField(min_value=1, max_value=services.MAX_MINUTES)
    date = serializers.DateField(required=False, help_text="Default: today.")
    note = serializers.CharField(max_length=services.NOTE_MAX, required=False, allow_blank=True, default="")


class TimeEntryUpdateInputSerializer(serializers.Serializer):
    """Fields left out stay as they are."""

    minutes = serializers.IntegerField(min_value=1, max_value=services.MAX_MINUTES, required=False)
    date = serializers.DateField(required=False)
    note = serializers.CharField(max_length=services.NOTE_MAX, required=False, allow_blank=True)


class _RangeQuerySerializer(serializers.Serializer):
    """`from` and `to` are Python keywords, so the fields are declared in get_fields()."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField(required=False, help_text="First day (inclusive).")
        fields["to"] = serializers.DateField(required=False, help_text="Last day (inclusive).")
        fields["project"] = serializers.CharField(
            max_length=PROJECT_SLUG_MAX_LENGTH, required=False, help_text="Project slug."
        )
        fields["ticket"] = serializers.CharField(max_length=30, required=False, help_text="Ticket id or key.")
        return fields

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("from") and attrs.get("to") and attrs["from"] > attrs["to"]:
            raise serializers.ValidationError({"to": ["The range ends before it starts."]})
        return attrs


class TimeEntryListQuerySerializer(_RangeQuerySerializer):
    pass


class TimeReportQuerySerializer(_RangeQuerySerializer):
    group_by = serializers.ChoiceField(choices=selectors.GROUP_BY, required=False, default="project")
    user = serializers.CharField(max_length=150, required=False, help_text="User name or id.")


class TimesheetQuerySerializer(serializers.Serializer):
    week = documented(
        serializers.CharField(required=False, max_length=8, help_text='ISO week like "2026-W48".'),
        # Years whose weeks and their neighbours are all Python dates; week 53 only in long years.
        pattern=r"^([1-8][0-9]{3}|9[0-8][0-9]{2}|99[0-8][0-9]|999[0-8])-W(0[1-9]|[1-4][0-9]|5[0-2])$",
    )
    date = serializers.DateField(required=False, help_text="Any day of the week (default: today).")

    # `datetime.date`: the `date` field above shadows the type inside this class.
    def validate_week(self, value: str) -> datetime.date:
        match = ISO_WEEK_RE.match(value.strip())
        if match:
            try:
                return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
            except ValueError:
                pass
        raise serializers.ValidationError('Give an ISO week like "2026-W48" (weeks 01-52, or 53 in long years).')

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "week" in attrs and "date" in attrs:
            raise serializers.ValidationError({"week": ["Give week or date, not both."]})
        # The sheet names the weeks before and after: both must exist in the calendar.
        for field in ("week", "date"):
            day = attrs.get(field)
            if day is not None and not TIMESHEET_FIRST_DAY <= day <= TIMESHEET_LAST_DAY:
                raise serializers.ValidationError(
                    {field: ["That week is too close to the ends of the calendar (years 1 to 9999)."]}
                )
        return attrs


class EstimatesQuerySerializer(serializers.Serializer):
    project = serializers.CharField(max_length=PROJECT_SLUG_MAX_LENGTH, help_text="Project slug.")
    sprint = id_field(required=False, help_text="Only this sprint's tickets.")


class _ReportUserSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.CharField()


class _ReportTicketSerializer(_TicketBriefSerializer):
    state = serializers.CharField()


class TimeReportRowSerializer(serializers.Serializer):
    project = _ProjectBriefSerializer(required=False, help_text="group_by=project.")
    user = _ReportUserSerializer(required=False, help_text="group_by=user.")
    ticket = _ReportTicketSerializer(required=False, help_text="group_by=ticket.")
    estimate = serializers.IntegerField(required=False, allow_null=True, help_text="group_by=ticket: story points.")
    date = serializers.DateField(required=False, help_text="group_by=day.")
    minutes = serializers.IntegerField()
    hours = serializers.FloatField()
    entries = serializers.IntegerField()


class TimeReportSerializer(serializers.Serializer):
    group_by = serializers.ChoiceField(choices=selectors.GROUP_BY)
    date_from = serializers.DateField(allow_null=True)
    date_to = serializers.DateField(allow_null=True)
    total_minutes = serializers.IntegerField()
    total_hours = serializers.FloatField()
    total_entries = serializers.IntegerField()
    rows = TimeReportRowSerializer(many=True)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # Shown as "from"/"to" (the query parameters' names).
        fields["from"] = fields.pop("date_from")
        fields["to"] = fields.pop("date_to")
        return fields


class _TimesheetDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    weekday = serializers.CharField()
    minutes = serializers.IntegerField()


class _TimesheetRowSerializer(serializers.Serializer):
    ticket = _TicketBriefSerializer()
    minutes = serializers.ListField(child=serializers.IntegerField(), help_text="Monday to Sunday.")
    total = serializers.IntegerField()


class TimesheetSerializer(serializers.Serializer):
    week = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    previous_week = serializers.CharField()
    next_week = serializers.CharField()
    days = _TimesheetDaySerializer(many=True)
    rows = _TimesheetRowSerializer(many=True)
    total_minutes = serializers.IntegerField()


class _EstimateRowSerializer(serializers.Serializer):
    ticket = _ReportTicketSerializer()
    estimate = serializers.IntegerField(allow_null=True)
    spent_minutes = serializers.IntegerField()
    spent_hours = serializers.FloatField()


class EstimatesSerializer(serializers.Serializer):
    project = _ProjectBriefSerializer()
    total_estimate = serializers.IntegerField()
    total_spent_minutes = serializers.IntegerField()
    minutes_per_point = serializers.FloatField(allow_null=True)
    rows = _EstimateRowSerializer(many=True)


# --------------------------------------------------------------------------- CSV


class CsvCapableView(CsvView):
    api_scope = "tickets"


def _query(serializer_class: type, request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _filters(user: Any, query: dict[str, Any]) -> selectors.TimeFilter:
    project = project_for(user, slug=query["project"]) if query.get("project") else None
    return selectors.TimeFilter(
        date_from=query.get("from"),
        date_to=query.get("to"),
        project=project,
        user=query.get("user"),
        ticket=query.get("ticket"),
    )


# --------------------------------------------------------------------------- time entries


class TimeEntryPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


@extend_schema(tags=["time"])
class TimeEntryViewSet(ViewSet):
    api_scope = "tickets"

    @extend_schema(
        parameters=[TimeEntryListQuerySerializer],
        responses={200: TimeEntryPageSerializer, 400: ERROR, 401: ERROR, 404: ERROR},
        summary="Your time entries (newest day first), filterable by date range, project and ticket",
        operation_id="time_entries_list",
    )
    def list(self, request: Request) -> Response:
        filters = _filters(request.user, _query(TimeEntryListQuerySerializer, request))
        entries = selectors.time_entries_own(user=request.user, filters=filters)
        paginator = TimeEntryPagination()
        page = paginator.paginate_queryset(entries, request, view=self)
        return paginator.get_paginated_response(TimeEntrySerializer(page, many=True).data)

    @extend_schema(
        request=TimeEntryCreateInputSerializer,
        responses={201: TimeEntrySerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        summary="Log time on a ticket (members and above of its project)",
    )
    def create(self, request: Request) -> Response:
        serializer = TimeEntryCreateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ticket = selectors.ticket_for_time(user=request.user, ref=data["ticket"], needed=WRITE)
        entry = services.time_entry_create(
            ticket=ticket,
            by=request.user,
            minutes=data["minutes"],
            day=data.get("date"),
            note=data["note"],
            tab_id=tab_id(request),
        )
        entry = selectors.time_entry_get(user=request.user, pk=entry.pk)
        return Response(TimeEntrySerializer(entry).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: TimeEntrySerializer, 401: ERROR, 404: ERROR}, summary="One time entry")
    def retrieve(self, request: Request, entry_id: int) -> Response:
        return Response(TimeEntrySerializer(selectors.time_entry_get(user=request.user, pk=entry_id)).data)

    @extend_schema(
        request=TimeEntryUpdateInputSerializer,
        responses={200: TimeEntrySerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        summary="Correct a time entry (your own; project admins: anyone's)",
    )
    def update(self, request: Request, entry_id: int) -> Response:
        entry = selectors.time_entry_get(user=request.user, pk=entry_id)
        serializer = TimeEntryUpdateInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.time_entry_update(
            entry=entry,
            by=request.user,
            minutes=data.get("minutes"),
            day=data.get("date"),
            note=data.get("note"),
            tab_id=tab_id(request),
        )
        return Response(TimeEntrySerializer(entry).data)

    @extend_schema(
        request=TimeEntryUpdateInputSerializer,
        responses={200: TimeEntrySerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        summary="Correct a time entry (same as PUT)",
    )
    def partial_update(self, request: Request, entry_id: int) -> Response:
        return self.update(request, entry_id)

    @extend_schema(
        request=None,
        responses={204: None, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        summary="Delete a time entry (your own; project admins: anyone's)",
    )
    def destroy(self, request: Request, entry_id: int) -> Response:
        entry = selectors.time_entry_get(user=request.user, pk=entry_id)
        services.time_entry_delete(entry=entry, by=request.user, tab_id=tab_id(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- reports


REPORT_CSV_COLUMNS: dict[str, list[str]] = {
    "project": ["project_key", "project_name"],
    "user": ["username", "name"],
    "ticket": ["ticket_key", "title", "estimate"],
    "day": ["date"],
}


def _report_csv_cells(group_by: str, row: dict[str, Any]) -> list[Any]:
    if group_by == "project":
        return [row["project"]["key"], row["project"]["name"]]
    if group_by == "user":
        return [row["user"]["username"], row["user"]["name"]]
    if group_by == "ticket":
        return [row["ticket"]["key"], row["ticket"]["title"], row["estimate"]]
    return [row["date"].isoformat()]


@extend_schema(tags=["reports"])
class TimeReportView(CsvCapableView):
    @extend_schema(
        parameters=[TimeReportQuerySerializer, FORMAT],
        responses={200: TimeReportSerializer, 400: ERROR, 401: ERROR, 404: ERROR},
        summary="Time totals grouped by project, user, ticket or day",
        description=(
            "Over the time on projects you can see (site admins: all), between `from` and `to` "
            "(inclusive; open-ended when left out). CSV: one line per group and a final Total line."
        ),
    )
    def get(self, request: Request) -> Response:
        query = _query(TimeReportQuerySerializer, request)
        group_by = query["group_by"]
        report = selectors.time_report(user=request.user, group_by=group_by, filters=_filters(request.user, query))
        if not self.wants_csv():
            # Rows differ by grouping; TimeReportSerializer documents them, the dict is already their shape.
            return Response(report)
        columns = REPORT_CSV_COLUMNS[group_by]
        lines = [
            [*_report_csv_cells(group_by, row), row["minutes"], row["hours"], row["entries"]] for row in report["rows"]
        ]
        padding = [""] * (len(columns) - 1)
        lines.append(["Total", *padding, report["total_minutes"], report["total_hours"], report["total_entries"]])
        text = csv_text([*columns, "minutes", "hours", "entries"], lines)
        return self.csv_response(text, f"time-report-{group_by}-{timezone.localdate().isoformat()}.csv")


@extend_schema(tags=["reports"])
class TimesheetView(CsvCapableView):
    @extend_schema(
        parameters=[TimesheetQuerySerializer, FORMAT],
        responses={200: TimesheetSerializer, 400: ERROR, 401: ERROR},
        summary="Your week (Monday to Sunday), per ticket and day",
        description="`week` (ISO, like 2026-W48) or `date` (any day in the week); default: this week.",
    )
    def get(self, request: Request) -> Response:
        query = _query(TimesheetQuerySerializer, request)
        day = query.get("week") or query.get("date") or timezone.localdate()
        monday = date.fromordinal(day.toordinal() - day.weekday())
        sheet = selectors.timesheet(user=request.user, monday=monday)
        if not self.wants_csv():
            return Response(TimesheetSerializer(sheet).data)
        header = ["ticket", "title", *(f"{d['weekday']} {d['date'].isoformat()}" for d in sheet["days"]), "total"]
        lines = [[row["ticket"]["key"], row["ticket"]["title"], *row["minutes"], row["total"]] for row in sheet["rows"]]
        lines.append(["Total", "", *(d["minutes"] for d in sheet["days"]), sheet["total_minutes"]])
        return self.csv_response(csv_text(header, lines), f"timesheet-{sheet['week']}.csv")


@extend_schema(tags=["reports"])
class EstimatesReportView(CsvCapableView):
    @extend_schema(
        parameters=[EstimatesQuerySerializer, FORMAT],
        responses={200: EstimatesSerializer, 400: ERROR, 401: ERROR, 404: ERROR},
        summary="Estimates (story points) against time spent, per ticket of a project",
        description="Tickets with an estimate or logged time; all time on a ticket counts, whoever logged it.",
    )
    def get(self, request: Request) -> Response:
        query = _query(EstimatesQuerySerializer, request)
        project = project_for(request.user, slug=query["project"])
        report = selectors.estimates_report(project=project, sprint_id=query.get("sprint"))
        if not self.wants_csv():
            return Response(EstimatesSerializer(report).data)
        lines = [
            [r["ticket"]["key"], r["ticket"]["title"], r["ticket"]["state"], r["estimate"], r["spent_minutes"]]
            for r in report["rows"]
        ]
        lines.append(["Total", "", "", report["total_estimate"], report["total_spent_minutes"]])
        text = csv_text(["ticket_key", "title", "state", "estimate", "spent_minutes"], lines)
        return self.csv_response(text, f"estimates-{project.key}.csv")
