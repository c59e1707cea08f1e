"""Every write to notifications: create them (for other apps), mark them read.

`notify` is the entry point for the apps that have something to tell a user (ticket
mentions, assignments and watchers; chat mentions and DMs). Events go out on commit
through punt.events.publish, on each recipient's user group only.

One action tells each person one thing: a service whose action may notify the same person
several times (a comment that mentions a watcher, an update that assigns a watcher) runs
inside `notification_batch()`, and each recipient gets only the most specific of them.

Each committed notification may also go out by e-mail (notifications.emails): `notify`
enqueues that on commit, and the preferences that steer it are written here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from notifications import emails
from notifications.models import Notification, NotificationPreference
from notifications.serializers import NotificationSerializer
from projects.models import Project
from punt.errors import NotFound, invalid
from punt.events import publish

TEXT_MAX_LENGTH = 500

# Which kind wins when one action would tell a person several things: the one that says
# why it concerns them most directly.
SPECIFICITY = {
    Notification.Kind.MENTION: 4,
    Notification.Kind.ASSIGNED: 3,
    Notification.Kind.DM: 2,
    Notification.Kind.DUE: 1,
    Notification.Kind.WATCHED: 0,
}

# The open batch's notifications, by recipient id (None outside a batch).
_pending: ContextVar[dict[int, Notification] | None] = ContextVar("notification_batch", default=None)


def _plain(data: Any) -> Any:
    # Channel layers (msgpack on Redis) want plain dicts/lists/strings, not DRF's
    # ReturnDict or datetimes.
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


@transaction.atomic
def notify(
    *,
    recipients: Iterable[User],
    kind: str,
    actor: User | None,
    text: str,
    url: str = "",
    project: Project | None = None,
    data: dict[str, Any] | None = None,
    snippet: str = "",
) -> list[Notification]:
    """Create one notification per recipient and push `notification.created` to each of them.

    The public entry point for other apps (ticket mentions, assignments, watchers). The
    actor is never notified of their own action; duplicates and inactive users are dropped.
    The caller has checked that each recipient may see what `url` points to. Inside a
    `notification_batch()` they are written when the batch closes (the returned ones are
    unsaved until then) and a recipient keeps only the most specific one.

    `snippet`: the Markdown of what was said (a comment, a message), kept short for the e-mail
    (not part of the API's shape). E-mails are enqueued once the notifications commit.
    """
    if kind not in Notification.Kind.values:
        raise ValueError(f"Unknown notification kind {kind!r}.")
    actor_id = actor.pk if actor is not None else None
    unique: dict[int, User] = {}
    for recipient in recipients:
        if recipient.pk != actor_id and recipient.is_active:
            unique.setdefault(recipient.pk, recipient)
    if not unique:
        return []
    data = data or {}
    email = Notification.Email.PENDING if emails.emailable(kind=kind, data=data) else Notification.Email.SKIPPED
    notifications = [
        Notification(
            recipient=recipient,
            kind=kind,
            actor=actor,
            text=text[:TEXT_MAX_LENGTH],
            url=url[:TEXT_MAX_LENGTH],
            project=project,
            data=data,
            snippet=snippet[: emails.SNIPPET_MAX + 1],
            email=email,
        )
        for recipient in unique.values()
    ]
    pending = _pending.get()
    if pending is None:
        return _save_and_publish(notifications)
    for notification in notifications:
        held = pending.get(notification.recipient_id)
        if held is None or SPECIFICITY[notification.kind] > SPECIFICITY[held.kind]:  # type: ignore[index]
            pending[notification.recipient_id] = notification
    return notifications


def _save_and_publish(notifications: list[Notification]) -> list[Notification]:
    notifications = Notification.objects.bulk_create(notifications)
    for notification in notifications:
        publish(
            "notification.created",
            _plain(NotificationSerializer(notification).data),
            user_ids=[notification.recipient_id],
            actor_id=notification.actor_id,
        )
    mailed = [notification for notification in notifications if notification.email == Notification.Email.PENDING]
    if mailed:
        instant_ids = [n.pk for n in mailed if n.kind != Notification.Kind.DM]
        dm_ids = [n.pk for n in mailed if n.kind == Notification.Kind.DM]

        def schedule_emails() -> None:
            emails.schedule(instant_ids=instant_ids, dm_ids=dm_ids)

        # robust: a task queue that is down costs the e-mail, never the notification or the action.
        # (A named function, not a partial: Django logs a robust callback's failure by __qualname__.)
        transaction.on_commit(schedule_emails, robust=True)
    return notifications


@contextmanager
def notification_batch() -> Iterator[None]:
    """Collect the notifications of one action; each recipient gets one, the most specific kind.

    Use it (as a decorator or a `with` block) inside the action's transaction, so the
    notifications are written with it. A batch inside a batch joins the outer one.
    """
    if _pending.get() is not None:
        yield
        return
    pending: dict[int, Notification] = {}
    token = _pending.set(pending)
    try:
        yield
    finally:
        _pending.reset(token)
    if pending:
        _save_and_publish(list(pending.values()))


@transaction.atomic
def notification_mark_read(*, user: User, notification: Notification) -> Notification:
    """Mark one of `user`'s notifications read (idempotent); anyone else's is NotFound."""
    if notification.recipient_id != user.pk:
        raise NotFound("Notification not found.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        publish("notification.read", {"ids": [notification.pk]}, user_ids=[user.pk], actor_id=user.pk)
    return notification


@transaction.atomic
def notification_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of `user` read; returns how many there were."""
    unread = Notification.objects.filter(recipient=user, read_at__isnull=True)
    marked = unread.update(read_at=timezone.now())
    if marked:
        publish("notification.read", {"all": True}, user_ids=[user.pk], actor_id=user.pk)
    return marked


@transaction.atomic
def notification_mark_read_about(*, user: User, kind: str, key: str, value: int) -> int:
    """Mark read `user`'s unread notifications of `kind` whose data has `key` = `value`.

    For the app that owns the thing they point to, when the user has seen it (reading a
    conversation reads the notifications of its direct messages). Returns how many.
    """
    unread = Notification.objects.filter(recipient=user, kind=kind, read_at__isnull=True, **{f"data__{key}": value})
    ids = list(unread.values_list("pk", flat=True))
    if ids:
        Notification.objects.filter(pk__in=ids).update(read_at=timezone.now())
        publish("notification.read", {"ids": ids}, user_ids=[user.pk], actor_id=user.pk)
    return len(ids)


# --------------------------------------------------------------------------- e-mail preferences


def notification_preferences(*, user: User) -> dict[str, str]:
    """`user`'s e-mail delivery per kind, defaults filled in."""
    return emails.deliveries_for([user.pk])[user.pk]


@transaction.atomic
def notification_preferences_update(*, user: User, changes: Mapping[str, str]) -> dict[str, str]:
    """Set the delivery of the kinds in `changes` (kind -> instant/digest/off); the rest stay."""
    for kind, delivery in changes.items():
        if kind not in Notification.Kind.values:
            raise invalid(kind, "Unknown notification kind.")
        if delivery not in NotificationPreference.Delivery.values:
            raise invalid(kind, "Choose instant, digest or off.")
    if changes:
        NotificationPreference.objects.bulk_create(
            [NotificationPreference(user=user, kind=kind, delivery=delivery) for kind, delivery in changes.items()],
            update_conflicts=True,
            unique_fields=["user", "kind"],
            update_fields=["delivery"],
        )
    return notification_preferences(user=user)


@transaction.atomic
def notification_unsubscribe(*, token: str) -> tuple[User, list[str]]:
    """Turn off what a mail's unsubscribe token names; returns the user and the kinds turned off.

    The token is the credential (the one-click POST comes from a mail client, signed out). A
    digest's token turns off every kind the user gets in the digest.
    """
    user_id, kind = emails.unsubscribe_read(token)
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise invalid("token", "This unsubscribe link is not valid.")
    if kind == emails.DIGEST_TOKEN_KIND:
        current = notification_preferences(user=user)
        kinds = [k for k, delivery in current.items() if delivery == NotificationPreference.Delivery.DIGEST]
    else:
        kinds = [kind]
    notification_preferences_update(user=user, changes={k: NotificationPreference.Delivery.OFF for k in kinds})
    return user, kinds


# What each kind means to someone choosing how to hear about it, in the order pages show them.
PREFERENCE_LABELS: dict[str, str] = {
    "mention": "Someone mentions you",
    "assigned": "A ticket is assigned to you",
    "watched": "Comments on tickets you watch",
    "dm": "Direct messages you have not read",
    "due": "Your tickets due tomorrow",
}
