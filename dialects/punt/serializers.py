"""PUNT-dialect JSON (seeds 000, 001): camelCase, string ids, capitalised enum words, ms timestamps.

Output serializers read what the selectors loaded; input serializers only check shapes and
translate words (the services own every rule).
"""

from __future__ import annotations

from typing import Any

from django.utils.dateparse import parse_date
from rest_framework import serializers

from accounts.models import CONTENT_TYPE_INPUT_PATTERN, UPLOAD_BYTES_MAX, UPLOAD_BYTES_MIN, SystemSettings
from dialects.common import IdString, MillisDateTimeField
from projects.models import Membership, Sprint
from projects.serializers import project_slug_field
from punt.api.fields import id_list, model_integer
from punt.api.schema import HEX_COLOR_PATTERN, documented
from tickets.custom_field_selectors import custom_values_of
from tickets.models import Ticket
from tickets.serializers import CustomFieldsField

# PUNT writes enum words capitalised ("Task", "Medium"); the model stores the lowercase values.
TYPE_WORDS = {value: label for value, label in Ticket.Type.choices}
PRIORITY_WORDS = {value: label for value, label in Ticket.Priority.choices}
# What PUNT's ticket input accepts: its words or the stored values.
TYPE_INPUT = [*TYPE_WORDS.values(), *TYPE_WORDS]
PRIORITY_INPUT = [*PRIORITY_WORDS.values(), *PRIORITY_WORDS]
# PUNT's ids are strings of digits.
ID = r"^[0-9]{1,18}$"
MEMBER_ROLES = Membership.Role.values
# PUNT's sprint states.
SPRINT_WORDS: dict[str, str] = {
    Sprint.Status.PLANNED: "planning",
    Sprint.Status.ACTIVE: "active",
    Sprint.Status.CLOSED: "completed",
}


def word_in(value: Any, words: dict[str, str]) -> Any:
    """The stored value for a PUNT word ("Task" or "task" → "task"); unknown words pass through
    unchanged so the service reports them in its own words."""
    text = str(value).strip()
    for stored, label in words.items():
        if text.lower() in (stored, label.lower()):
            return stored
    return text


class WordField(serializers.CharField):
    """A stored enum value shown as PUNT's word."""

    def __init__(self, words: dict[str, str], **kwargs: Any) -> None:
        self.words = words
        kwargs.setdefault("help_text", f"One of {', '.join(words.values())}.")
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str:
        return self.words.get(value, str(value))


def parse_day(value: Any, field: str) -> Any:
    """A date from "2024-01-15" or a timestamp "2024-01-15T00:00:00.000Z"; None clears."""
    if value in (None, ""):
        return None
    try:
        day = parse_date(str(value)[:10])
    except ValueError:  # well formed but no such day: 2024-02-30
        day = None
    if day is None:
        raise serializers.ValidationError({field: ["Use a date like 2024-01-15."]})
    return day


# --------------------------------------------------------------------------- users


class PuntUserSerializer(serializers.Serializer):
    id = IdString(source="pk")
    username = serializers.CharField()
    name = serializers.CharField()
    avatar = serializers.SerializerMethodField()

    def get_avatar(self, user: Any) -> str | None:
        return user.avatar.url if user.avatar else None


# --------------------------------------------------------------------------- projects


class PuntProjectSerializer(serializers.Serializer):
    id = IdString(source="pk")
    name = serializers.CharField()
    key = serializers.CharField()
    description = serializers.CharField()
    color = serializers.CharField()
    createdAt = MillisDateTimeField(source="created_at")
    updatedAt = MillisDateTimeField(source="updated_at")


class PuntProjectCreateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, error_messages={"required": "Name is required"})
    key = serializers.CharField(max_length=10, error_messages={"required": "Key is required"})
    description = serializers.CharField(required=False, allow_blank=True, default="")
    color = documented(
        serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None),
        pattern=HEX_COLOR_PATTERN,
    )
    # Not in seed 001's table: a client whose lowercased key is some project's slug needs it.
    slug = project_slug_field(default="")


class PuntProjectUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    color = documented(serializers.CharField(required=False), pattern=HEX_COLOR_PATTERN)
    key = serializers.CharField(required=False, help_text="Cannot change: a different key is refused.")


class PuntSuccessSerializer(serializers.Serializer):
    success = serializers.BooleanField()


class PuntColumnSerializer(serializers.Serializer):
    id = IdString(source="pk")
    name = serializers.CharField()
    order = serializers.IntegerField()


class PuntMemberSerializer(serializers.Serializer):
    id = IdString(source="pk")
    userId = IdString(source="user_id")
    projectId = IdString(source="project_id")
    role = serializers.CharField()
    user = PuntUserSerializer()


class PuntMemberInput(serializers.Serializer):
    userId = serializers.CharField(required=False, help_text="The user's id (or give username).")
    username = serializers.CharField(required=False)
    role = documented(
        serializers.CharField(required=False, help_text="admin, member or viewer (default: member)."), enum=MEMBER_ROLES
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("userId") and not attrs.get("username"):
            raise serializers.ValidationError({"userId": ["userId or username is required"]})
        return attrs


class PuntMemberRoleInput(serializers.Serializer):
    role = documented(serializers.CharField(error_messages={"required": "Role is required"}), enum=MEMBER_ROLES)


class PuntLabelSerializer(serializers.Serializer):
    id = IdString(source="pk")
    name = serializers.CharField()
    color = serializers.CharField()


class PuntLabelInput(serializers.Serializer):
    name = serializers.CharField(max_length=50, error_messages={"required": "Name is required"})
    color = documented(
        serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None),
        pattern=HEX_COLOR_PATTERN,
    )


# --------------------------------------------------------------------------- tickets


class PuntCustomFields(CustomFieldsField):
    """The ticket's custom field values (issue 21), {key: value}: from the view's context
    (`custom_fields`: {ticket id: values}, read for a whole list at once), else one query."""

    def get_attribute(self, instance: Ticket) -> Any:
        return instance

    def to_representation(self, ticket: Any) -> dict[str, Any]:
        known = self.context.get("custom_fields")
        return known.get(ticket.pk, {}) if known is not None else custom_values_of(ticket.pk)


class PuntTicketSerializer(serializers.Serializer):
    id = IdString(source="pk")
    projectId = IdString(source="project_id")
    number = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(source="body")
    type = WordField(TYPE_WORDS)
    priority = WordField(PRIORITY_WORDS)
    status = serializers.CharField(source="column.category", help_text="The column's category.")
    columnId = IdString(source="column_id")
    assigneeId = IdString(source="assignee_id", allow_null=True)
    assignee = PuntUserSerializer(allow_null=True)
    creatorId = IdString(source="reporter_id", allow_null=True)
    creator = PuntUserSerializer(source="reporter", allow_null=True)
    sprintId = IdString(source="sprint_id", allow_null=True)
    parentId = IdString(source="parent_id", allow_null=True)
    labels = PuntLabelSerializer(many=True, source="labels.all")
    storyPoints = serializers.IntegerField(source="estimate", allow_null=True)
    dueDate = MillisDateTimeField(source="due_date", allow_null=True)
    resolvedAt = MillisDateTimeField(source="closed_at", allow_null=True)
    createdAt = MillisDateTimeField(source="created_at")
    updatedAt = MillisDateTimeField(source="updated_at")
    custom_fields = PuntCustomFields()


