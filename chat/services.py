"""Every write in chat: messages, reactions, conversations, topics, read state.

Each function is keyword-only, runs in one transaction, checks the caller's rights itself
(so a view, an admin action or a consumer get the same rules) and publishes its events
on commit through punt.events.publish.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import User
from chat import selectors
from chat.models import (
    MESSAGE_MAX_LENGTH,
    ChannelReadState,
    Conversation,
    ConversationMember,
    Message,
    Reaction,
    Topic,
    TopicReply,
)
from chat.rendering import RenderContext, mentioned_names, render_markdown, ticket_key_re
from chat.serializers import (
    ConversationSerializer,
    MessageSerializer,
    TopicReplySerializer,
    TopicSerializer,
    reaction_summary,
)
from notifications.models import Notification
from notifications.services import notification_mark_read_about, notify
from projects.models import Project
from projects.permissions import MANAGE, RANK, READ, WRITE, Role, check_role, has_role
from punt.errors import Forbidden, NotFound, invalid
from punt.events import publish
from tickets.models import Ticket
from tickets.selectors import as_ticket_number

TOPIC_BODY_MAX_LENGTH = 5 * MESSAGE_MAX_LENGTH
GROUP_MAX_MEMBERS = 50
EXCERPT_LENGTH = 140


def _plain(data: Any) -> dict[str, Any]:
    # Channel layers (msgpack on Redis) want plain dicts/lists/strings, not DRF's
    # ReturnDict or datetimes.
    plain: dict[str, Any] = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    return plain


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= EXCERPT_LENGTH else text[: EXCERPT_LENGTH - 1] + "…"


def _clean_body(body: str, *, field: str = "body", max_length: int = MESSAGE_MAX_LENGTH) -> str:
    body = body.strip()
    if not body:
        raise invalid(field, "This field may not be blank.")
    if len(body) > max_length:
        raise invalid(field, f"Ensure this field has no more than {max_length} characters.")
    return body


def _project_base_url(project: Project) -> str:
    return f"/projects/{project.namespace}/{project.path}"


def _render_for_project(*, project: Project, text: str) -> tuple[str, dict[str, User]]:
    """HTML for `text` in `project`, and the members it @mentions (by lower-cased name).

    Only tickets that exist (and are not deleted) become links, and only members can be
    mentioned: one query each, whatever the text holds.
    """
    found = map(as_ticket_number, ticket_key_re(project.key).findall(text))
    numbers = {number for number in found if number is not None}
    existing = (
        frozenset(
            Ticket.objects.filter(project=project, number__in=numbers, deleted_at__isnull=True).values_list(
                "number", flat=True
            )
        )
        if numbers
        else frozenset()
    )
    mentioned = selectors.members_by_name(project=project, names=mentioned_names(text))
    context = RenderContext(
        project_key=project.key,
        ticket_url_prefix=f"{_project_base_url(project)}/tickets/",
        ticket_numbers=existing,
        mentionable={name: member.username for name, member in mentioned.items()},
    )
    return render_markdown(text, context), mentioned


def _message_payload(message: Message) -> dict[str, Any]:
    return _plain(MessageSerializer(message).data)


def _reload(message: Message) -> Message:
    fresh = selectors.message_get(message_id=message.pk, project=message.project, conversation=message.conversation)
    if message.project is not None:
        fresh.project = message.project  # keeps the namespace FKs the caller loaded
    return fresh


def _check_may_write(*, user: User, message: Message) -> None:
    """Raise unless the caller may write where `message` lives (project member+, or conversation member)."""
    if message.project is not None:
        check_role(user, message.project, WRITE)
    else:
        _check_member(user=user, conversation=_conversation_of(message))


def _conversation_of(message: Message) -> Conversation:
    """The conversation of a message outside any project (the model's check constraint: one of the two)."""
    assert message.conversation is not None, f"message {message.pk} has neither a project nor a conversation"
    return message.conversation


def _check_member(*, user: User, conversation: Conversation) -> None:
    if not ConversationMember.objects.filter(conversation=conversation, user=user).exists():
        raise NotFound("Conversation not found.")


def _notify_mentions(
    *,
    author: User | None,
    project: Project,
    mentioned: Iterable[User],
    where: str,
    url: str,
    data: dict[str, Any],
    author_name: str = "",
    snippet: str = "",
) -> None:
    notify(
        recipients=mentioned,
        kind=Notification.Kind.MENTION,
        actor=author,
        text=f"{author.name if author is not None else author_name} mentioned you in {where}",
        url=url,
        project=project,
        data=data,
        snippet=snippet,
    )


# --- project chat ------------------------------------------------------------------------


@transaction.atomic
def message_post(*, user: User, project: Project, body: str, tab_id: str | None = None) -> Message:
    """Post to the project's channel. `project` has owner_user/organization loaded (for links)."""
    check_role(user, project, WRITE)
    body = _clean_body(body)
    body_html, mentioned = _render_for_project(project=project, text=body)
    message = Message.objects.create(project=project, author=user, body=body, body_html=body_html)
    return _announce_new(message, mentioned=mentioned.values(), tab_id=tab_id)


@transaction.atomic
def message_post_from_integration(*, project: Project, sender: str, body: str) -> Message:
    """Post to the project's channel as an integration called `sender`, with no author.

    The caller has verified the integration's credential and that it may still post here (an
    incoming webhook checks its token and its creator's role). Rendering, mentions and the
    live event are those of any message; nobody can edit it, admins can delete it.
    """
    sender = " ".join(sender.split())[: Message._meta.get_field("author_name").max_length]
    if not sender:
        raise invalid("author_name", "An integration's message needs a sender name.")
    body = _clean_body(body)
    body_html, mentioned = _render_for_project(project=project, text=body)
    message = Message.objects.create(project=project, author=None, author_name=sender, body=body, body_html=body_html)
    return _announce_new(message, mentioned=mentioned.values())


def _announce_new(message: Message, *, mentioned: Iterable[User], tab_id: str | None = None) -> Message:
    """Send a new message to the channel's live viewers and notify the people it mentions."""
    message = _reload(message)
    project = message.project
    assert project is not None, "a project channel's message"
    publish("chat.message", _message_payload(message), project_id=project.pk, tab_id=tab_id, actor_id=message.author_id)
    _notify_mentions(
        author=message.author,
        author_name=message.author_name,
        project=project,
        mentioned=mentioned,
        where=f"{project.key} chat",
        url=f"{_project_base_url(project)}/chat#message-{message.pk}",
        data={"message_id": message.pk, "excerpt": _excerpt(message.body)},
        snippet=message.body,
    )
    return message


@transaction.atomic
def message_edit(*, user: User, message: Message, body: str, tab_id: str | None = None) -> Message:
    """Replace the text of one's own message; people mentioned for the first time are notified."""
    _check_may_write(user=user, message=message)
    if message.author_id != user.pk:
        raise Forbidden("You can only edit your own messages.")
    if message.is_deleted:
        raise invalid("body", "A deleted message cannot be edited.")
    body = _clean_body(body)
    if body == message.body:
        return message
    newly_mentioned: list[User] = []
    if message.project is not None:
        before = set(mentioned_names(message.body))
        body_html, mentioned = _render_for_project(project=message.project, text=body)
        newly_mentioned = [member for name, member in mentioned.items() if name not in before]
    else:
        body_html = render_markdown(body)
    message.body, message.body_html, message.edited_at = body, body_html, timezone.now()
    message.save(update_fields=["body", "body_html", "edited_at"])
    _publish_message_event("chat.message_updated", message, user=user, tab_id=tab_id)
    if message.project is not None and newly_mentioned:
        project = message.project
        _notify_mentions(
            author=user,
            project=project,
            mentioned=newly_mentioned,
            where=f"{project.key} chat",
            url=f"{_project_base_url(project)}/chat#message-{message.pk}",
            data={"message_id": message.pk, "excerpt": _excerpt(body)},
            snippet=body,
        )
    return message


@transaction.atomic
def message_delete(*, user: User, message: Message, tab_id: str | None = None) -> Message:
    """Leave a tombstone: authors delete their own messages, project admins anyone's."""
    if message.project is not None:
        role = check_role(user, message.project, WRITE)
        is_moderator = RANK[Role(role)] >= RANK[Role(MANAGE)]
    else:
        # Site admins moderate conversations they are not part of (from the Django admin).
        is_moderator = user.is_staff
        if not is_moderator:
            _check_member(user=user, conversation=_conversation_of(message))
    if message.author_id != user.pk and not is_moderator:
        raise Forbidden("You can only delete your own messages.")
    if message.is_deleted:
        return message
    message.body, message.body_html = "", ""
    message.deleted_at, message.deleted_by = timezone.now(), user
    message.save(update_fields=["body", "body_html", "deleted_at", "deleted_by"])
    # A tombstone carries no reactions: they would point at text nobody can see.
    Reaction.objects.filter(message=message).delete()
    message = _reload(message)
    _publish_message_event("chat.message_deleted", message, user=user, tab_id=tab_id)
    return message


@transaction.atomic
def reaction_toggle(*, user: User, message: Message, emoji: str, tab_id: str | None = None) -> Message:
    """Add the caller's `emoji` to the message, or take it away if it is there.

    Locks the message row so two quick clicks toggle twice instead of colliding.
    """
    _check_may_write(user=user, message=message)
    Message.objects.select_for_update().filter(pk=message.pk).values_list("pk", flat=True).first()
    message.refresh_from_db(fields=["deleted_at"])
    if message.is_deleted:
        raise invalid("emoji", "A deleted message takes no reactions.")
    removed, _ = Reaction.objects.filter(message=message, user=user, emoji=emoji).delete()
    if not removed:
        Reaction.objects.create(message=message, user=user, emoji=emoji)
    message = _reload(message)
    payload = {
        "message_id": message.pk,
        "project_id": message.project_id,
        "conversation_id": message.conversation_id,
        "emoji": emoji,
        "user": user.username,
        "added": not removed,
        "reactions": reaction_summary(message, None),
    }
    if message.project_id is not None:
        publish("chat.reaction", payload, project_id=message.project_id, tab_id=tab_id, actor_id=user.pk)
    else:
        publish(
            "chat.reaction", payload, user_ids=_member_ids(_conversation_of(message)), tab_id=tab_id, actor_id=user.pk
        )
    return message


def _member_ids(conversation: Conversation) -> list[int]:
    return list(ConversationMember.objects.filter(conversation=conversation).values_list("user_id", flat=True))


def _publish_message_event(event: str, message: Message, *, user: User, tab_id: str | None) -> None:
    if message.project_id is not None:
        publish(event, _message_payload(message), project_id=message.project_id, tab_id=tab_id, actor_id=user.pk)
    else:
        event = event.replace("chat.", "dm.", 1)
        publish(
            event,
            _message_payload(message),
            user_ids=_member_ids(_conversation_of(message)),
            tab_id=tab_id,
            actor_id=user.pk,
        )


# --- conversations -----------------------------------------------------------------------


@transaction.atomic
def conversation_open(
    *, user: User, usernames: list[str], title: str = "", tab_id: str | None = None
) -> tuple[Conversation, bool]:
    """The DM with one other person (the existing one if any), or a new titled group.

    Returns (conversation, created). Naming oneself is allowed and ignored; a DM has no title.
    """
    wanted: dict[str, str] = {}  # lower-cased -> as written
    for name in usernames:
        if name.strip() and name.strip().lower() != user.username.lower():
            wanted.setdefault(name.strip().lower(), name.strip())
    if not wanted:
        raise invalid("usernames", "Name at least one other person.")
    if len(wanted) + 1 > GROUP_MAX_MEMBERS:
        raise invalid("usernames", f"A conversation has at most {GROUP_MAX_MEMBERS} members.")
    query = Q()
    for name in wanted:
        query |= Q(username__iexact=name)
    found: dict[str, User] = {}
    for candidate in User.objects.filter(query, is_active=True):
        lowered = candidate.username.lower()
        # Should two accounts differ only in case, the exact spelling wins.
        if lowered not in found or candidate.username == wanted[lowered]:
            found[lowered] = candidate
    missing = [wanted[name] for name in wanted if name not in found]
    if missing:
        raise invalid("usernames", f"No such user: {', '.join(sorted(missing))}.")
    others = sorted(found.values(), key=lambda u: u.pk)

    if len(others) == 1:
        other = others[0]
        low, high = sorted([user.pk, other.pk])
        conversation, created = Conversation.objects.get_or_create(
            dm_key=f"{low}:{high}", defaults={"kind": Conversation.Kind.DIRECT, "created_by": user}
        )
        if created:
            ConversationMember.objects.bulk_create(
                [ConversationMember(conversation=conversation, user=u) for u in (user, other)]
            )
    else:
        title = title.strip()
        if not title:
            raise invalid("title", "A group conversation needs a title.")
        conversation = Conversation.objects.create(kind=Conversation.Kind.GROUP, title=title, created_by=user)
        ConversationMember.objects.bulk_create(
            [ConversationMember(conversation=conversation, user=u) for u in [user, *others]]
        )
        created = True

    conversation = selectors.conversation_get(user=user, conversation_id=conversation.pk)
    if created:
        member_ids = [m.user_id for m in conversation.memberships.all()]
        payload = _plain(ConversationSerializer(conversation).data)
        payload["unread"] = 0
        publish("conversation.created", payload, user_ids=member_ids, tab_id=tab_id, actor_id=user.pk)
    return conversation, created


@transaction.atomic
def conversation_message_post(
    *, user: User, conversation: Conversation, body: str, tab_id: str | None = None
) -> Message:
    """Post to a conversation; every member's user socket gets `dm.message`, the others a notification."""
    _check_member(user=user, conversation=conversation)
    body = _clean_body(body)
    message = Message.objects.create(conversation=conversation, author=user, body=body, body_html=render_markdown(body))
    Conversation.objects.filter(pk=conversation.pk).update(last_message_at=message.created_at)
    member_ids = _member_ids(conversation)
    message = _reload(message)
    publish("dm.message", _message_payload(message), user_ids=member_ids, tab_id=tab_id, actor_id=user.pk)
    notify(
        recipients=User.objects.filter(pk__in=member_ids),
        kind=Notification.Kind.DM,
        actor=user,
        text=f"{user.name}: {_excerpt(body)}",
        url=f"/messages/{conversation.pk}",
        data={"conversation_id": conversation.pk, "message_id": message.pk},
        snippet=body,
    )
    return message


# --- read state --------------------------------------------------------------------------


def _read_target(*, queryset: Any, message_id: int | None) -> int:
    if message_id is None:
        return queryset.aggregate(newest=Max("id"))["newest"] or 0
    if not queryset.filter(pk=message_id).exists():
        raise invalid("message_id", "No such message in this channel.")
    return message_id


@transaction.atomic
def channel_mark_read(*, user: User, project: Project, message_id: int | None = None) -> tuple[int, int]:
    """Mark the project channel read up to `message_id` (default: the newest message).

    The marker only moves forward, so an old tab cannot un-read what a newer one read.
    Returns (last_read_id, unread left).
    """
    check_role(user, project, READ)
    target = _read_target(queryset=Message.objects.filter(project=project), message_id=message_id)
    state, _ = ChannelReadState.objects.select_for_update().get_or_create(project=project, user=user)
    if target > state.last_read_id:
        state.last_read_id = target
        state.save(update_fields=["last_read_id", "updated_at"])
    unread = selectors.channel_unread_count(user=user, project=project, last_read_id=state.last_read_id)
    publish(
        "chat.read", {"project": project.slug, "last_read_id": state.last_read_id, "unread": unread}, user_ids=[user.pk]
    )
    return state.last_read_id, unread


@transaction.atomic
def conversation_mark_read(*, user: User, conversation: Conversation, message_id: int | None = None) -> tuple[int, int]:
    """Like channel_mark_read, for a conversation the caller belongs to."""
    member = ConversationMember.objects.select_for_update().filter(conversation=conversation, user=user).first()
    if member is None:
        raise NotFound("Conversation not found.")
    target = _read_target(queryset=Message.objects.filter(conversation=conversation), message_id=message_id)
    if target > member.last_read_id:
        member.last_read_id = target
        member.save(update_fields=["last_read_id"])
    unread = (
        Message.objects.filter(conversation=conversation, id__gt=member.last_read_id, deleted_at__isnull=True)
        .exclude(author=user)
        .count()
    )
    publish(
        "dm.read",
        {"conversation_id": conversation.pk, "last_read_id": member.last_read_id, "unread": unread},
        user_ids=[user.pk],
    )
    if not unread:
        # Everything read here: the bell's notifications of these messages are read too.
        notification_mark_read_about(user=user, kind=Notification.Kind.DM, key="conversation_id", value=conversation.pk)
    return member.last_read_id, unread


# --- topics ------------------------------------------------------------------------------


def _topic_payload(topic: Topic) -> dict[str, Any]:
    return _plain(TopicSerializer(topic).data)


@transaction.atomic
def topic_create(*, user: User, project: Project, title: str, body: str = "", tab_id: str | None = None) -> Topic:
    check_role(user, project, WRITE)
    title = _clean_body(title, field="title", max_length=200)
    body = body.strip()
    if len(body) > TOPIC_BODY_MAX_LENGTH:
        raise invalid("body", f"Ensure this field has no more than {TOPIC_BODY_MAX_LENGTH} characters.")
    body_html, mentioned = _render_for_project(project=project, text=body)
    topic = Topic.objects.create(
        project=project, author=user, title=title, body=body, body_html=body_html, last_activity_at=timezone.now()
    )
    # TopicSerializer reads the count the selectors annotate; a new topic has no replies.
    setattr(topic, "reply_count", 0)  # noqa: B010
    publish("topic.created", _topic_payload(topic), project_id=project.pk, tab_id=tab_id, actor_id=user.pk)
    _notify_mentions(
        author=user,
        project=project,
        mentioned=mentioned.values(),
        where=f"the {project.key} topic “{title}”",
        url=f"{_project_base_url(project)}/topics/{topic.pk}",
        data={"topic_id": topic.pk, "excerpt": _excerpt(body)},
        snippet=body,
    )
    return topic


@transaction.atomic
def topic_update(
    *,
    user: User,
    topic: Topic,
    title: str | None = None,
    body: str | None = None,
    pinned: bool | None = None,
    locked: bool | None = None,
    tab_id: str | None = None,
) -> Topic:
    """Authors and admins edit title and body; only admins pin and lock."""
    project = topic.project
    check_role(user, project, WRITE)
    is_admin = has_role(user, project, MANAGE)
    if (pinned is not None or locked is not None) and not is_admin:
        raise Forbidden("Only project admins can pin or lock topics.")
    if (title is not None or body is not None) and not (is_admin or topic.author_id == user.pk):
        raise Forbidden("Only the author or a project admin can edit this topic.")
    fields: list[str] = []
    if title is not None:
        topic.title = _clean_body(title, field="title", max_length=200)
        fields.append("title")
    if body is not None:
        body = body.strip()
        if len(body) > TOPIC_BODY_MAX_LENGTH:
            raise invalid("body", f"Ensure this field has no more than {TOPIC_BODY_MAX_LENGTH} characters.")
        topic.body = body
        topic.body_html, _ = _render_for_project(project=project, text=body)
        fields += ["body", "body_html"]
    if pinned is not None:
        topic.pinned = pinned
        fields.append("pinned")
    if locked is not None:
        topic.locked = locked
        fields.append("locked")
    if fields:
        topic.save(update_fields=[*fields, "updated_at"])
        publish("topic.updated", _topic_payload(topic), project_id=project.pk, tab_id=tab_id, actor_id=user.pk)
    return topic


@transaction.atomic
def topic_delete(*, user: User, topic: Topic, tab_id: str | None = None) -> None:
    project = topic.project
    check_role(user, project, WRITE)
    if topic.author_id != user.pk and not has_role(user, project, MANAGE):
        raise Forbidden("Only the author or a project admin can delete this topic.")
    topic_id = topic.pk
    topic.delete()
    publish(
        "topic.deleted",
        {"id": topic_id, "project_id": project.pk},
        project_id=project.pk,
        tab_id=tab_id,
        actor_id=user.pk,
    )


@transaction.atomic
def topic_reply(*, user: User, topic: Topic, body: str, tab_id: str | None = None) -> TopicReply:
    """Reply to an open topic. Locked topics take no replies from anyone."""
    project = topic.project
    check_role(user, project, WRITE)
    locked = Topic.objects.select_for_update().filter(pk=topic.pk).values_list("locked", flat=True).first()
    if locked:
        raise Forbidden("This topic is locked: it takes no new replies.")
    body = _clean_body(body, max_length=TOPIC_BODY_MAX_LENGTH)
    body_html, mentioned = _render_for_project(project=project, text=body)
    reply = TopicReply.objects.create(topic=topic, author=user, body=body, body_html=body_html)
    Topic.objects.filter(pk=topic.pk).update(last_activity_at=reply.created_at)
    publish(
        "topic.reply", _plain(TopicReplySerializer(reply).data), project_id=project.pk, tab_id=tab_id, actor_id=user.pk
    )
    _notify_mentions(
        author=user,
        project=project,
        mentioned=mentioned.values(),
        where=f"the {project.key} topic “{topic.title}”",
        url=f"{_project_base_url(project)}/topics/{topic.pk}#reply-{reply.pk}",
        data={"topic_id": topic.pk, "reply_id": reply.pk, "excerpt": _excerpt(body)},
        snippet=body,
    )
    return reply


@transaction.atomic
def topic_reply_delete(*, user: User, reply: TopicReply, tab_id: str | None = None) -> None:
    """Remove a reply: its author, or a project admin (a site admin moderating from the Django admin)."""
    topic = reply.topic
    project = topic.project
    check_role(user, project, WRITE)
    if reply.author_id != user.pk and not has_role(user, project, MANAGE):
        raise Forbidden("Only the author or a project admin can delete this reply.")
    reply_id = reply.pk
    reply.delete()
    publish(
        "topic.reply_deleted",
        {"id": reply_id, "topic_id": topic.pk, "project_id": project.pk},
        project_id=project.pk,
        tab_id=tab_id,
        actor_id=user.pk,
    )
