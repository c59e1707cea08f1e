"""Chat: project channels, direct and group conversations, topics, read state.

A project channel and a conversation share one Message table, so history, pagination,
reactions and unread counts are written once. Writes go through chat/services.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from projects.models import Project

MESSAGE_MAX_LENGTH = 4000
TOPIC_TITLE_MAX_LENGTH = 200
EMOJI_MAX_LENGTH = 32


class Conversation(models.Model):
    """A direct message thread between two people, or a titled group."""

    class Kind(models.TextChoices):
        DIRECT = "direct", "Direct"
        GROUP = "group", "Group"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    title = models.CharField(max_length=200, blank=True)
    # "<lower user id>:<higher user id>" for a DM, NULL for groups: the unique constraint is
    # what makes "one DM per pair" hold even when both people open it at the same moment.
    dm_key = models.CharField(max_length=64, unique=True, null=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="ConversationMember", related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title or f"{self.get_kind_display()} #{self.pk}"


class ConversationMember(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="conversation_memberships"
    )
    # The newest message this member has read; ids only grow, so "unread" is id > this.
    last_read_id = models.BigIntegerField(default=0)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="conversation_member_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in conversation {self.conversation_id}"


class Message(models.Model):
    """One message in a project channel or in a conversation (exactly one of the two).

    Deleting leaves a tombstone (`deleted_at` set, body cleared) so replies and read
    markers that point past it stay meaningful.
    """

    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="chat_messages")
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="chat_messages"
    )
    # Set, with no author, on a message an integration posted (an incoming webhook's name):
    # who it is from is that integration, not the person who set it up.
    author_name = models.CharField(max_length=100, blank=True)
    body = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(project__isnull=False, conversation__isnull=True)
                | models.Q(project__isnull=True, conversation__isnull=False),
                name="message_in_one_channel",
            )
        ]
        # History pages walk these by id in both directions.
        indexes = [
            models.Index(fields=["project", "id"], name="message_project_id"),
            models.Index(fields=["conversation", "id"], name="message_conversation_id"),
        ]

    def __str__(self) -> str:
        return f"message {self.pk}"

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def from_integration(self) -> bool:
        return self.author_id is None and bool(self.author_name)

    @property
    def sender_name(self) -> str:
        """Who the message is from, as shown: the integration's name or the author's; "" if gone."""
        if self.author_name:
            return self.author_name
        return self.author.name if self.author is not None else ""


class Reaction(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    emoji = models.CharField(max_length=EMOJI_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_unique")]

    def __str__(self) -> str:
        return f"{self.emoji} by {self.user_id} on {self.message_id}"


class ChannelReadState(models.Model):
    """How far a user has read a project's channel (conversations keep this on the member row)."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    last_read_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "user"], name="channel_read_state_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} read {self.project_id} to {self.last_read_id}"


class Topic(models.Model):
    """A titled discussion in a project, with replies; admins pin and lock them."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="topics")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=TOPIC_TITLE_MAX_LENGTH)
    body = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    pinned = models.BooleanField(default=False)
    locked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_activity_at = models.DateTimeField()

    class Meta:
        ordering = ["-pinned", "-last_activity_at", "-id"]
        indexes = [models.Index(fields=["project", "pinned", "last_activity_at"], name="topic_project_activity")]

    def __str__(self) -> str:
        return self.title


class TopicReply(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    body_html = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name_plural = "topic replies"

    def __str__(self) -> str:
        return f"reply {self.pk} to {self.topic_id}"
