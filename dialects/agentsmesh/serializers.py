"""AgentsMesh-dialect JSON (seed 002): snake_case, integer ids, `AM-42` slugs, lowercase words.

The ticket list item and the single ticket are written by dialects.agentsmesh.cards (the card
module's machinery). Their serializers here (AmTicketListItemSerializer, AmTicketSerializer and
the envelopes) only describe that JSON for the OpenAPI schema and are the ORM twin the cards are
held to in tests/dialects/test_agentsmesh_cards.py; the board's serializers still write its JSON,
and the inputs validate the writes.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from dialects.common import SecondsDateTimeField
from projects.models import Column
from punt.api.fields import id_field, id_list
from punt.api.schema import documented
from tickets.models import Ticket
from tickets.serializers import CustomFieldsField

STATUSES = Column.Category.values  # backlog, todo, in_progress, in_review, done


class AmLabelNames(serializers.ListField):
    child = serializers.CharField()

    def to_representation(self, labels: Any) -> list[str]:
        return [label.name for label in labels.all()]


class AmTicketListItemSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    slug = serializers.CharField(source="key")
    type = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField(source="column.category", help_text=f"One of {', '.join(STATUSES)}.")
    priority = serializers.CharField(help_text=f"One of {', '.join(Ticket.Priority.values)}.")
    assignee_id = serializers.IntegerField(allow_null=True)
    repository_id = serializers.IntegerField(source="project_id")
    labels = AmLabelNames()
    created_at = SecondsDateTimeField()
    updated_at = SecondsDateTimeField()


class AmTicketSerializer(AmTicketListItemSerializer):
    parent_slug = serializers.SerializerMethodField()

    def get_parent_slug(self, ticket: Ticket) -> str | None:
        # A parent lives in the same project, so its key needs no join.
        parent = ticket.parent
        return None if parent is None else f"{ticket.project.key}-{parent.number}"


class AmTicketEnvelopeSerializer(serializers.Serializer):
    ticket = AmTicketSerializer()


class AmTicketListSerializer(serializers.Serializer):
    tickets = AmTicketListItemSerializer(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class AmBoardTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    slug = serializers.CharField(source="key")
    title = serializers.CharField()
    type = serializers.CharField()
    priority = serializers.CharField()
    assignee_id = serializers.IntegerField(allow_null=True)


class AmBoardColumnSerializer(serializers.Serializer):
    status = serializers.CharField()
    tickets = AmBoardTicketSerializer(many=True)


class AmBoardInnerSerializer(serializers.Serializer):
    columns = AmBoardColumnSerializer(many=True)


class AmBoardSerializer(serializers.Serializer):
    board = AmBoardInnerSerializer()


class AmMessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class AmTicketUpdateInput(serializers.Serializer):
    title = serializers.CharField(required=False, max_length=500, help_text="1-500 characters.")
    type = documented(serializers.CharField(required=False), enum=Ticket.Type.values)
    priority = documented(serializers.CharField(required=False), enum=Ticket.Priority.values)
    status = documented(serializers.CharField(required=False), enum=STATUSES)
    assignee_id = id_field(required=False, allow_null=True)
    labels = id_list(child=serializers.CharField(max_length=50), required=False)
    parent_slug = serializers.CharField(required=False, allow_null=True, allow_blank=True)
    # Written here, read from /api/v1/: the seed's answers are exact (test_agentsmesh_conformance
    # holds every answer to the document's keys), so the tickets this dialect returns carry none.
    custom_fields = CustomFieldsField(
        required=False,
        help_text="Custom field values by key; on update only the keys sent change, null clears. "
        "Not in this dialect's answers (its shape is the document's): read them from /api/v1/.",
    )


class AmTicketCreateInput(AmTicketUpdateInput):
    type = documented(serializers.CharField(), enum=Ticket.Type.values)
    title = serializers.CharField(max_length=500, help_text="1-500 characters.")
    status = documented(
        serializers.CharField(required=False, default=Column.Category.BACKLOG, help_text="Defaults to backlog."),
        enum=STATUSES,
    )
    repository_id = id_field(
        required=False,
        allow_null=True,
        help_text="The project (repository); absent: the organization's default project.",
    )


class AmStatusInput(serializers.Serializer):
    status = documented(serializers.CharField(), enum=STATUSES)


def ticket_fields(data: dict[str, Any]) -> dict[str, Any]:
    """AgentsMesh input → the tickets service's keyword arguments (only what was given)."""
    mapping = {
        "title": "title",
        "type": "type",
        "priority": "priority",
        "status": "status",
        "assignee_id": "assignee",
        "labels": "labels",
        "parent_slug": "parent",
        "custom_fields": "custom_fields",
    }
    return {target: data[source] for source, target in mapping.items() if source in data}
