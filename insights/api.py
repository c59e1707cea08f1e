"""/api/v1/projects/<slug>/insights/<name>: the project's flow metrics, as JSON or CSV.

cumulative-flow, cycle-time and throughput cover a range of days (`from`, `to`, or a sprint's
dates); velocity, forecast and aging-wip look at sprints, the remaining work and the board now.
`type`, `sprint` and `q` (PQL, as the card list's) narrow the tickets. CSV (`?format=csv` or
`Accept: text/csv`): a header line, then one line per day, ticket, period or sprint.

Read access: viewers and up, archived projects included; API key scope "tickets" (read), as
the board: these numbers are the tickets' history, with their titles.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from insights import serializers as s
from insights.cycle import aging_wip, ticket_times, time_percentiles
from insights.flow import cumulative_flow, throughput, velocity
from insights.forecast import forecast_remaining
from insights.scope import Scope, scope_for
from projects.models import Project
from projects.selectors import project_for
from punt.api.downloads import CsvView, csv_text
from punt.api.request import validated
from tickets import pql
from tickets.models import Ticket

SLUG = OpenApiParameter(
    "slug",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Project URL slug (chosen at creation; by default the lowercased key).",
)
FORMAT = OpenApiParameter(
    "format", OpenApiTypes.STR, OpenApiParameter.QUERY, enum=["json", "csv"], description="csv: a CSV download."
)
CSV = OpenApiResponse(OpenApiTypes.STR, description="The CSV file: a header line, then the rows.")


def _iso(value: date | datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _schema(*, name: str, summary: str, description: str, query: type, response: type) -> Any:
    """The view's GET in the schema (the method is inherited: extend_schema_view gives each view its own)."""
    return extend_schema_view(
        get=extend_schema(
            operation_id=f"project_insights_{name.replace('-', '_')}",
            tags=["insights"],
            parameters=[SLUG, query, FORMAT],
            responses={(200, "application/json"): response, (200, "text/csv"): CSV},
            summary=summary,
            description=description,
        )
    )