class PuntTicketInput(serializers.Serializer):
    title = serializers.CharField(max_length=500, error_messages={"required": "Title is required"})
    description = serializers.CharField(required=False, allow_blank=True, allow_null=True, trim_whitespace=False)
    type = documented(serializers.CharField(required=False), enum=TYPE_INPUT)
    priority = documented(serializers.CharField(required=False), enum=PRIORITY_INPUT)
    columnId = documented(serializers.CharField(required=False, allow_null=True), pattern=ID)
    assigneeId = documented(serializers.CharField(required=False, allow_null=True, allow_blank=True), pattern=ID)
    sprintId = documented(serializers.CharField(required=False, allow_null=True, allow_blank=True), pattern=ID)
    parentId = documented(serializers.CharField(required=False, allow_null=True, allow_blank=True), pattern=ID)
    labelIds = id_list(child=documented(serializers.CharField(), pattern=ID), required=False)
    storyPoints = model_integer(Ticket, "estimate", required=False, allow_null=True)
    dueDate = documented(serializers.CharField(required=False, allow_null=True, allow_blank=True), format="date")
    custom_fields = CustomFieldsField(
        required=False, help_text="Custom field values by key; on update only the keys sent change, null clears."
    )


class PuntTicketUpdateInput(PuntTicketInput):
    title = serializers.CharField(max_length=500, required=False)
    force = serializers.BooleanField(
        required=False, default=False, help_text="With columnId: exceed a WIP limit; close a blocked ticket."
    )


def ticket_fields(data: dict[str, Any]) -> dict[str, Any]:
    """PUNT ticket input → the tickets service's keyword arguments (only what was given)."""
    mapping = {
        "title": "title",
        "description": "body",
        "assigneeId": "assignee",
        "sprintId": "sprint",
        "parentId": "parent",
        "labelIds": "labels",
        "storyPoints": "estimate",
        "custom_fields": "custom_fields",
    }
    fields = {target: data[source] for source, target in mapping.items() if source in data}
    if "body" in fields and fields["body"] is None:
        fields["body"] = ""
    if "type" in data:
        fields["type"] = word_in(data["type"], TYPE_WORDS)
    if "priority" in data:
        fields["priority"] = word_in(data["priority"], PRIORITY_WORDS)
    if "dueDate" in data:
        fields["due_date"] = parse_day(data["dueDate"], "dueDate")
    return fields


# --------------------------------------------------------------------------- sprints


class PuntSprintSerializer(serializers.Serializer):
    id = IdString(source="pk")
    projectId = IdString(source="project_id")
    name = serializers.CharField()
    goal = serializers.CharField()
    status = WordField(SPRINT_WORDS)
    startDate = MillisDateTimeField(source="start_date", allow_null=True)
    endDate = MillisDateTimeField(source="end_date", allow_null=True)
    completedAt = MillisDateTimeField(source="completed_at", allow_null=True)
    ticketCount = serializers.IntegerField(source="ticket_count")
    createdAt = MillisDateTimeField(source="created_at")


class PuntSprintInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, error_messages={"required": "Name is required"})
    goal = serializers.CharField(required=False, allow_blank=True)
    startDate = documented(serializers.CharField(required=False, allow_null=True, allow_blank=True), format="date")
    endDate = documented(serializers.CharField(required=False, allow_null=True, allow_blank=True), format="date")


class PuntSprintUpdateInput(PuntSprintInput):
    name = serializers.CharField(max_length=100, required=False)


