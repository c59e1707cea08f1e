"""Ticket JSON in (validation) and out (representation), kept apart.

Output serializers read only what the selectors loaded: no queries per row.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from accounts.serializers import UserBriefSerializer
from projects.models import Column, Project
from tickets.models import Attachment, GitLink, Ticket

# --------------------------------------------------------------------------- output


class LabelBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField()


class SprintBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TicketBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class CardCompactSerializer(serializers.Serializer):
    """A card as the board draws it."""

    id = serializers.IntegerField()
    key = serializers.CharField()
    number = serializers.IntegerField()
    title = serializers.CharField()
    type = serializers.CharField()
    status = serializers.CharField(source="column.category")
    state = serializers.CharField()
    column_id = serializers.IntegerField()
    position = serializers.IntegerField(source="rank")
    priority = serializers.CharField()
    assignee = UserBriefSerializer(allow_null=True)
    labels = LabelBriefSerializer(many=True, source="labels.all")
    sprint = SprintBriefSerializer(allow_null=True)
    parent = serializers.SerializerMethodField()
    due_date = serializers.DateField(allow_null=True)
    estimate = serializers.IntegerField(allow_null=True)
    checklist = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(TicketBriefSerializer(allow_null=True))
    def get_parent(self, ticket: Ticket) -> dict[str, Any] | None:
        parent = ticket.parent
        if parent is None:
            return None
        # A parent is always in the same project, so its key needs no join.
        return {"id": parent.pk, "key": f"{ticket.project.key}-{parent.number}", "title": parent.title}

    @extend_schema_field(ProgressSerializer)
    def get_checklist(self, ticket: Ticket) -> dict[str, int]:
        return {"done": getattr(ticket, "checklist_done", 0), "total": getattr(ticket, "checklist_total", 0)}


class CardSerializer(CardCompactSerializer):
    """A card in lists and in responses to writes."""

    body = serializers.CharField()
    body_html = serializers.CharField()
    reporter = UserBriefSerializer(allow_null=True)


class DeletedCardSerializer(CardSerializer):
    deleted_at = serializers.DateTimeField()
    deleted_by = UserBriefSerializer(allow_null=True)


# --------------------------------------------------------------------------- fast card lists


NO_OFFSET = timedelta(0)


def _iso_datetime(value: datetime | None, zone: Any) -> str | None:
    """What DRF's DateTimeField writes: ISO 8601 in the current time zone, UTC as "Z"."""
    if not value:
        return None
    # The database hands back UTC (psycopg as its own UTC zone object): nothing to convert to UTC.
    if value.tzinfo is not zone and not (zone is UTC and value.utcoffset() == NO_OFFSET):
        value = value.astimezone(zone) if timezone.is_aware(value) else timezone.make_aware(value, zone)
    text = value.isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _iso_datetime_text(text: str | None, zone: Any) -> str | None:
    """_iso_datetime() of a timestamp as SQLite stores it: UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]"."""
    if not text:
        return None
    if zone is UTC and len(text) in (19, 26) and text[10] == " ":
        # Python's isoformat() of the same instant: the same digits, "T" and "Z" around them.
        return f"{text[:10]}T{text[11:]}Z"
    parsed = parse_datetime(text)
    return _iso_datetime(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC), zone)


def _dates(
    due_date: Any, created_at: Any, updated_at: Any, closed_at: Any, zone: Any
) -> tuple[str | None, str | None, str | None, str | None]:
    """A card row's dates as the JSON writes them: objects, or SQLite's stored text."""
    if isinstance(created_at, str):
        return (
            due_date or None,  # a date is stored as its ISO text
            _iso_datetime_text(created_at, zone),
            _iso_datetime_text(updated_at, zone),
            _iso_datetime_text(closed_at, zone),
        )
    return (
        _iso_date(due_date),
        _iso_datetime(created_at, zone),
        _iso_datetime(updated_at, zone),
        _iso_datetime(closed_at, zone),
    )


def _iso_date(value: date | None) -> str | None:
    return value.isoformat() if value else None


_AVATAR_STORAGE = User._meta.get_field("avatar").storage


