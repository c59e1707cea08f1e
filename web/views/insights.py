"""The Insights tab: cumulative flow, cycle time, throughput, velocity, aging work and a forecast,
over a range of days and optionally one sprint or one ticket type.

The numbers are insights/' (the API serves the same); this view reads the filters, asks for
them and draws them with web/charts.py. A bad filter shows on the form (400), never a 500.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from insights.cycle import aging_wip, ticket_times, time_percentiles
from insights.flow import cumulative_flow, throughput, velocity
from insights.forecast import forecast_remaining
from insights.scope import Scope, scope_for
from projects.models import Project, Sprint
from projects.permissions import MANAGE, READ
from punt import errors
from tickets.models import Ticket
from web import charts
from web.forms import add_service_errors
from web.pages import can, project_for

PRESETS = (30, 90, 180)
DEFAULT_DAYS = 90


class InsightsForm(forms.Form):
    """The page's filters, as the query string carries them (`from` and `to` like the API's)."""

    days = forms.TypedChoiceField(
        choices=[("", "Custom")] + [(str(n), f"Last {n} days") for n in PRESETS],
        coerce=int,
        required=False,
        empty_value=None,
        label="Range",
    )
    sprint = forms.TypedChoiceField(coerce=int, required=False, empty_value=None)
    type = forms.ChoiceField(choices=[("", "Any type"), *Ticket.Type.choices], required=False)

    def __init__(self, *args: Any, sprints: list[Sprint], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # `from` is a Python keyword: these two fields are added by name.
        date_input = {"type": "date"}
        self.fields["from"] = forms.DateField(required=False, label="From", widget=forms.DateInput(date_input))
        self.fields["to"] = forms.DateField(required=False, label="To", widget=forms.DateInput(date_input))
        self.order_fields(["days", "from", "to", "sprint", "type"])
        sprint_field = self.fields["sprint"]
        assert isinstance(sprint_field, forms.ChoiceField)
        sprint_field.choices = [("", "Any sprint")] + [(str(s.pk), s.name) for s in sprints]


def _dates(cleaned: dict[str, Any]) -> tuple[Any, Any]:
    """The range asked for: the dates given, else a preset counted back from today, else none
    (scope_for picks its default, or the sprint's dates)."""
    start, end = cleaned.get("from"), cleaned.get("to")
    if start is None and end is None and cleaned.get("days"):
        end = timezone.localdate()
        start = end - timedelta(days=cleaned["days"] - 1)
    return start, end


def _open_scope_tickets(scope: Scope) -> QuerySet[Ticket]:
    """The tickets a forecast counts down: the filter's, else the project's, never deleted ones."""
    tickets = scope.tickets if scope.tickets is not None else Ticket.objects.filter(project=scope.project)
    return tickets.filter(deleted_at__isnull=True)


def _percentile_rows(percentiles: dict[str, Any]) -> list[dict[str, Any]]:
    labels = dict(Ticket.Type.choices)
    rows = [{"label": "All types", **percentiles["all"]}]
    for kind, values in sorted(percentiles.get("by_type", {}).items()):
        rows.append({"label": labels.get(kind, kind), **values})
    return rows


def _charts(project: Project, scope: Scope, kind: str | None) -> dict[str, Any]:
    flow = cumulative_flow(scope)
    times = ticket_times(scope)
    percentiles = time_percentiles(times)
    weekly = throughput(scope, period="week")
    # Velocity is per sprint, so a chosen sprint does not narrow it: only the type does.
    speed = velocity(project=project, tickets=Ticket.objects.filter(project=project, type=kind) if kind else None)
    aging = aging_wip(project=project, tickets=scope.tickets)
    forecast = forecast_remaining(project=project, tickets=_open_scope_tickets(scope))
    names = [charts.CATEGORY_NAMES.get(c, c) for c in flow["categories"]]
    for ticket in aging["tickets"]:
        number = ticket["key"].rsplit("-", 1)[-1]
        ticket["url"] = reverse("web:ticket", args=[project.namespace, project.path, number])
    return {
        "flow": flow,
        "flow_svg": charts.cumulative_flow_svg(flow),
        "flow_legend": charts.legend([(f"cat-{c}", name) for c, name in zip(flow["categories"], names, strict=True)]),
        "flow_headers": names,
        "flow_rows": [(day["date"], [day["counts"][c] for c in flow["categories"]]) for day in flow["days"]],
        "times": times,
        "percentile_rows": _percentile_rows(percentiles),
        "scatter_svg": charts.cycle_scatter_svg(times, percentiles, start=scope.start, end=scope.end),
        "throughput": weekly,
        "throughput_svg": charts.throughput_svg(weekly),
        "velocity": speed,
        "velocity_svg": charts.velocity_svg(speed),
        "velocity_legend": charts.legend([("bar-committed", "Committed"), ("bar-completed", "Completed")]),
        "aging": aging,
        "forecast": forecast,
    }


@login_required
@require_GET
def insights(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    project, role = project_for(request, namespace, path, READ)
    sprints = list(project.sprints.order_by("-created_at", "-id"))
    form = InsightsForm(request.GET, sprints=sprints)
    context: dict[str, Any] = {
        "project": project,
        "role": role,
        "tab": "insights",
        "can_manage": can(role, MANAGE),
        "form": form,
        "presets": PRESETS,
    }
    if not form.is_valid():
        return render(request, "web/insights.html", context, status=400)
    cleaned = form.cleaned_data
    start, end = _dates(cleaned)
    sprint = next((s for s in sprints if s.pk == cleaned["sprint"]), None)
    try:
        scope = scope_for(
            project=project,
            start=start,
            end=end,
            sprint=sprint,
            type=cleaned["type"] or None,
            default_days=DEFAULT_DAYS,
        )
    except errors.Invalid as exc:
        add_service_errors(form, exc)
        return render(request, "web/insights.html", context, status=400)
    context.update(scope=scope, sprint=sprint, **_charts(project, scope, cleaned["type"] or None))
    return render(request, "web/insights.html", context)