def sprint_fields(data: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {key: data[key] for key in ("name", "goal") if key in data}
    if "startDate" in data:
        fields["start_date"] = parse_day(data["startDate"], "startDate")
    if "endDate" in data:
        fields["end_date"] = parse_day(data["endDate"], "endDate")
    return fields


class PuntSprintCompleteInput(serializers.Serializer):
    moveToSprintId = documented(serializers.CharField(required=False, allow_null=True, allow_blank=True), pattern=ID)


class PuntSprintCompleteSerializer(serializers.Serializer):
    sprint = PuntSprintSerializer()
    movedTickets = serializers.IntegerField(source="moved")
    moveToSprintId = IdString(source="move_to_sprint_id", allow_null=True)


# --------------------------------------------------------------------------- admin


class PuntAdminUserSerializer(serializers.Serializer):
    id = IdString(source="pk")
    username = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField()
    avatar = serializers.SerializerMethodField()
    isSystemAdmin = serializers.BooleanField(source="is_staff")
    isActive = serializers.BooleanField(source="is_active")
    roles = serializers.ListField(child=serializers.CharField())
    lastLoginAt = MillisDateTimeField(source="last_login", allow_null=True)
    createdAt = MillisDateTimeField(source="date_joined")

    def get_avatar(self, user: Any) -> str | None:
        return user.avatar.url if user.avatar else None


class PuntAdminUserCreateInput(serializers.Serializer):
    username = serializers.CharField(max_length=150, error_messages={"required": "Username is required"})
    email = serializers.CharField(required=False, allow_blank=True, default="")
    password = serializers.CharField(error_messages={"required": "Password is required"})
    name = serializers.CharField(required=False, allow_blank=True, default="")
    isSystemAdmin = serializers.BooleanField(required=False, default=False)
    isActive = serializers.BooleanField(required=False, default=True)


class PuntAdminUserUpdateInput(serializers.Serializer):
    email = serializers.CharField(required=False, allow_blank=True)
    name = serializers.CharField(required=False, allow_blank=True)
    password = serializers.CharField(required=False)
    isSystemAdmin = serializers.BooleanField(required=False)
    isActive = serializers.BooleanField(required=False)


class PuntSettingsSerializer(serializers.Serializer):
    siteName = serializers.CharField(source="site_name")
    registrationOpen = serializers.BooleanField(source="registration_open")
    maxUploadSize = serializers.IntegerField(source="max_upload_bytes")
    allowedFileTypes = serializers.ListField(child=serializers.CharField(), source="allowed_upload_types")
    defaultMemberRole = serializers.CharField(source="default_member_role")
    webhooksAllowPrivate = serializers.BooleanField(source="webhooks_allow_private")
    updatedAt = MillisDateTimeField(source="updated_at", allow_null=True)


class PuntSettingsInput(serializers.Serializer):
    siteName = serializers.CharField(required=False)
    registrationOpen = serializers.BooleanField(required=False)
    maxUploadSize = documented(
        serializers.IntegerField(required=False), type="integer", minimum=UPLOAD_BYTES_MIN, maximum=UPLOAD_BYTES_MAX
    )
    allowedFileTypes = serializers.ListField(
        child=documented(serializers.CharField(), pattern=CONTENT_TYPE_INPUT_PATTERN), required=False
    )
    defaultMemberRole = documented(serializers.CharField(required=False), enum=SystemSettings.MemberRole.values)
    webhooksAllowPrivate = serializers.BooleanField(required=False)

    FIELDS = {
        "siteName": "site_name",
        "registrationOpen": "registration_open",
        "maxUploadSize": "max_upload_bytes",
        "allowedFileTypes": "allowed_upload_types",
        "defaultMemberRole": "default_member_role",
        "webhooksAllowPrivate": "webhooks_allow_private",
    }


# --------------------------------------------------------------------------- upload


class PuntUploadConfigSerializer(serializers.Serializer):
    maxSize = serializers.IntegerField(help_text="Largest file accepted, in bytes.")
    allowedTypes = serializers.ListField(
        child=serializers.CharField(), help_text='Content types accepted ("image/*" matches a family); empty: any.'
    )
    maxImagePixels = serializers.IntegerField()


class PuntUploadInput(serializers.Serializer):
    file = serializers.FileField()
    projectId = serializers.CharField(help_text="The project's id or key.")
    ticketId = serializers.CharField(help_text='The ticket\'s id or key ("BLOG-42").')


class PuntUploadSerializer(serializers.Serializer):
    id = IdString(source="pk")
    ticketId = IdString(source="ticket_id")
    filename = serializers.CharField()
    mimetype = serializers.CharField(source="content_type")
    size = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    url = serializers.SerializerMethodField()
    createdAt = MillisDateTimeField(source="created_at")

    def get_url(self, attachment: Any) -> str:
        return f"/api/v1/projects/{self.context['project'].slug}/attachments/{attachment.pk}/download"
