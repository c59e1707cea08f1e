"""The insights API's query parameters (checked here) and responses (documented here).

The views answer with the dicts insights/ computes, already in these shapes; the response
serializers are the OpenAPI components that describe them.
"""

from __future__ import annotations

from rest_framework import serializers

from insights.flow import PERIODS
from insights.forecast import MAX_WEEKS
from insights.scope import MAX_DAYS
from projects.models import COLUMN_CATEGORIES, Column, Project, Sprint
from punt.api.fields import id_field
from punt.api.schema import documented
from punt.errors import NotFound
from tickets.models import TICKET_TYPES, Ticket
from tickets.pql.syntax import MAX_QUERY_LENGTH
from tickets.selectors import ticket_lookup_filter

DEFAULT_WEEKS = 8
MAX_SPRINTS = 52
DEFAULT_SPRINTS = 6


# --------------------------------------------------------------------------- query parameters


# Filters every insight takes. Needs `project` in its context (sprints and epics are looked up there).
# (Comments, not docstrings, on base classes: drf-spectacular would show them in the schema.)
class _QuerySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=Ticket.Type.choices, required=False, help_text="Only tickets of this type.")
    q = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=True,
        max_length=MAX_QUERY_LENGTH,
        help_text="A PQL filter, as the card list's `q` (its ORDER BY is ignored).",
    )

    def project(self) -> Project:
        project: Project = self.context["project"]
        return project


class _SprintQuerySerializer(_QuerySerializer):
    sprint = id_field(required=False, help_text="A sprint's id: only its tickets.")

    def validate_sprint(self, value: int) -> Sprint:
        sprint = Sprint.objects.filter(project=self.project(), pk=value).first()
        if sprint is None:
            raise serializers.ValidationError("No such sprint in this project.")
        return sprint


