"""Integrations: git host hooks, incoming chat webhooks, outgoing hooks and their deliveries.

Writes go through webhooks/services.py. Secrets that PUNT must use again (the HMAC key of
a git hook or of an outgoing hook) are stored as given; a secret PUNT only has to
recognise (a chat webhook token) is stored hashed, like API keys.
"""

from __future__ import annotations

import hashlib
import uuid

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import reverse

from projects.models import Project


def hash_token(raw: str) -> str:
    # Tokens are 256-bit random values, so a fast hash is enough and keeps lookups indexed.
    return hashlib.sha256(raw.encode()).hexdigest()


class GitHook(models.Model):
    """An endpoint a git host posts to: `/api/v1/<provider>-webhook/<token>`, signed with `secret`.

    A hook without a secret (seed 004 registers the URL alone) takes unsigned deliveries on
    its token; one with a secret refuses any delivery that does not prove it.
    """

    class Provider(models.TextChoices):
        GITHUB = "github", "GitHub"
        GITLAB = "gitlab", "GitLab"
        GITEA = "gitea", "Gitea / Forgejo"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="git_hooks")
    provider = models.CharField(max_length=10, choices=Provider.choices)
    # Part of the URL pasted into the git host: it identifies the hook, the secret proves the sender.
    token = models.CharField(max_length=64, unique=True, editable=False)
    # Empty: deliveries are not signed and the token alone admits them.
    secret = models.CharField(max_length=128, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_delivery_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "git host webhook"

    def __str__(self) -> str:
        return f"{self.get_provider_display()} hook for {self.project_id}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def url(self) -> str:
        return settings.SITE_URL + reverse(f"{self.provider}-webhook", kwargs={"token": self.token})

    @property
    def signed(self) -> bool:
        """Whether deliveries must prove the secret (signature, or GitLab's token header)."""
        return bool(self.secret)


class GitDelivery(models.Model):
    """One delivery received from a git host; the unique delivery id makes redelivery a no-op."""

    class Outcome(models.TextChoices):
        PROCESSED = "processed", "Processed"
        PING = "ping", "Ping"
        IGNORED = "ignored", "Ignored (event type not handled)"

    hook = models.ForeignKey(GitHook, on_delete=models.CASCADE, related_name="deliveries")
    delivery_id = models.CharField(max_length=200)
    event = models.CharField(max_length=100)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    # What the delivery did: {"links": [...], "closed": [...]} (tickets by key).
    summary = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name_plural = "git deliveries"
        constraints = [models.UniqueConstraint(fields=["hook", "delivery_id"], name="git_delivery_unique")]

    def __str__(self) -> str:
        return f"{self.event} {self.delivery_id}"


class ChatWebhook(models.Model):
    """A token that lets an outside tool post to a project's chat: `POST /api/v1/webhooks/<token>`."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="chat_webhooks")
    name = models.CharField(max_length=100)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(max_length=12, editable=False, help_text="The first characters, to recognise it.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "incoming chat webhook"

    def __str__(self) -> str:
        return f"{self.name} ({self.token_prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Hook(models.Model):
    """An outgoing webhook: bus events of `project` POSTed to `url`, signed with `secret`.

    `filter` (PQL, blank = every event) narrows the events about a ticket to those whose
    ticket matches it; events about no ticket go only to hooks without a filter. `me()` in
    it is the hook's creator (webhooks.services.hooks_for_event).
    """

    ALL_EVENTS = "*"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="hooks")
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    # Event names of the bus ("board.card_moved", "chat.message", ...) or ["*"] for all.
    events = models.JSONField(default=list)
    filter = models.TextField(
        blank=True, help_text="A PQL query (e.g. priority >= high); only events about matching tickets are sent."
    )
    secret = models.CharField(max_length=128, editable=False)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "outgoing webhook"
        indexes = [models.Index(fields=["project", "active"], name="hook_project_active")]

    def __str__(self) -> str:
        return self.url

    def wants(self, event: str) -> bool:
        return self.ALL_EVENTS in self.events or event in self.events


class Delivery(models.Model):
    """One event sent (or to be sent) to one hook: the delivery log users read.

    `body` keeps the exact bytes that are signed and sent, so a retry or a redelivery
    sends the same document with the same signature.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    hook = models.ForeignKey(Hook, on_delete=models.CASCADE, related_name="deliveries")
    # Sent as X-Punt-Delivery; a redelivery keeps it so receivers can recognise a repeat.
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    event = models.CharField(max_length=100)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True)
    error = models.CharField(max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    redelivery_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="redeliveries"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["hook", "id"], name="delivery_hook_id"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event} to hook {self.hook_id} ({self.status})"


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with `Idempotency-Key`, replayed to its retries."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    # sha256 of the request body: the same key with another body is a client bug, not a retry.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveIntegerField()
    response = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"