class _People:
    """UserBriefSerializer's output per person, computed once per person of the page.

    Written out (tests/tickets/test_card_payloads.py holds it to the serializer): DRF's field
    machinery, and even a User instance per person, cost more than the rest of a person's
    part of a page.
    """

    def __init__(self) -> None:
        self.seen: dict[int, dict[str, Any]] = {}

    def __call__(self, user_id: int | None, username: str, display_name: str, avatar: str) -> dict[str, Any] | None:
        if user_id is None:
            return None
        brief = self.seen.get(user_id)
        if brief is None:
            # User.name and avatar_url(), from the row's columns.
            url = _AVATAR_STORAGE.url(avatar) if avatar else None
            brief = {"id": user_id, "username": username, "name": display_name or username, "avatar": url}
            self.seen[user_id] = brief
        return brief


def card_payloads(
    rows: Iterable[tuple[Any, ...]],
    *,
    project: Project,
    labels: dict[int, list[dict[str, Any]]],
    full: bool = False,
) -> list[dict[str, Any]]:
    """Cards as CardCompactSerializer (or CardSerializer with `full`) writes them, from plain rows.

    `rows` come from selectors.card_rows() (or card_row()), `labels` from
    selectors.card_labels(); the output is the same JSON, key for key
    (tests/tickets/test_card_payloads.py holds them together), built without DRF's per-field
    machinery, which costs ~0.3 ms a card.
    """
    zone = timezone.get_current_timezone()
    if getattr(zone, "key", None) == "UTC":
        zone = UTC
    person = _People()  # one dict per person, shared by both roles
    key_prefix = f"{project.key}-"
    # Equal small objects are shared between cards (the JSON is the same): a board is
    # thousands of allocations fewer, and the garbage collector has that much less to walk.
    sprints: dict[int, dict[str, Any]] = {}
    progress: dict[tuple[int, int], dict[str, int]] = {}
    cards = []
    for row in rows:
        # fmt: off
        (
            card_id, number, title, type_, category, state, column_id, rank, priority,
            assignee_id, assignee_username, assignee_display_name, assignee_avatar,
            sprint_id, sprint_name, parent_id, parent_number, parent_title, estimate,
            due_date, created_at, updated_at, closed_at, checklist_done, checklist_total,
        ) = row[:CARD_COMPACT_WIDTH]
        # fmt: on
        sprint = None
        if sprint_id is not None:
            sprint = sprints.get(sprint_id)
            if sprint is None:
                sprint = sprints[sprint_id] = {"id": sprint_id, "name": sprint_name}
        checklist = progress.get((checklist_done, checklist_total))
        if checklist is None:
            checklist = progress[checklist_done, checklist_total] = {"done": checklist_done, "total": checklist_total}
        due_date, created_at, updated_at, closed_at = _dates(due_date, created_at, updated_at, closed_at, zone)
        card = {
            "id": card_id,
            "key": f"{key_prefix}{number}",
            "number": number,
            "title": title,
            "type": type_,
            "status": category,
            "state": state,
            "column_id": column_id,
            "position": rank,
            "priority": priority,
            "assignee": person(assignee_id, assignee_username, assignee_display_name, assignee_avatar),
            "labels": labels.get(card_id, []),
            "sprint": sprint,
            "parent": None
            if parent_id is None
            else {"id": parent_id, "key": f"{key_prefix}{parent_number}", "title": parent_title},
            "due_date": due_date,
            "estimate": estimate,
            "checklist": checklist,
            "created_at": created_at,
            "updated_at": updated_at,
            "closed_at": closed_at,
        }
        if full:
            card["body"], card["body_html"], *reporter = row[CARD_COMPACT_WIDTH:]
            card["reporter"] = person(*reporter)
        cards.append(card)
    return cards


# Columns of a compact card row (selectors.card_rows); a full row has six more.
CARD_COMPACT_WIDTH = 25
FULL_ONLY_FIELDS = ("body", "body_html", "reporter")


def compact_card(card: dict[str, Any]) -> dict[str, Any]:
    """A full card (CardSerializer) cut down to the compact card (CardCompactSerializer)."""
    return {name: value for name, value in card.items() if name not in FULL_ONLY_FIELDS}


