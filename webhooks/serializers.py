"""Input validation and output shapes of the integrations API.

Secrets appear only where they are needed: a git hook's `secret` and an outgoing hook's
`secret` are in the answer to their creation (and to a secret rotation), a chat webhook's
token only in the answer to its creation; lists show the prefix or nothing.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import UserBriefSerializer
from chat.models import MESSAGE_MAX_LENGTH
from punt.api.fields import TextOnlyField
from punt.api.schema import HTTP_URL_PATTERN, documented
from tickets.pql.syntax import MAX_QUERY_LENGTH
from tickets.serializers import CardCreateInput, CardUpdateInput
from webhooks.models import ChatWebhook, Delivery, GitDelivery, GitHook, Hook

# --------------------------------------------------------------------------- git host hooks


class GitHookInput(serializers.Serializer):
    provider = serializers.ChoiceField(choices=GitHook.Provider.choices)
    secret = serializers.CharField(
        required=False,
        allow_null=True,
        allow_blank=True,
        trim_whitespace=False,
        max_length=128,
        help_text=(
            "Omit it to have a secret generated; give your own (16-128 visible ASCII characters); or send "
            "null or an empty string for a hook without one, whose deliveries the token in its URL alone "
            "admits (a secret is recommended)."
        ),
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # The service's terms: signed or not, and the secret given (empty: generate one).
        if "secret" not in attrs:
            return {"provider": attrs["provider"], "signed": True, "secret": ""}
        secret = attrs["secret"] or ""
        return {"provider": attrs["provider"], "signed": bool(secret), "secret": secret}


class GitHookSerializer(serializers.ModelSerializer):
    url = serializers.CharField(read_only=True, help_text="Paste this into the git host's webhook settings.")
    active = serializers.BooleanField(source="is_active", read_only=True)
    signed = serializers.BooleanField(
        read_only=True,
        help_text="Whether deliveries must prove the secret; without one the URL's token alone admits them.",
    )
    created_by = UserBriefSerializer(allow_null=True, read_only=True)

    class Meta:
        model = GitHook
        fields = [
            "id",
            "provider",
            "url",
            "token",
            "active",
            "signed",
            "created_by",
            "created_at",
            "last_delivery_at",
            "revoked_at",
        ]
        read_only_fields = fields


class GitHookCreatedSerializer(GitHookSerializer):
    secret = serializers.SerializerMethodField(
        help_text="The webhook secret (GitHub/Gitea sign with it; GitLab sends it as its token); null when none."
    )

    class Meta(GitHookSerializer.Meta):
        fields = [*GitHookSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_secret(self, hook: GitHook) -> str | None:
        return hook.secret or None


class GitDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = GitDelivery
        fields = ["id", "delivery_id", "event", "outcome", "summary", "received_at"]
        read_only_fields = fields


class GitReceiveSerializer(serializers.Serializer):
    """What a git host is told: the delivery as recorded, and whether this post was a repeat."""

    ok = serializers.BooleanField()
    duplicate = serializers.BooleanField()
    delivery = GitDeliverySerializer()


# --------------------------------------------------------------------------- chat webhooks


class ChatWebhookInput(serializers.Serializer):
    name = TextOnlyField(max_length=100, help_text="The sender of the messages it posts.")


class ChatWebhookSerializer(serializers.ModelSerializer):
    active = serializers.BooleanField(source="is_active", read_only=True)
    created_by = UserBriefSerializer(allow_null=True, read_only=True)

    class Meta:
        model = ChatWebhook
        fields = ["id", "name", "token_prefix", "active", "created_by", "created_at", "last_used_at", "revoked_at"]
        read_only_fields = fields


class ChatWebhookCreatedSerializer(ChatWebhookSerializer):
    token = serializers.SerializerMethodField(help_text="Shown once: only its hash is stored.")
    url = serializers.SerializerMethodField(help_text='POST {"text", "username"}, or any JSON, here.')

    class Meta(ChatWebhookSerializer.Meta):
        fields = [*ChatWebhookSerializer.Meta.fields, "token", "url"]
        read_only_fields = fields

    def get_token(self, webhook: ChatWebhook) -> str:
        return self.context["token"]

    def get_url(self, webhook: ChatWebhook) -> str:
        return self.context["url"]


class ChatPostInput(serializers.Serializer):
    """The documented form of a chat webhook post (for the schema: any JSON is accepted)."""

    text = serializers.CharField(
        required=False,
        max_length=MESSAGE_MAX_LENGTH,
        help_text="The message (Markdown). Without it, the message summarises the JSON sent.",
    )
    username = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        help_text="Names who speaks, in bold before the text; the message itself is from the webhook.",
    )


class ChatPostResultSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    message_id = serializers.IntegerField()


# --------------------------------------------------------------------------- outgoing hooks


FILTER_HELP = (
    "A PQL query (e.g. `label = backend AND priority >= high`): events about a ticket are sent only when "
    "the ticket matches it; events about no ticket (sprints, labels, chat) only to hooks without a filter. "
    "me() is the hook's creator. Blank: every event. A bad query is a 400 on `filter` with its position."
)


class HookInput(serializers.Serializer):
    url = documented(serializers.CharField(max_length=500), pattern=HTTP_URL_PATTERN)
    events = serializers.ListField(
        child=serializers.CharField(max_length=100),
        help_text='Event types of the bus (board.card_created, board.card_moved, chat.message, ...) or ["*"].',
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False, default=True)
    filter = TextOnlyField(max_length=MAX_QUERY_LENGTH, required=False, allow_blank=True, help_text=FILTER_HELP)


class HookUpdateInput(serializers.Serializer):
    url = documented(serializers.CharField(max_length=500, required=False), pattern=HTTP_URL_PATTERN)
    events = serializers.ListField(child=serializers.CharField(max_length=100), required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    active = serializers.BooleanField(required=False)
    filter = TextOnlyField(
        max_length=MAX_QUERY_LENGTH, required=False, allow_blank=True, help_text=f"{FILTER_HELP} Blank removes it."
    )
    rotate_secret = serializers.BooleanField(
        required=False, default=False, help_text="Generate a new signing secret (returned once)."
    )


class HookSerializer(serializers.ModelSerializer):
    created_by = UserBriefSerializer(allow_null=True, read_only=True)
    events = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Hook
        fields = ["id", "url", "description", "events", "filter", "active", "created_by", "created_at", "updated_at"]
        read_only_fields = fields


class HookWithSecretSerializer(HookSerializer):
    secret = serializers.CharField(read_only=True, help_text="X-Punt-Signature-256 is HMAC-SHA256 of the body with it.")

    class Meta(HookSerializer.Meta):
        fields = [*HookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    guid = serializers.CharField(read_only=True, help_text="Sent as X-Punt-Delivery; a redelivery keeps it.")
    # A plain string: a second "status" enum would collide with the other apps' in the schema.
    status = serializers.CharField(read_only=True, help_text=f"One of: {', '.join(Delivery.Status.values)}.")
    redelivery_of: serializers.PrimaryKeyRelatedField[Delivery] = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True
    )

    class Meta:
        model = Delivery
        fields = [
            "id",
            "guid",
            "event",
            "status",
            "attempts",
            "response_code",
            "error",
            "duration_ms",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
            "completed_at",
            "redelivery_of",
        ]
        read_only_fields = fields


class DeliveryDetailSerializer(DeliverySerializer):
    request_body = serializers.SerializerMethodField()

    class Meta(DeliverySerializer.Meta):
        fields = [*DeliverySerializer.Meta.fields, "request_body", "response_body"]
        read_only_fields = fields

    @extend_schema_field({"type": "object", "additionalProperties": True})
    def get_request_body(self, delivery: Delivery) -> Any:
        import json

        return json.loads(delivery.body)


# --------------------------------------------------------------------------- CI Ticket API


COLUMN_NAME_HELP = (
    "A column name (any case); when no column has that name, a category (backlog, todo, in progress, "
    "in review, done: any case, spaces, dashes or underscores) picks its first column, created if the "
    "board has none (as setting a status does)."
)


class TicketApiCreateInput(CardCreateInput):
    """The card fields of the board API, plus a column by name (what a CI job knows)."""

    column_name = serializers.CharField(max_length=100, required=False, help_text=COLUMN_NAME_HELP)


class TicketApiUpdateInput(CardUpdateInput):
    column_name = serializers.CharField(
        max_length=100, required=False, help_text=f"Move to this column. {COLUMN_NAME_HELP}"
    )
    comment = serializers.CharField(required=False, max_length=50_000, help_text="Add this comment.")
