"""E-mail delivery of notifications: instant mails, the DM delay, the daily digest, unsubscribing.

Nothing here runs inside a request. `notify` enqueues `notifications.tasks.send_emails` once
the notification is committed; the task calls `deliver`, which decides per row at send time
(read since? preference changed? a DM still inside its delay?) and claims each row with a
conditional update before sending, so a late task and the sweep never mail the same thing
twice. A mail that fails is logged, marked failed and tried twice more (5 and 20 minutes
later, on a task backend that can defer): the in-app notification stays as it was committed.
`sweep` (the pending rows whose task never came, and DMs on a task backend that cannot
defer) and `digests_send` run from `manage.py punt_notifications`.

The Markdown snippet is rendered with the renderer the tickets app registers (tickets depends
on notifications, never the other way round), then cleaned again for e-mail: no images
(remote images are read receipts) and absolute links.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import nh3
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, linebreaks

from accounts.models import User
from notifications.models import DEFAULT_DELIVERY, Notification, NotificationPreference
from punt.errors import Invalid

logger = logging.getLogger(__name__)

Delivery = NotificationPreference.Delivery
Email = Notification.Email

SNIPPET_MAX = 600
SUBJECT_MAX = 150
UNSUBSCRIBE_SALT = "notifications.unsubscribe"
# The token of a digest names this instead of a kind: unsubscribing turns off every kind the
# user gets in the digest.
DIGEST_TOKEN_KIND = "digest"
# A pending row this old was never picked up (no worker ran): mailing it now would be news
# from another week. The sweep marks it skipped.
STALE_AFTER = datetime.timedelta(days=2)
# The sweep leaves recent rows to the task enqueued for them.
SWEEP_GRACE = datetime.timedelta(minutes=2)
# An instant mail that fails is sent again after 5 minutes, then 20: three attempts in all.
EMAIL_ATTEMPTS = 3
EMAIL_RETRY_BASE = datetime.timedelta(minutes=5)

_EMAIL_TAGS = {
    "a",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "hr",
    "i",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "ul",
}
_RELATIVE_HREF_RE = re.compile(r'href="/(?!/)')

_markdown_renderer: Callable[[str], str] | None = None


def markdown_renderer_register(render: Callable[[str], str]) -> None:
    """The app that owns Markdown (tickets) hands over its sanitising renderer at start-up."""
    global _markdown_renderer
    _markdown_renderer = render


def emailable(*, kind: str, data: dict[str, Any]) -> bool:
    """Whether a notification of `kind` is ever mailed: of a watched ticket only its comments are
    (moves and edits of every watched ticket would flood an inbox)."""
    if kind == Notification.Kind.WATCHED:
        return data.get("action") == "commented"
    return True


def dm_delay() -> datetime.timedelta:
    return datetime.timedelta(minutes=settings.PUNT_DM_EMAIL_DELAY_MINUTES)


def site_url(path: str) -> str:
    if not path:
        return settings.SITE_URL + "/"
    return settings.SITE_URL + (path if path.startswith("/") else "/" + path)


# --------------------------------------------------------------------------- unsubscribe


def unsubscribe_token(*, user_id: int, kind: str) -> str:
    return signing.dumps([user_id, kind], salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_read(token: str) -> tuple[int, str]:
    """(user id, kind) of a token this site signed; Invalid for anything else.

    No expiry: a link in a mail from last year must still work (RFC 8058 asks that it does)."""
    try:
        user_id, kind = signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise Invalid("This unsubscribe link is not valid.") from exc
    if not isinstance(user_id, int) or (kind not in Notification.Kind.values and kind != DIGEST_TOKEN_KIND):
        raise Invalid("This unsubscribe link is not valid.")
    return user_id, kind


def unsubscribe_url(*, user_id: int, kind: str) -> str:
    token = unsubscribe_token(user_id=user_id, kind=kind)
    return site_url(reverse("notification-unsubscribe", kwargs={"token": token}))


# --------------------------------------------------------------------------- preferences


def deliveries_for(user_ids: Iterable[int]) -> dict[int, dict[str, str]]:
    """Each user's delivery per kind, defaults filled in (one query)."""
    result = {user_id: dict(DEFAULT_DELIVERY) for user_id in user_ids}
    rows = NotificationPreference.objects.filter(user_id__in=list(result)).values_list("user_id", "kind", "delivery")
    for user_id, kind, delivery in rows:
        result[user_id][kind] = delivery
    return result