def new_card_detail(card: dict[str, Any], *, user_id: int | None) -> dict[str, Any]:
    """CardDetailSerializer's JSON of a ticket this request just created, from its full card.

    A new ticket has no sub-tasks, comments, attachments or links yet, and ticket_create
    made its reporter and assignee its watchers, so nothing needs reading back.
    """
    people = {person["id"]: person for person in (card["reporter"], card["assignee"]) if person is not None}
    watchers = sorted(people.values(), key=lambda person: person["username"])
    return {
        **card,
        "subtasks": [],
        "watchers": watchers,
        "counts": {"comments": 0, "attachments": 0, "links": 0, "subtasks": 0, "watchers": len(watchers)},
        "watching": user_id in people,
    }


class SubtaskSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField(source="column.category")
    state = serializers.CharField()


class CountsSerializer(serializers.Serializer):
    comments = serializers.IntegerField(source="comment_count")
    attachments = serializers.IntegerField(source="attachment_count")
    links = serializers.IntegerField(source="link_count")
    subtasks = serializers.SerializerMethodField()
    watchers = serializers.SerializerMethodField()

    def get_subtasks(self, ticket: Ticket) -> int:
        return len(ticket.live_subtasks)

    def get_watchers(self, ticket: Ticket) -> int:
        return len(ticket.watcher_list)


class CardDetailSerializer(CardSerializer):
    """One card with what hangs off it (selectors.ticket_detail loads all of it)."""

    subtasks = SubtaskSerializer(many=True, source="live_subtasks")
    watchers = UserBriefSerializer(many=True, source="watcher_list")
    counts = CountsSerializer(source="*")
    watching = serializers.SerializerMethodField()

    def get_watching(self, ticket: Ticket) -> bool:
        request = self.context.get("request")
        user_id = getattr(getattr(request, "user", None), "pk", None)
        return any(user.pk == user_id for user in ticket.watcher_list)


class BoardColumnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    category = serializers.CharField()
    order = serializers.IntegerField()
    wip_limit = serializers.IntegerField(allow_null=True)
    card_count = serializers.IntegerField()
    cards = CardCompactSerializer(many=True)


class BoardProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    slug = serializers.CharField()
    name = serializers.CharField()


class BoardSerializer(serializers.Serializer):
    project = BoardProjectSerializer()
    columns = BoardColumnSerializer(many=True)


class EventSerializer(serializers.Serializer):
    """A timeline entry, shaped like seed 003's events."""

    id = serializers.IntegerField()
    type = serializers.CharField(source="kind")
    text = serializers.CharField()
    html = serializers.CharField()
    data = serializers.JSONField()
    minutes = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    last_updated_at = serializers.DateTimeField(source="updated_at")
    author = UserBriefSerializer(allow_null=True)


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    card_id = serializers.IntegerField(source="ticket_id")
    body = serializers.CharField(source="text")
    body_html = serializers.CharField(source="html")
    minutes = serializers.IntegerField(allow_null=True)
    author = UserBriefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class ChecklistItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    card_id = serializers.IntegerField(source="ticket_id")
    text = serializers.CharField()
    done = serializers.BooleanField()
    order = serializers.IntegerField()
    done_at = serializers.DateTimeField(allow_null=True)
    done_by = UserBriefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()


class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    card_id = serializers.IntegerField(source="ticket_id")
    filename = serializers.CharField()
    content_type = serializers.CharField()
    size = serializers.IntegerField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    is_image = serializers.BooleanField()
    download_url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    uploaded_by = UserBriefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()

    def _base(self, attachment: Attachment) -> str:
        return f"/api/v1/projects/{self.context['project'].slug}/attachments/{attachment.pk}"

    def get_download_url(self, attachment: Attachment) -> str:
        return f"{self._base(attachment)}/download"

    def get_thumbnail_url(self, attachment: Attachment) -> str | None:
        return f"{self._base(attachment)}/thumbnail" if attachment.thumbnail else None


class GitLinkSerializer(serializers.ModelSerializer):
    created_by = UserBriefSerializer(allow_null=True)

    class Meta:
        model = GitLink
        fields = ["id", "kind", "url", "title", "ref", "provider", "state", "created_by", "created_at"]
        read_only_fields = fields