# `from` and `to` are Python keywords, so the fields are declared in get_fields(). The range's
# rules (not backwards, at most MAX_DAYS days) are insights.scope's.
class RangeQuerySerializer(_SprintQuerySerializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField(
            required=False,
            help_text=f"First day (inclusive; at most {MAX_DAYS} days up to `to`). "
            "Default: 90 days up to `to`, or the sprint's start.",
        )
        fields["to"] = serializers.DateField(
            required=False, help_text="Last day (inclusive). Default: today, or the sprint's end."
        )
        return fields


class CumulativeFlowQuerySerializer(RangeQuerySerializer):
    pass


class CycleTimeQuerySerializer(RangeQuerySerializer):
    pass


class ThroughputQuerySerializer(RangeQuerySerializer):
    period = serializers.ChoiceField(
        choices=list(PERIODS), required=False, default="week", help_text="Weeks (starting on Monday) or days."
    )


class VelocityQuerySerializer(_QuerySerializer):
    sprints = serializers.IntegerField(
        min_value=1,
        max_value=MAX_SPRINTS,
        required=False,
        default=DEFAULT_SPRINTS,
        help_text="How many of the latest active or closed sprints.",
    )


class ForecastQuerySerializer(_SprintQuerySerializer):
    epic = serializers.CharField(
        required=False,
        max_length=30,
        help_text='An epic (or any ticket) by id or key like "BLOG-7": forecast its sub-tickets.',
    )
    weeks = serializers.IntegerField(
        min_value=1,
        max_value=MAX_WEEKS,
        required=False,
        default=DEFAULT_WEEKS,
        help_text="How many weeks of past throughput to sample.",
    )

    def validate_epic(self, value: str) -> Ticket:
        project = self.project()
        missing = serializers.ValidationError(f'No ticket "{value}" in this project.')
        try:
            lookup = ticket_lookup_filter(value, project)
        except NotFound:  # neither an id nor this project's key
            raise missing from None
        epic = Ticket.objects.filter(project=project, deleted_at__isnull=True).filter(lookup).first()
        if epic is None:
            raise missing
        return epic


class AgingWipQuerySerializer(_SprintQuerySerializer):
    pass


# --------------------------------------------------------------------------- responses


# Adds the range's `from` and `to` (Python keywords: declared in get_fields()).
class _RangeSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateField(help_text="First day (inclusive).")
        fields["to"] = serializers.DateField(help_text="Last day (inclusive).")
        return fields


class CategoryCountsSerializer(serializers.Serializer):
    backlog = serializers.IntegerField()
    todo = serializers.IntegerField()
    in_progress = serializers.IntegerField()
    in_review = serializers.IntegerField()
    done = serializers.IntegerField()


class CumulativeFlowDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    counts = CategoryCountsSerializer(help_text="Tickets in each column category at the end of the day.")


class CumulativeFlowSerializer(_RangeSerializer):
    categories = serializers.ListField(
        child=documented(serializers.CharField(), enum=COLUMN_CATEGORIES), help_text="The categories, board order."
    )
    days = CumulativeFlowDaySerializer(many=True)


class TicketTimeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    type = documented(serializers.CharField(), enum=TICKET_TYPES)
    estimate = serializers.IntegerField(allow_null=True, help_text="Story points.")
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(
        allow_null=True, help_text="First entry into a started column after its last reopening; null if never started."
    )
    done_at = serializers.DateTimeField(help_text="Its last entry into a done column.")
    lead_days = serializers.FloatField(help_text="Created to done, in days.")
    cycle_days = serializers.FloatField(allow_null=True, help_text="Started to done, in days.")


class PercentilesSerializer(serializers.Serializer):
    p50 = serializers.FloatField(allow_null=True)
    p85 = serializers.FloatField(allow_null=True)
    p95 = serializers.FloatField(allow_null=True)


class TimeStatsSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    cycle = PercentilesSerializer(help_text="Cycle time percentiles in days (nearest rank).")
    lead = PercentilesSerializer(help_text="Lead time percentiles in days (nearest rank).")


class TimePercentilesSerializer(serializers.Serializer):
    all = TimeStatsSerializer()
    by_type = serializers.DictField(child=TimeStatsSerializer(), help_text="By ticket type.")


class CycleTimeSerializer(_RangeSerializer):
    tickets = TicketTimeSerializer(many=True, help_text="Tickets done in the range, oldest completion first.")
    percentiles = TimePercentilesSerializer()


class ThroughputPeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    tickets = serializers.IntegerField(help_text="Tickets done in the period.")
    points = serializers.IntegerField(help_text="Their story points.")


class ThroughputSerializer(_RangeSerializer):
    period = serializers.ChoiceField(choices=PERIODS)
    periods = ThroughputPeriodSerializer(many=True)


class VelocitySprintSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=Sprint.Status.choices)
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    committed_points = serializers.IntegerField()
    completed_points = serializers.IntegerField()
    completed_tickets = serializers.IntegerField()
    carried_over = serializers.IntegerField(help_text="Tickets left open when the sprint closed.")


class VelocitySerializer(serializers.Serializer):
    sprints = VelocitySprintSerializer(many=True, help_text="The latest active or closed sprints, oldest first.")
    average_points = serializers.FloatField()


class ForecastDatesSerializer(serializers.Serializer):
    """The day by which the remaining tickets are done, per confidence level in percent."""

    # Keys that are not Python names: declared here.
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        for confidence in ("50", "85", "95"):
            fields[confidence] = serializers.DateField(
                allow_null=True,
                help_text=f"Done by this day with {confidence}% confidence; null: no throughput to forecast from.",
            )
        return fields


class ForecastSerializer(serializers.Serializer):
    remaining = serializers.IntegerField(help_text="Open tickets among those chosen.")
    weeks = serializers.IntegerField(help_text="Weeks of past throughput sampled.")
    sample_days = serializers.IntegerField()
    dates = ForecastDatesSerializer()
    sentence = serializers.CharField()


class AgingColumnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=Column.Category.choices)


class AgingTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    column = AgingColumnSerializer()
    started_at = serializers.DateTimeField(
        allow_null=True, help_text="Null when its history does not say (from before it was kept): aged from creation."
    )
    age_days = serializers.FloatField(help_text="Days since it started.")
    over = serializers.BooleanField(help_text="Older than the 85th percentile cycle time.")


class AgingWipSerializer(serializers.Serializer):
    p85_days = serializers.FloatField(
        allow_null=True, help_text="The 85th percentile cycle time of the last 90 days; null without data."
    )
    tickets = AgingTicketSerializer(many=True, help_text="Tickets in progress now, oldest first.")