# A project's insight: the project (404 outsiders, 403 below viewer), the query parameters
# (400 naming the field), then one computation, answered as JSON or as CSV.
# (Comments, not docstrings, on base classes: drf-spectacular would show them on every endpoint.)
class InsightView(CsvView):
    api_scope = "tickets"
    query_serializer: type[serializers.Serializer] = s.RangeQuerySerializer
    csv_header: Sequence[str] = ()
    name = ""

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Outsiders get 404 before any parameter is read, so a bad one never tells them more.
        self.project: Project = project_for(request.user, slug=kwargs["slug"])

    def get(self, request: Request, slug: str) -> Response:
        query = validated(self.query_serializer, request.query_params, context={"project": self.project})
        result = self.compute(query)
        if not self.wants_csv():
            # Already plain JSON types, shaped as the view's response serializer says.
            return Response(result)
        return self.csv_response(csv_text(self.csv_header, self.csv_rows(result)), self.filename(result))

    def compute(self, query: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def csv_rows(self, result: dict[str, Any]) -> Iterable[Sequence[Any]]:
        raise NotImplementedError

    def filename(self, result: dict[str, Any]) -> str:
        return f"{self.project.key}-{self.name}-{timezone.localdate().isoformat()}.csv"

    def pql_filtered(self, tickets: QuerySet[Ticket], query: dict[str, Any]) -> QuerySet[Ticket]:
        text = query.get("q", "")
        if not text:
            return tickets
        compiled = pql.compile_query(text, pql.project_scope(self.project, self.request.user))
        return tickets.filter(compiled.q())

    def tickets(self, query: dict[str, Any]) -> QuerySet[Ticket] | None:
        """The project's tickets narrowed by every filter given in `query` (all of them apply);
        None without any (the computations then take all the project's)."""
        if not any(query.get(name) for name in ("q", "type", "sprint", "epic")):
            return None
        tickets = Ticket.objects.filter(project=self.project)
        if query.get("type"):
            tickets = tickets.filter(type=query["type"])
        if query.get("sprint"):
            tickets = tickets.filter(sprint=query["sprint"])
        if query.get("epic"):
            tickets = tickets.filter(parent=query["epic"])
        return self.pql_filtered(tickets, query)


# cumulative-flow, cycle-time, throughput: a range of days (insights.scope).
class RangeInsightView(InsightView):
    def scope(self, query: dict[str, Any]) -> Scope:
        pql_only = self.pql_filtered(Ticket.objects.filter(project=self.project), query) if query.get("q") else None
        return scope_for(
            project=self.project,
            start=query.get("from"),
            end=query.get("to"),
            sprint=query.get("sprint"),
            type=query.get("type"),
            tickets=pql_only,
        )

    def ranged(self, scope: Scope, result: dict[str, Any]) -> dict[str, Any]:
        return {"from": scope.start, "to": scope.end, **result}

    def filename(self, result: dict[str, Any]) -> str:
        return f"{self.project.key}-{self.name}-{result['from'].isoformat()}-to-{result['to'].isoformat()}.csv"


@_schema(
    name="cumulative-flow",
    summary="Cumulative flow: tickets per column category at the end of each day",
    description="One entry per day of the range (at most 366 days; default the last 90). "
    "CSV: one line per day, a column per category.",
    query=s.CumulativeFlowQuerySerializer,
    response=s.CumulativeFlowSerializer,
)
class CumulativeFlowView(RangeInsightView):
    name = "cumulative-flow"
    query_serializer = s.CumulativeFlowQuerySerializer
    csv_header = ("date", "backlog", "todo", "in_progress", "in_review", "done")

    def compute(self, query: dict[str, Any]) -> dict[str, Any]:
        scope = self.scope(query)
        return self.ranged(scope, cumulative_flow(scope))

    def csv_rows(self, result: dict[str, Any]) -> Iterable[Sequence[Any]]:
        categories = self.csv_header[1:]
        for day in result["days"]:
            yield [day["date"].isoformat(), *(day["counts"][category] for category in categories)]


@_schema(
    name="cycle-time",
    summary="Cycle and lead time of the tickets done in a range, with percentiles by type",
    description="Lead time: created to done; cycle time: started (in progress or in review) to done, "
    "from the last start for reopened tickets. Percentiles 50/85/95 by nearest rank, in days. "
    "CSV: one line per ticket.",
    query=s.CycleTimeQuerySerializer,
    response=s.CycleTimeSerializer,
)
class CycleTimeView(RangeInsightView):
    name = "cycle-time"
    query_serializer = s.CycleTimeQuerySerializer
    csv_header = ("key", "title", "type", "estimate", "created_at", "started_at", "done_at", "lead_days", "cycle_days")

    def compute(self, query: dict[str, Any]) -> dict[str, Any]:
        scope = self.scope(query)
        times = ticket_times(scope)
        return self.ranged(scope, {"tickets": times, "percentiles": time_percentiles(times)})

    def csv_rows(self, result: dict[str, Any]) -> Iterable[Sequence[Any]]:
        for ticket in result["tickets"]:
            yield [
                ticket["key"],
                ticket["title"],
                ticket["type"],
                ticket["estimate"],
                _iso(ticket["created_at"]),
                _iso(ticket["started_at"]),
                _iso(ticket["done_at"]),
                ticket["lead_days"],
                ticket["cycle_days"],
            ]


@_schema(
    name="throughput",
    summary="Throughput: tickets and story points done per week or per day",
    description="A ticket counts in the period of its last entry into a done column. Weeks start on Monday. "
    "CSV: one line per period.",
    query=s.ThroughputQuerySerializer,
    response=s.ThroughputSerializer,
)
class ThroughputView(RangeInsightView):
    name = "throughput"
    query_serializer = s.ThroughputQuerySerializer
    csv_header = ("start", "end", "tickets", "points")

    def compute(self, query: dict[str, Any]) -> dict[str, Any]:
        scope = self.scope(query)
        return self.ranged(scope, throughput(scope, period=query["period"]))

    def csv_rows(self, result: dict[str, Any]) -> Iterable[Sequence[Any]]:
        for period in result["periods"]:
            yield [period["start"].isoformat(), period["end"].isoformat(), period["tickets"], period["points"]]


@_schema(
    name="velocity",
    summary="Velocity: story points committed and completed per sprint",
    description="The latest active or closed sprints, oldest first, and the average of their completed points. "
    "CSV: one line per sprint.",
    query=s.VelocityQuerySerializer,
    response=s.VelocitySerializer,
)
class VelocityView(InsightView):
    name = "velocity"
    query_serializer = s.VelocityQuerySerializer
    csv_header = (
        "sprint_id",
        "name",
        "status",
        "start_date",
        "end_date",
        "committed_points",
        "completed_points",
        "completed_tickets",
        "carried_over",
    )

    def compute(self, query: dict[str, Any]) -> dict[str, Any]:
        return velocity(project=self.project, sprints=query["sprints"], tickets=self.tickets(query))

    def csv_rows(self, result: dict[str, Any]) -> Iterable[Sequence[Any]]:
        for sprint in result["sprints"]:
            yield [
                sprint["id"],
                sprint["name"],
                sprint["status"],
                _iso(sprint["start_date"]),
                _iso(sprint["end_date"]),
                sprint["committed_points"],
                sprint["completed_points"],
                sprint["completed_tickets"],
                sprint["carried_over"],
            ]


@_schema(
    name="forecast",
    summary="Forecast: when the remaining tickets finish (Monte Carlo over past throughput)",
    description="The open tickets of a sprint, of an epic (its sub-tickets), of a type or of a PQL filter "
    "(all of those given; every open ticket without any), at the pace of the project's daily throughput "
    "over the last `weeks` weeks. "
    "CSV: one line per confidence level.",
    query=s.ForecastQuerySerializer,
    response=s.ForecastSerializer,
)
class ForecastView(InsightView):
    name = "forecast"
    query_serializer = s.ForecastQuerySerializer
    csv_header = ("confidence", "date", "remaining", "weeks", "sample_days")

    def compute(self, query: dict[str, Any]) -> dict[str, Any]:
        tickets = self.tickets(query)
        if tickets is None:
            tickets = Ticket.objects.filter(project=self.project)
        return forecast_remaining(project=self.project, tickets=tickets, weeks=query["weeks"])

    def csv_rows(self, result: dict[str, Any]) -> Iterable[Sequence[Any]]:
        for confidence, day in result["dates"].items():
            yield [confidence, _iso(day), result["remaining"], result["weeks"], result["sample_days"]]


@_schema(
    name="aging-wip",
    summary="Aging work in progress: tickets in progress now and for how long",
    description="Tickets now in an in-progress or in-review column, oldest first; `over` marks those "
    "older than the project's 85th percentile cycle time (last 90 days). CSV: one line per ticket.",
    query=s.AgingWipQuerySerializer,
    response=s.AgingWipSerializer,
)
class AgingWipView(InsightView):
    name = "aging-wip"
    query_serializer = s.AgingWipQuerySerializer
    csv_header = ("key", "title", "column", "category", "started_at", "age_days", "over", "p85_days")

    def compute(self, query: dict[str, Any]) -> dict[str, Any]:
        return aging_wip(project=self.project, tickets=self.tickets(query))

    def csv_rows(self, result: dict[str, Any]) -> Iterable[Sequence[Any]]:
        for ticket in result["tickets"]:
            yield [
                ticket["key"],
                ticket["title"],
                ticket["column"]["name"],
                ticket["column"]["category"],
                _iso(ticket["started_at"]),
                ticket["age_days"],
                "true" if ticket["over"] else "false",
                result["p85_days"],
            ]
