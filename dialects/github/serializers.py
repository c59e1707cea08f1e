"""GitHub-v3-style JSON (seed 003): hypermedia URLs built from the request, opened/closed states,
people as {username, url}, timeline events of four types.

Every serializer needs `request` in its context (absolute URLs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rest_framework import serializers

from dialects.common import SecondsDateTimeField, iso_seconds
from projects.models import Project
from punt.api.fields import TextOnlyField, id_list
from punt.api.schema import documented
from tickets.models import Event, Ticket
from tickets.serializers import CustomFieldsField
from tickets.services import ticket_html_url

API = "/api/v3"


def absolute(context: Mapping[str, Any], path: str) -> str:
    return context["request"].build_absolute_uri(path)


def project_api_path(project: Project) -> str:
    return f"{API}/projects/{project.namespace}/{project.path}"


def ticket_api_path(project: Project, number: int) -> str:
    return f"{project_api_path(project)}/tickets/{number}"


def person(context: Mapping[str, Any], user: Any) -> dict[str, str] | None:
    if user is None:
        return None
    return {"username": user.username, "url": absolute(context, f"{API}/users/{user.username}")}


class GhPersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    url = serializers.URLField()


class GhUserSerializer(GhPersonSerializer):
    projects_url = serializers.URLField()


class GhProjectSerializer(serializers.Serializer):
    url = serializers.URLField()
    html_url = serializers.URLField()
    owner_url = serializers.URLField()
    tickets_url = serializers.URLField()
    name = serializers.CharField(help_text="The project's URL name (its path).")
    state = serializers.CharField(help_text="opened, or closed when archived.")
    created_at = SecondsDateTimeField()
    owner = GhPersonSerializer()

    def to_representation(self, project: Project) -> dict[str, Any]:
        api = project_api_path(project)
        owner_url = absolute(self.context, f"{API}/users/{project.namespace}")
        return {
            "url": absolute(self.context, api),
            "html_url": absolute(self.context, f"/projects/{project.namespace}/{project.path}"),
            "owner_url": owner_url,
            "tickets_url": absolute(self.context, f"{api}/tickets"),
            "name": project.path,
            "state": "closed" if project.archived_at else "opened",
            "created_at": iso_seconds(project.created_at),
            "owner": {"username": project.namespace, "url": owner_url},
        }


class GhTicketSerializer(serializers.Serializer):
    url = serializers.URLField()
    html_url = serializers.URLField()
    comments_url = serializers.URLField()
    events_url = serializers.URLField()
    number = serializers.IntegerField()
    id = serializers.IntegerField()
    title = serializers.CharField()
    state = serializers.CharField(help_text="opened or closed.")
    body = serializers.CharField()
    created_at = SecondsDateTimeField()
    last_updated_at = SecondsDateTimeField()
    last_closed_at = SecondsDateTimeField(allow_null=True)
    author = GhPersonSerializer(allow_null=True)
    last_updated_by = GhPersonSerializer(allow_null=True)
    last_closed_by = GhPersonSerializer(allow_null=True)

    def to_representation(self, ticket: Ticket) -> dict[str, Any]:
        # The view's project has its namespace loaded; ticket.project may not.
        project = self.context.get("project") or ticket.project
        api = ticket_api_path(project, ticket.number)
        return {
            "url": absolute(self.context, api),
            "html_url": absolute(self.context, ticket_html_url(project, ticket.number)),
            "comments_url": absolute(self.context, f"{api}/comments"),
            "events_url": absolute(self.context, f"{api}/events"),
            "number": ticket.number,
            "id": ticket.pk,
            "title": ticket.title,
            "state": ticket.state,
            "body": ticket.body,
            "created_at": iso_seconds(ticket.created_at),
            "last_updated_at": iso_seconds(ticket.updated_at),
            "last_closed_at": iso_seconds(ticket.closed_at),
            "author": person(self.context, ticket.reporter),
            "last_updated_by": person(self.context, ticket.updated_by),
            "last_closed_by": person(self.context, ticket.closed_by),
        }


def mention_text(event: Event, project: Project) -> str:
    """What a mention names, as seed 003 writes it: `#14` for a ticket of the same project, `KEY-14`
    for one in another, however the text referred to it ("BLOG-14" in BLOG's own tickets is `#14`);
    `@user` as written. The referenced ticket is in the event's data (project keys never change)."""
    referenced = event.data.get("ticket") if isinstance(event.data, dict) else None
    key = referenced.get("key") if isinstance(referenced, dict) else None
    if not isinstance(key, str):
        return event.text
    prefix, _, number = key.rpartition("-")
    return f"#{number}" if prefix == project.key and number.isdigit() else key


class GhEventSerializer(serializers.Serializer):
    """One timeline entry. Comments add last_updated_at; mentions carry no author (seed 003)."""

    url = serializers.URLField()
    html_url = serializers.URLField()
    ticket_url = serializers.URLField()
    id = serializers.IntegerField()
    text = serializers.CharField(help_text="Comment text, the action verb, what was mentioned, or the old/new values.")
    type = serializers.CharField(help_text="comment, mention, action or update.")
    created_at = SecondsDateTimeField()
    last_updated_at = SecondsDateTimeField(required=False, help_text="Comments only.")
    author = GhPersonSerializer(required=False, help_text="Not on mentions.")

    def to_representation(self, event: Event) -> dict[str, Any]:
        ticket = self.context["ticket"]
        project = self.context.get("project") or ticket.project
        ticket_api = ticket_api_path(project, ticket.number)
        # Seed 003 gives a comment its own top-level URL; other events live under the ticket.
        is_comment = event.kind == Event.Kind.COMMENT
        url = f"{API}/comments/{event.pk}" if is_comment else f"{ticket_api}/events/{event.pk}"
        body: dict[str, Any] = {
            "url": absolute(self.context, url),
            "html_url": absolute(self.context, f"{ticket_html_url(project, ticket.number)}#{event.pk}"),
            "ticket_url": absolute(self.context, ticket_api),
            "id": event.pk,
            "text": mention_text(event, project) if event.kind == Event.Kind.MENTION else event.text,
            "type": event.kind,
            "created_at": iso_seconds(event.created_at),
        }
        if event.kind == Event.Kind.COMMENT:
            body["last_updated_at"] = iso_seconds(event.updated_at)
        if event.kind != Event.Kind.MENTION:
            body["author"] = person(self.context, event.author)
        return body


class GhTicketCreateInput(serializers.Serializer):
    # Text fields take JSON strings only (DRF's CharField turns 42 into "42"; the schema says string).
    title = TextOnlyField(max_length=500)
    body = TextOnlyField(required=False, allow_blank=True, trim_whitespace=False)
    type = documented(serializers.CharField(required=False), enum=Ticket.Type.values)
    priority = documented(serializers.CharField(required=False), enum=Ticket.Priority.values)
    assignee = serializers.CharField(required=False, allow_null=True, allow_blank=True, help_text="A member's name.")
    labels = id_list(child=serializers.CharField(max_length=50), required=False)
    # Written here, read from /api/v1/: the seed's ticket is exact (test_github_conformance holds
    # every answer to the document's keys), so the tickets this dialect returns carry none.
    custom_fields = CustomFieldsField(
        required=False,
        help_text="Custom field values by key; on update only the keys sent change, null clears. "
        "Not in this dialect's answers (its shape is the document's): read them from /api/v1/.",
    )


class GhTicketUpdateInput(GhTicketCreateInput):
    title = TextOnlyField(max_length=500, required=False)
    state = documented(
        serializers.CharField(required=False, help_text="opened (or open) reopens, closed closes."),
        enum=[*Ticket.State.values, "open"],
    )

    def validate_state(self, value: str) -> str:
        value = value.strip().lower()
        if value == "open":
            value = Ticket.State.OPENED
        if value not in Ticket.State.values:
            raise serializers.ValidationError("Use opened or closed.")
        return value


class GhCommentInput(serializers.Serializer):
    body = TextOnlyField(max_length=50_000)