class WatchSerializer(serializers.Serializer):
    watching = serializers.BooleanField()


# --------------------------------------------------------------------------- input


class _CardFieldsInput(serializers.Serializer):
    title = serializers.CharField(max_length=500)
    body = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=100_000, required=False)
    description = serializers.CharField(
        allow_blank=True, trim_whitespace=False, max_length=100_000, required=False, help_text="Alias of body."
    )
    type = serializers.ChoiceField(choices=Ticket.Type.choices, required=False)
    priority = serializers.ChoiceField(choices=Ticket.Priority.choices, required=False)
    # Plain strings checked by hand: a ChoiceField would add a second schema enum for the column categories.
    status = serializers.CharField(required=False, help_text=f"Column category: {', '.join(Column.Category.values)}.")
    assignee = serializers.CharField(
        allow_null=True, allow_blank=True, required=False, help_text="User name or id of a member; null unassigns."
    )
    labels = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, help_text="Label ids or names."
    )
    sprint_id = serializers.IntegerField(allow_null=True, required=False)
    parent = serializers.CharField(allow_null=True, allow_blank=True, required=False, help_text="Id or key.")
    due_date = serializers.DateField(allow_null=True, required=False)
    estimate = serializers.IntegerField(min_value=0, allow_null=True, required=False)
    force = serializers.BooleanField(required=False, default=False, help_text="Exceed a WIP limit.")

    def validate_status(self, value: str) -> str:
        if value not in Column.Category.values:
            raise serializers.ValidationError(f"Use one of {', '.join(Column.Category.values)}.")
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "description" in attrs:
            attrs.setdefault("body", attrs["description"])
            del attrs["description"]
        if "sprint_id" in attrs:
            attrs["sprint"] = attrs.pop("sprint_id")
        return attrs


class CardCreateInput(_CardFieldsInput):
    pass


class CardUpdateInput(_CardFieldsInput):
    title = serializers.CharField(max_length=500, required=False)


class CardMoveInput(serializers.Serializer):
    column_id = serializers.IntegerField(required=False)
    before_id = serializers.IntegerField(required=False, allow_null=True, help_text="Put the card above this card.")
    after_id = serializers.IntegerField(required=False, allow_null=True, help_text="Put the card below this card.")
    index = serializers.IntegerField(required=False, allow_null=True, min_value=0, help_text="0 = top.")
    force = serializers.BooleanField(required=False, default=False, help_text="Exceed a WIP limit.")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [name for name in ("before_id", "after_id", "index") if attrs.get(name) is not None]
        if len(given) > 1:
            raise serializers.ValidationError("Give only one of before_id, after_id or index.")
        return attrs


class CardMoveToColumnInput(CardMoveInput):
    column_id = serializers.IntegerField()


class CommentInput(serializers.Serializer):
    body = serializers.CharField(max_length=50_000)
    minutes = serializers.IntegerField(min_value=0, max_value=100_000, required=False, allow_null=True)


class CommentUpdateInput(serializers.Serializer):
    body = serializers.CharField(max_length=50_000)


class ChecklistItemInput(serializers.Serializer):
    text = serializers.CharField(max_length=500)
    done = serializers.BooleanField(required=False, default=False)


class ChecklistItemUpdateInput(serializers.Serializer):
    text = serializers.CharField(max_length=500, required=False)
    done = serializers.BooleanField(required=False)


class ChecklistReorderInput(serializers.Serializer):
    order = serializers.ListField(child=serializers.IntegerField(), allow_empty=False, max_length=1000)


class AttachmentInput(serializers.Serializer):
    file = serializers.FileField()


class GitLinkInput(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    kind = serializers.CharField(
        required=False, default=GitLink.Kind.COMMIT, help_text=f"One of {', '.join(GitLink.Kind.values)}."
    )
    title = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    ref = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate_kind(self, value: str) -> str:
        if value not in GitLink.Kind.values:
            raise serializers.ValidationError(f"Use one of {', '.join(GitLink.Kind.values)}.")
        return value
