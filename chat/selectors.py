"""Scoped reads for chat. Each one loads what the serializers read, so no serializer queries per row."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Count, Exists, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from chat.models import (
    ChannelReadState,
    Conversation,
    ConversationMember,
    Message,
    Reaction,
    Topic,
    TopicReply,
)
from projects.models import Membership, Project
from punt.errors import NotFound

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


def _messages() -> QuerySet[Message]:
    return Message.objects.select_related("author").prefetch_related(
        Prefetch("reactions", queryset=Reaction.objects.select_related("user").order_by("id"))
    )


def message_history(
    *,
    project: Project | None = None,
    conversation: Conversation | None = None,
    before: int | None = None,
    after: int | None = None,
    limit: int,
) -> tuple[list[Message], bool]:
    """One page of a channel, newest first, and whether more lie beyond it.

    Paging is by id, not offset, so messages arriving between requests never shift a page:
    `before` walks back from a message, `after` returns the `limit` messages right after one
    (the oldest of the newer ones, so a client catching up never skips any).
    """
    queryset = (
        _messages().filter(project=project) if project is not None else _messages().filter(conversation=conversation)
    )
    if after is not None:
        rows = list(queryset.filter(id__gt=after).order_by("id")[: limit + 1])
        has_more = len(rows) > limit
        return list(reversed(rows[:limit])), has_more
    if before is not None:
        queryset = queryset.filter(id__lt=before)
    rows = list(queryset.order_by("-id")[: limit + 1])
    return rows[:limit], len(rows) > limit


def message_get(
    *, message_id: int, project: Project | None = None, conversation: Conversation | None = None
) -> Message:
    queryset = _messages().select_related("project", "conversation")
    queryset = queryset.filter(project=project) if project is not None else queryset.filter(conversation=conversation)
    message = queryset.filter(pk=message_id).first()
    if message is None:
        raise NotFound("Message not found.")
    return message


class _ConversationAnnotations(TypedDict):
    my_last_read: int | None
    unread: int


def _conversations_for(user: Any) -> QuerySet[WithAnnotations[Conversation, _ConversationAnnotations]]:
    last_read = ConversationMember.objects.filter(conversation=OuterRef("pk"), user=user).values("last_read_id")[:1]
    unread = (
        Message.objects.filter(conversation=OuterRef("pk"), id__gt=OuterRef("my_last_read"), deleted_at__isnull=True)
        .exclude(author=user)
        .order_by()
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    return (
        Conversation.objects.filter(memberships__user=user)
        .select_related("created_by")
        .prefetch_related(Prefetch("memberships", queryset=ConversationMember.objects.select_related("user")))
        .annotate(my_last_read=Subquery(last_read, output_field=IntegerField()))
        .annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)))
    )


def conversation_list(*, user: Any) -> QuerySet[Conversation]:
    """The caller's conversations, the most recently active first."""
    # A conversation without messages ranks by when it was opened (and NULLs sort the same
    # way on every database).
    return _conversations_for(user).order_by(Coalesce("last_message_at", "created_at").desc(), "-id")


def conversation_get(*, user: Any, conversation_id: int) -> Conversation:
    """A conversation the caller belongs to; anyone else gets 404 (its existence stays private)."""
    if user is None or not user.is_authenticated:
        raise NotFound("Conversation not found.")
    conversation = _conversations_for(user).filter(pk=conversation_id).first()
    if conversation is None:
        raise NotFound("Conversation not found.")
    return conversation


def topic_list(*, project: Project) -> QuerySet[Topic]:
    """Pinned topics first, then by latest activity."""
    return (
        Topic.objects.filter(project=project)
        .select_related("author")
        .annotate(reply_count=Count("replies"))
        .order_by("-pinned", "-last_activity_at", "-id")
    )


def topic_get(*, project: Project, topic_id: int, with_replies: bool = True) -> Topic:
    queryset = (
        Topic.objects.filter(project=project).select_related("author", "project").annotate(reply_count=Count("replies"))
    )
    if with_replies:
        queryset = queryset.prefetch_related(
            Prefetch("replies", queryset=TopicReply.objects.select_related("author").order_by("created_at", "id"))
        )
    topic = queryset.filter(pk=topic_id).first()
    if topic is None:
        raise NotFound("Topic not found.")
    return topic


def channel_unread_count(*, user: Any, project: Project, last_read_id: int) -> int:
    return (
        Message.objects.filter(project=project, id__gt=last_read_id, deleted_at__isnull=True)
        .exclude(author=user)
        .count()
    )


def unread_counts(*, user: Any) -> dict[str, dict[str, int]]:
    """Unread messages per project channel the user belongs to and per conversation.

    Someone's own messages and tombstones never count. Two queries, however many channels.
    """
    last_read = ChannelReadState.objects.filter(project=OuterRef("pk"), user=user).values("last_read_id")[:1]
    unread = (
        Message.objects.filter(project=OuterRef("pk"), id__gt=OuterRef("my_last_read"), deleted_at__isnull=True)
        .exclude(author=user)
        .order_by()
        .values("project")
        .annotate(n=Count("id"))
        .values("n")
    )
    project_ids = Membership.objects.filter(user=user).values("project_id")
    projects = (
        Project.objects.filter(pk__in=project_ids, archived_at__isnull=True)
        .annotate(my_last_read=Coalesce(Subquery(last_read, output_field=IntegerField()), Value(0)))
        .annotate(unread=Coalesce(Subquery(unread, output_field=IntegerField()), Value(0)))
        .values_list("slug", "unread")
    )
    conversations = _conversations_for(user).values_list("pk", "unread")
    return {
        "projects": dict(projects),
        "conversations": {str(pk): count for pk, count in conversations},
    }


def conversations_unread_count(*, user: Any) -> int:
    """How many of the user's conversations hold a message they have not read (one query).

    The Messages badge in the top bar of every page: someone's own messages and
    tombstones never count.
    """
    newer = (
        Message.objects.filter(
            conversation=OuterRef("conversation"), id__gt=OuterRef("last_read_id"), deleted_at__isnull=True
        )
        .exclude(author=user)
        .order_by()
    )
    return ConversationMember.objects.filter(user=user).filter(Exists(newer)).count()


def members_by_name(*, project: Project, names: set[str]) -> dict[str, Any]:
    """Project members whose lower-cased user name is in `names`."""
    if not names:
        return {}
    memberships = Membership.objects.filter(project=project).select_related("user")
    query = Q()
    for name in names:
        query |= Q(user__username__iexact=name)
    return {m.user.username.lower(): m.user for m in memberships.filter(query)}
