"""Ticket JSON in (validation) and out (representation), kept apart.

Output serializers read only what the selectors loaded: no queries per row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import User
from accounts.serializers import UserBriefSerializer
from projects.models import Column
from punt.api.fields import id_field, id_list, model_integer
from punt.api.schema import documented
from tickets import cards
from tickets.models import Attachment, CustomField, GitLink, Ticket

# --------------------------------------------------------------------------- the card's OpenAPI components


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


# One custom field's value, as tickets.custom_field_selectors documents it per type.
CUSTOM_VALUE_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {"type": "string"},
        {"type": "number"},
        {"type": "boolean"},
        {"type": "array", "items": {"oneOf": [{"type": "string"}, {"type": "integer"}]}},
    ],
    "nullable": True,
}
CUSTOM_FIELDS_DOC = (
    "Custom field values by field key (GET /projects/<slug>/custom-fields): text, long_text and url "
    "a string, number a number, date YYYY-MM-DD, select an option name, multi_select a list of option "
    "names, user a username, checkbox a boolean. A field without a value has no key."
)


@extend_schema_field({"type": "object", "additionalProperties": CUSTOM_VALUE_SCHEMA, "description": CUSTOM_FIELDS_DOC})
class CustomFieldsField(serializers.DictField):
    """{field key: value}: checked by type in tickets.services.custom_fields, not here."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(child=serializers.JSONField(allow_null=True), **kwargs)


@extend_schema_field(CUSTOM_VALUE_SCHEMA)
class CustomValueField(serializers.JSONField):
    """One custom field value (a field's default): checked by type in the service."""


# The serializer field of each cards.Schema type.
_SCHEMA_FIELDS: dict[str, Callable[..., serializers.Field]] = {
    "integer": serializers.IntegerField,
    "string": serializers.CharField,
    "date": serializers.DateField,
    "datetime": serializers.DateTimeField,
    "person": UserBriefSerializer,
    "label": LabelBriefSerializer,
    "sprint": SprintBriefSerializer,
    "ticket": TicketBriefSerializer,
    "progress": ProgressSerializer,
    "custom_fields": CustomFieldsField,
}


def _schema_field(schema: cards.Schema) -> serializers.Field:
    options = {"allow_null": schema.nullable, "many": schema.many, "read_only": schema.read_only}
    return _SCHEMA_FIELDS[schema.type](**{name: True for name, wanted in options.items() if wanted})


def _card_schema(name: str, shape: str, doc: str) -> type[serializers.Serializer]:
    """A serializer that documents the `shape` card JSON (drf-spectacular's component `name`),
    generated from tickets.cards.FIELDS; cards.payloads() writes the JSON, never this."""
    attrs: dict[str, Any] = {"__doc__": doc, "__module__": __name__}
    for card_field in cards.fields(shape):
        attrs[card_field.name] = _schema_field(card_field.kind.schema)
    return type(f"{name}Serializer", (serializers.Serializer,), attrs)


CardCompactSerializer = _card_schema("CardCompact", cards.COMPACT, "A card as the board draws it.")
CardSerializer = _card_schema("Card", cards.FULL, "A card in lists and in responses to writes.")
DeletedCardSerializer = _card_schema("DeletedCard", cards.DELETED, "A card in lists and in responses to writes.")


class SearchProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    slug = serializers.CharField()
    name = serializers.CharField()


class SearchCardSerializer(_card_schema("SearchCardBase", cards.FULL, "")):  # type: ignore[misc]
    """A card found by the cross-project search, with its project."""

    project = SearchProjectSerializer()


if TYPE_CHECKING:
    # CardSerializer is built above at import time, a value mypy cannot take as a base
    # class; to the checker the detail serializer below extends a plain Serializer.
    _CardDetailBase = serializers.Serializer
else:
    _CardDetailBase = CardSerializer

# --------------------------------------------------------------------------- output


# selectors.ticket_detail() prefetches these with `to_attr`: attributes of the instance that
# the model does not declare (declaring them would clash with the plugin's typing of to_attr).
def _live_subtasks(ticket: Ticket) -> list[Ticket]:
    loaded: Any = ticket
    return loaded.live_subtasks


def _watchers(ticket: Ticket) -> list[User]:
    loaded: Any = ticket
    return loaded.watcher_list


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
        return len(_live_subtasks(ticket))

    def get_watchers(self, ticket: Ticket) -> int:
        return len(_watchers(ticket))


class CardDetailSerializer(_CardDetailBase):
    """One card with what hangs off it (selectors.ticket_detail loads all of it)."""

    subtasks = SubtaskSerializer(many=True, source="live_subtasks")
    watchers = UserBriefSerializer(many=True, source="watcher_list")
    counts = CountsSerializer(source="*")
    watching = serializers.BooleanField(read_only=True)  # card_detail() writes the JSON