# --------------------------------------------------------------------------- rendering


def snippet_html(markdown: str) -> str:
    """The snippet as safe HTML for a mail: the project's renderer, then no images and absolute links."""
    if not markdown:
        return ""
    rendered = _markdown_renderer(markdown) if _markdown_renderer is not None else linebreaks(escape(markdown))
    cleaned = nh3.clean(
        rendered,
        tags=_EMAIL_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return _RELATIVE_HREF_RE.sub(f'href="{settings.SITE_URL}/', cleaned)


def _snippet_source(notification: Notification) -> str:
    snippet = notification.snippet
    return snippet if len(snippet) <= SNIPPET_MAX else snippet[:SNIPPET_MAX].rstrip() + "…"


def _subject(text: str) -> str:
    # Header values must be one line; notification texts may quote a multi-line message.
    line = " ".join(text.split())
    return line if len(line) <= SUBJECT_MAX else line[: SUBJECT_MAX - 1] + "…"


def _item(notification: Notification) -> dict[str, Any]:
    """What both templates show of one notification."""
    ticket = notification.data.get("ticket") or {}
    source = _snippet_source(notification)
    return {
        "kind": notification.kind,
        "kind_label": Notification.Kind(notification.kind).label,
        "text": notification.text,
        "actor": notification.actor,
        "project": notification.project,
        "ticket_key": ticket.get("key", ""),
        "ticket_title": ticket.get("title", ""),
        "snippet_text": source,
        "snippet_html": snippet_html(source),
        "link": site_url(notification.url),
    }


def _message(
    *, recipient: User, subject: str, template: str, context: dict[str, Any], unsubscribe_kind: str
) -> EmailMultiAlternatives:
    unsubscribe = unsubscribe_url(user_id=recipient.pk, kind=unsubscribe_kind)
    context = {
        **context,
        "recipient": recipient,
        "unsubscribe_url": unsubscribe,
        "settings_url": site_url(reverse("web:user_settings")) + "#notifications",
        "site_url": settings.SITE_URL,
    }
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"notifications/email/{template}.txt", context),
        to=[recipient.email],
        headers={
            # RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click" to the URL.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(render_to_string(f"notifications/email/{template}.html", context), "text/html")
    return message


def instant_message(notification: Notification) -> EmailMultiAlternatives:
    item = _item(notification)
    prefix = f"[{item['ticket_key']}] " if item["ticket_key"] else ""
    return _message(
        recipient=notification.recipient,
        subject=_subject(prefix + notification.text),
        template="instant",
        context={"item": item},
        unsubscribe_kind=notification.kind,
    )


@dataclass
class ProjectGroup:
    name: str
    items: list[dict[str, Any]]


def digest_message(recipient: User, notifications: list[Notification]) -> EmailMultiAlternatives:
    """One mail for one user: the notifications grouped by project, projects by name, then the rest."""
    groups: dict[int | None, ProjectGroup] = {}
    for notification in notifications:
        project = notification.project
        group = groups.get(notification.project_id)
        if group is None:
            group = groups[notification.project_id] = ProjectGroup(
                name=project.name if project is not None else "Direct messages and more", items=[]
            )
        group.items.append(_item(notification))
    ordered = sorted(groups.items(), key=lambda pair: (pair[0] is None, pair[1].name.lower()))
    count = len(notifications)
    return _message(
        recipient=recipient,
        subject=f"PUNT digest: {count} notification{'s' if count != 1 else ''}",
        template="digest",
        context={"groups": [group for _, group in ordered], "count": count},
        unsubscribe_kind=DIGEST_TOKEN_KIND,
    )


# --------------------------------------------------------------------------- sending


def _decide(notification: Notification, delivery: str, now: datetime.datetime) -> str | None:
    """The row's next e-mail state, or None when a DM is still inside its delay."""
    recipient = notification.recipient
    if (
        notification.read_at is not None
        or not recipient.is_active
        or not recipient.email
        or notification.actor_id == notification.recipient_id
        or not emailable(kind=notification.kind, data=notification.data)
    ):
        return Email.SKIPPED
    if notification.created_at < now - STALE_AFTER:
        return Email.SKIPPED
    if notification.kind == Notification.Kind.DM and notification.created_at > now - dm_delay():
        return None
    if delivery == Delivery.OFF:
        return Email.SKIPPED
    if delivery == Delivery.DIGEST:
        return Email.DIGEST
    return Email.SENT


def _send(message: EmailMultiAlternatives) -> bool:
    try:
        message.send()
    # Any backend's error (SMTP, a socket, an anymail API error): the next mail still goes out,
    # and the notification, already committed, is untouched.
    except Exception:
        logger.exception("Sending a notification e-mail to %s failed", message.to)
        return False
    return True


def _conversation_key(notification: Notification) -> tuple[int, int] | None:
    conversation_id = notification.data.get("conversation_id")
    if notification.kind != Notification.Kind.DM or not isinstance(conversation_id, int):
        return None
    return notification.recipient_id, conversation_id


def _conversations_mailed_unread(rows: list[Notification]) -> set[tuple[int, int]]:
    """(recipient, conversation) pairs of `rows`' DMs already mailed and still unread (one query)."""
    wanted = {key for key in map(_conversation_key, rows) if key is not None}
    if not wanted:
        return set()
    mailed = Notification.objects.filter(
        kind=Notification.Kind.DM,
        email=Email.SENT,
        read_at__isnull=True,
        recipient_id__in={recipient for recipient, _ in wanted},
    ).values_list("recipient_id", "data__conversation_id")
    return {(recipient, conversation) for recipient, conversation in mailed} & wanted


def _retry_later(notification_ids: list[int], *, attempt: int, now: datetime.datetime) -> None:
    """Try the failed mails again later (a mail server down for a while), at most EMAIL_ATTEMPTS
    times in all, waiting 5 min, then 20: only on a task backend that can defer. They stay
    failed in between; the sweep never takes failed rows, so the attempts stay bounded."""
    from django_tasks import default_task_backend

    from notifications.tasks import send_emails

    if attempt >= EMAIL_ATTEMPTS or not default_task_backend.supports_defer:
        return
    wait = EMAIL_RETRY_BASE * 4 ** (attempt - 1)
    send_emails.using(run_after=now + wait).enqueue(notification_ids, attempt + 1)


def deliver(*, notification_ids: list[int], now: datetime.datetime | None = None, attempt: int = 1) -> int:
    """Send the instant mails of these notifications, queue digest ones; returns how many were sent.

    Runs in a task, after the notifications committed. Each row is claimed with a conditional
    update from pending (from failed on a later attempt), so running twice (a retried task, the
    sweep) never mails twice. Mails that fail are marked failed and tried again later.
    """
    now = now or timezone.now()
    waiting = Email.PENDING if attempt == 1 else Email.FAILED
    rows = list(
        Notification.objects.filter(pk__in=notification_ids, email=waiting)
        .select_related("recipient", "actor", "project")
        .order_by("id")
    )
    if not rows:
        return 0
    deliveries = deliveries_for({row.recipient_id for row in rows})
    mailed_unread = _conversations_mailed_unread(rows)
    sent = 0
    failed: list[int] = []
    for notification in rows:
        state = _decide(notification, deliveries[notification.recipient_id][notification.kind], now)
        if state is None:
            continue
        conversation = _conversation_key(notification)
        if state == Email.SENT and conversation is not None:
            # One mail per conversation until the recipient reads it (reading it marks its
            # notifications read): ten unread messages are one e-mail, not ten.
            if conversation in mailed_unread:
                state = Email.SKIPPED
            mailed_unread.add(conversation)
        claimed = Notification.objects.filter(pk=notification.pk, email=waiting).update(
            email=state, emailed_at=now if state == Email.SENT else None
        )
        if not claimed or state != Email.SENT:
            continue
        if _send(instant_message(notification)):
            sent += 1
        else:
            Notification.objects.filter(pk=notification.pk).update(email=Email.FAILED, emailed_at=None)
            failed.append(notification.pk)
    if failed:
        _retry_later(failed, attempt=attempt, now=now)
    return sent


def sweep(*, now: datetime.datetime | None = None) -> int:
    """Deliver the pending rows whose task never came or ran before a DM's delay was up.

    For `manage.py punt_notifications`; on a task backend that can defer, DMs do not need it.
    """
    now = now or timezone.now()
    ids = list(
        Notification.objects.filter(email=Email.PENDING, created_at__lte=now - SWEEP_GRACE)
        .order_by("id")
        .values_list("pk", flat=True)[:5000]
    )
    sent = 0
    for start in range(0, len(ids), 200):
        sent += deliver(notification_ids=ids[start : start + 200], now=now)
    return sent


def digests_send(*, now: datetime.datetime | None = None) -> int:
    """One digest mail per user with rows waiting for it; returns how many mails went out.

    A row read in the app since, or whose kind the user has turned off since, is skipped. A
    digest that fails to send goes back in the queue for the next run.
    """
    now = now or timezone.now()
    waiting = list(
        Notification.objects.filter(email=Email.DIGEST)
        .select_related("recipient", "actor", "project")
        .order_by("recipient_id", "id")
    )
    by_user: dict[int, list[Notification]] = defaultdict(list)
    for notification in waiting:
        by_user[notification.recipient_id].append(notification)
    deliveries = deliveries_for(by_user)
    sent = 0
    for user_id, rows in by_user.items():
        recipient = rows[0].recipient
        wanted = [
            row
            for row in rows
            if row.read_at is None
            and recipient.is_active
            and recipient.email
            and deliveries[user_id][row.kind] != Delivery.OFF
        ]
        unwanted = [row.pk for row in rows if row not in wanted]
        if unwanted:
            Notification.objects.filter(pk__in=unwanted, email=Email.DIGEST).update(email=Email.SKIPPED)
        ids = [row.pk for row in wanted]
        if not ids:
            continue
        claimed = Notification.objects.filter(pk__in=ids, email=Email.DIGEST).update(email=Email.SENT, emailed_at=now)
        if claimed != len(ids):
            # Another run took some of them: mail only what this one claimed.
            mine = set(Notification.objects.filter(pk__in=ids, emailed_at=now).values_list("pk", flat=True))
            wanted = [row for row in wanted if row.pk in mine]
            ids = [row.pk for row in wanted]
            if not ids:
                continue
        if _send(digest_message(recipient, wanted)):
            sent += 1
        else:
            Notification.objects.filter(pk__in=ids).update(email=Email.DIGEST, emailed_at=None)
    return sent


def schedule(*, instant_ids: list[int], dm_ids: list[int]) -> None:
    """Enqueue the mails of freshly committed notifications (called on commit, never in the transaction)."""
    from django_tasks import default_task_backend

    from notifications.tasks import send_emails

    if instant_ids:
        send_emails.enqueue(instant_ids)
    if dm_ids and default_task_backend.supports_defer:
        send_emails.using(run_after=timezone.now() + dm_delay()).enqueue(dm_ids)
    # Without deferral the DMs wait for `manage.py punt_notifications --sweep`.