def card_detail(ticket: Ticket, *, user_id: int | None) -> dict[str, Any]:
    """CardDetailSerializer's JSON: the full card (tickets.cards) and what hangs off it.

    `ticket` comes from selectors.ticket_detail(), which loads all of it.
    """
    return {
        **cards.card_of(ticket, shape=cards.FULL),
        "subtasks": SubtaskSerializer(_live_subtasks(ticket), many=True).data,
        "watchers": UserBriefSerializer(_watchers(ticket), many=True).data,
        "counts": CountsSerializer(ticket).data,
        "watching": any(user.pk == user_id for user in _watchers(ticket)),
    }


class BoardColumnSerializer(serializers.Serializer):
    id = serializers.IntegerField(
        allow_null=True, help_text="Null only on a board as of a past moment: cards in a column deleted since."
    )
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
    as_of = serializers.DateTimeField(required=False, help_text="Present when the board is as of a past moment.")
    columns = BoardColumnSerializer(many=True)


class EventSerializer(serializers.Serializer):
    """A timeline entry, shaped like seed 003's events."""

    id = serializers.IntegerField()
    type = serializers.CharField(source="kind")
    text = serializers.CharField()
    html = serializers.CharField()
    # The metaclass moves declared fields into _declared_fields, so `data` never hides the
    # Serializer.data property; the stubs see a plain class attribute.
    data = serializers.JSONField()  # type: ignore[assignment]
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


def _included_page(name: str, item: type[serializers.Serializer], doc: str) -> serializers.Serializer:
    page = type(
        f"Included{name}PageSerializer",
        (serializers.Serializer,),
        {
            "__doc__": doc,
            "__module__": __name__,
            "count": serializers.IntegerField(),
            "next": serializers.URLField(allow_null=True, help_text="The URL of the list endpoint's second page."),
            "previous": serializers.URLField(allow_null=True, help_text="Always null: this is the first page."),
            "results": item(many=True),
        },
    )
    return page(required=False)


# --------------------------------------------------------------------------- relations

RELATION_KINDS = ["blocks", "is_blocked_by", "duplicates", "is_duplicated_by", "relates_to"]


class RelationInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=RELATION_KINDS, help_text="The link as this card reads it.")
    ticket = serializers.CharField(max_length=30, help_text='The other card\'s key, like "DEMO-3".')
    close = serializers.BooleanField(
        required=False, default=False, help_text='With "duplicates": also close this card, in the same step.'
    )
    force = serializers.BooleanField(
        required=False, default=False, help_text="With close: close it even if blocked or the done column is full."
    )


class RelationProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    slug = serializers.CharField()
    name = serializers.CharField()


class RelationColumnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class RelationTicketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Column.Category.values)
    column = RelationColumnSerializer()
    state = serializers.ChoiceField(choices=Ticket.State.values)
    project = RelationProjectSerializer()
    html_url = serializers.CharField(help_text="The ticket's page.")


class RelationCreatorSerializer(serializers.Serializer):
    username = serializers.CharField()


class RelationSerializer(serializers.Serializer):
    """A link as one card reads it (tickets.services.relations.relation_json)."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=RELATION_KINDS)
    ticket = RelationTicketSerializer()
    created_by = RelationCreatorSerializer(allow_null=True)
    created_at = serializers.DateTimeField()


class TicketKeySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.CharField()
    state = serializers.CharField()
    project = serializers.CharField(help_text="The project's key.")


class CardIncludedSerializer(serializers.Serializer):
    """The first page of each part `?include=` names (only those keys are present)."""

    comments = _included_page("Comments", CommentSerializer, "GET /cards/<id>/comments, first page (100).")
    events = _included_page("Events", EventSerializer, "GET /cards/<id>/events, first page (100).")
    checklist = _included_page("Checklist", ChecklistItemSerializer, "GET /cards/<id>/checklist (all items).")
    attachments = _included_page("Attachments", AttachmentSerializer, "GET /cards/<id>/attachments (all).")
    links = _included_page("Links", GitLinkSerializer, "GET /cards/<id>/links (all).")
    relations = _included_page("Relations", RelationSerializer, "GET /cards/<id>/relations (all).")


class CardDetailIncludedSerializer(CardDetailSerializer):
    """One card with its details and, with `?include=`, the first page of the parts named."""

    included = CardIncludedSerializer(required=False, help_text="Only with ?include=.")


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
    status = documented(
        serializers.CharField(required=False, help_text="Column category."), enum=Column.Category.values
    )
    assignee = serializers.CharField(
        allow_null=True, allow_blank=True, required=False, help_text="User name or id of a member; null unassigns."
    )
    labels = id_list(child=serializers.CharField(max_length=50), required=False, help_text="Label ids or names.")
    sprint_id = id_field(allow_null=True, required=False)
    # A declared field, not Field.parent (see EventSerializer.data).
    parent = serializers.CharField(allow_null=True, allow_blank=True, required=False, help_text="Id or key.")  # type: ignore[assignment]
    due_date = serializers.DateField(allow_null=True, required=False)
    estimate = model_integer(Ticket, "estimate", allow_null=True, required=False)
    custom_fields = CustomFieldsField(
        required=False,
        help_text="Custom field values by key; on update only the keys sent change, null clears. "
        "A select option may be named by its name or its id.",
    )
    force = serializers.BooleanField(
        required=False, default=False, help_text="Exceed a WIP limit; close a card blocked by open tickets."
    )

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
    # Unbounded on purpose: tickets.services.moves answers any size (an index past the end is
    # the bottom, an id past 2^63 is no card), as tests/tickets/test_move.py pins.
    column_id = serializers.IntegerField(required=False)
    before_id = serializers.IntegerField(required=False, allow_null=True, help_text="Put the card above this card.")
    after_id = serializers.IntegerField(required=False, allow_null=True, help_text="Put the card below this card.")
    index = serializers.IntegerField(required=False, allow_null=True, min_value=0, help_text="0 = top.")
    force = serializers.BooleanField(
        required=False, default=False, help_text="Exceed a WIP limit; close a card blocked by open tickets."
    )

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
    order = id_list(allow_empty=False, min_length=1, max_length=1000)


class AttachmentInput(serializers.Serializer):
    file = serializers.FileField()


class GitLinkInput(serializers.Serializer):
    url = serializers.URLField(max_length=500)
    kind = documented(serializers.CharField(required=False, default=GitLink.Kind.COMMIT), enum=GitLink.Kind.values)
    title = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    ref = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")

    def validate_kind(self, value: str) -> str:
        if value not in GitLink.Kind.values:
            raise serializers.ValidationError(f"Use one of {', '.join(GitLink.Kind.values)}.")
        return value


# --------------------------------------------------------------------------- PQL autocomplete


class PqlCompleteInput(serializers.Serializer):
    q = serializers.CharField(
        max_length=2000, required=False, allow_blank=True, default="", trim_whitespace=False, help_text="The query."
    )
    cursor = serializers.IntegerField(
        min_value=0, required=False, help_text="Where the caret is, 0 to the query's length (default: its end)."
    )


class PqlReplaceSerializer(serializers.Serializer):
    start = serializers.IntegerField()
    end = serializers.IntegerField()


class PqlSuggestionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["field", "operator", "value", "keyword", "function"])
    value = serializers.CharField(help_text="The text to put in place of the `replace` span (quoted when needed).")
    # A field named like DRF's Field.label attribute, which the stubs type as a string.
    label = serializers.CharField()  # type: ignore[assignment]
    detail = serializers.CharField(allow_blank=True)


class PqlCompletionSerializer(serializers.Serializer):
    q = serializers.CharField(allow_blank=True)
    cursor = serializers.IntegerField()
    replace = PqlReplaceSerializer(help_text="The span of the word being completed (empty at a blank).")
    suggestions = PqlSuggestionSerializer(many=True)


# --------------------------------------------------------------------------- custom fields


class CustomFieldOptionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField()
    position = serializers.IntegerField()


class CustomFieldSerializer(serializers.Serializer):
    """A project's custom field (custom_field_selectors.custom_field_payload writes the JSON)."""

    id = serializers.IntegerField()
    key = serializers.CharField(help_text="Stable machine key: the JSON key in cards' custom_fields and PQL cf[key].")
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    type = serializers.ChoiceField(choices=CustomField.Type.choices)
    unit = serializers.CharField(allow_blank=True, help_text="Numbers only.")
    # A declared field named like DRF's Field.required attribute (see EventSerializer.data).
    required = serializers.BooleanField()  # type: ignore[assignment]
    default = CustomValueField(allow_null=True)
    show_on_card = serializers.BooleanField()
    position = serializers.IntegerField()
    options = CustomFieldOptionSerializer(many=True, help_text="Select and multi select fields.")
    deleted_at = serializers.DateTimeField(allow_null=True)


class CustomFieldDetailSerializer(CustomFieldSerializer):
    tickets_with_value = serializers.IntegerField(help_text="Tickets holding a value (what deleting it hides).")


class CustomFieldOptionInput(serializers.Serializer):
    id = serializers.IntegerField(required=False, help_text="An existing option to keep (rename, recolour).")
    name = serializers.CharField(max_length=100)
    color = serializers.CharField(max_length=7, required=False)


class CustomFieldUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    key = serializers.CharField(max_length=50, required=False, help_text="Derived from the name when left out.")
    description = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    unit = serializers.CharField(max_length=20, allow_blank=True, required=False)
    required = serializers.BooleanField(required=False)  # type: ignore[assignment]
    default = CustomValueField(required=False, allow_null=True)
    show_on_card = serializers.BooleanField(required=False)
    options = CustomFieldOptionInput(
        many=True,
        required=False,
        help_text="The whole list, in order: items with an id keep that option (values follow a rename), "
        "items without one are new, options left out are deleted with their values.",
    )


class CustomFieldCreateInput(CustomFieldUpdateInput):
    name = serializers.CharField(max_length=100)
    type = serializers.ChoiceField(choices=CustomField.Type.choices)


class CustomFieldReorderInput(serializers.Serializer):
    order = id_list(allow_empty=False, min_length=1, max_length=1000, help_text="Every live field's id, in order.")
