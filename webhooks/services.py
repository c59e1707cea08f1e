"""Writes of the integrations: git host hooks, chat webhooks, outgoing hooks, the CI Ticket API.

Every public function is keyword-only and runs in one transaction, except the few that
say why not: the event-bus hook (it joins the publisher's transaction), the delivery
worker (no transaction may span an HTTP call) and the Idempotency-Key wrapper (it owns
its transaction). Callers have already checked the caller's role (projects.permissions)
or the hook's signature; ticket and chat rules live in tickets/services/ and
chat/services.py, which these functions call.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.db.models.functions import Lower
from django.utils import timezone

from audit.services import audit_record, changes
from chat import services as chat_services
from chat.models import MESSAGE_MAX_LENGTH, Message
from projects.models import Column, Project
from projects.permissions import WRITE, has_role
from projects.services import column_for_category
from punt import errors
from punt.errors import invalid as _invalid
from punt.ops import metrics
from punt.ranges import column_range
from tickets import pql
from tickets import services as ticket_services
from tickets.models import Ticket
from webhooks import chatpayload, fastpath, gitparse, outgoing
from webhooks.models import ChatWebhook, Delivery, GitDelivery, GitHook, Hook, IdempotencyRecord, hash_token

logger = logging.getLogger("punt.webhooks")
User = get_user_model()

EVENT_NAME_MAX = 100
HOOK_EVENTS_MAX = 50
# Events that are not changes (presence comes and goes with browser tabs): never delivered.
UNDELIVERED_EVENT_PREFIXES = ("presence.",)


class IdempotencyConflict(errors.Unprocessable):
    """The Idempotency-Key was already used for a different request."""

    default_message = "This Idempotency-Key was already used with a different request."
    code = "idempotency_conflict"


# --------------------------------------------------------------------------- git host hooks


GIT_SECRET_MIN, GIT_SECRET_MAX = 16, 128


def _clean_git_secret(secret: str) -> str:
    if not GIT_SECRET_MIN <= len(secret) <= GIT_SECRET_MAX:
        raise _invalid("secret", f"A secret has {GIT_SECRET_MIN} to {GIT_SECRET_MAX} characters.")
    # It travels in a header (GitLab) and is typed into a git host's form: visible ASCII only.
    if not all("!" <= char <= "~" for char in secret):
        raise _invalid("secret", "A secret is made of visible ASCII characters, without spaces.")
    return secret


@transaction.atomic
def git_hook_create(
    *, project: Project, provider: str, by: Any, signed: bool = True, secret: str = "", request: Any = None
) -> GitHook:
    """A new endpoint for `provider` with a fresh token (in its URL).

    Signed (the default): deliveries must prove `secret`, generated when not given. Unsigned:
    no secret, the token admits deliveries (what a git host set up with the URL alone sends).
    """
    if provider not in GitHook.Provider.values:
        raise _invalid("provider", f"Choose one of: {', '.join(GitHook.Provider.values)}.")
    if not signed and secret:
        raise _invalid("secret", "An unsigned hook has no secret.")
    if signed:
        secret = _clean_git_secret(secret) if secret else secrets.token_hex(32)
    hook = GitHook.objects.create(
        project=project,
        provider=provider,
        token=secrets.token_urlsafe(24),
        secret=secret,
        created_by=by,
    )
    after = {"kind": "git", "provider": provider, "signed": signed}
    audit_record(action="webhook.created", actor=by, request=request, target=hook, project=project, after=after)
    return hook


@transaction.atomic
def git_hook_revoke(*, hook: GitHook, by: Any, request: Any = None) -> GitHook:
    """Stop accepting deliveries for `hook` (its URL answers 404 from now on)."""
    if hook.revoked_at is None:
        hook.revoked_at = timezone.now()
        hook.save(update_fields=["revoked_at"])
        before = {"kind": "git", "provider": hook.provider}
        audit_record(
            action="webhook.deleted", actor=by, request=request, target=hook, project=hook.project, before=before
        )
    return hook


@dataclass
class _Authors:
    """Project members recognised by the e-mail a git host reports, for attribution."""

    by_email: dict[str, Any]

    def get(self, email: str) -> Any:
        return self.by_email.get((email or "").lower())


def _authors(project: Project, changes: list[gitparse.GitChange]) -> _Authors:
    emails = {change.author_email.lower() for change in changes if change.author_email}
    if not emails:
        return _Authors({})
    users = User.objects.annotate(email_lower=Lower("email")).filter(
        email_lower__in=emails, memberships__project=project, is_active=True
    )
    return _Authors({user.email_lower: user for user in users})


def _apply_changes(*, hook: GitHook, parsed: gitparse.ParsedDelivery) -> dict[str, Any]:
    """Link every referenced ticket of the hook's project; close those a fix reached."""
    project = hook.project
    wanted: set[int] = set()
    for change in parsed.changes:
        wanted.update(gitparse.referenced_numbers(change.text, project.key))
    # A number no ticket can have (BLOG-99999999999) would make the query below a database error.
    low, high = column_range(Ticket, "number")
    wanted = {number for number in wanted if low <= number <= high}
    if not wanted:
        return {"links": [], "closed": []}
    tickets = {
        ticket.number: ticket
        for ticket in Ticket.objects.filter(project=project, number__in=wanted, deleted_at__isnull=True).select_related(
            "project", "column"
        )
    }
    authors = _authors(project, parsed.changes)
    links: list[dict[str, Any]] = []
    closed: list[str] = []
    for change in parsed.changes:
        by = authors.get(change.author_email)
        for number in gitparse.referenced_numbers(change.text, project.key):
            ticket = tickets.get(number)
            if ticket is None:
                continue
            link, created = ticket_services.git_link_add(
                ticket=ticket,
                url=change.url,
                kind=change.kind,
                title=change.title,
                ref=change.ref,
                provider=hook.provider,
                state=change.state,
                by=by,
            )
            links.append({"ticket": ticket.key, "kind": link.kind, "ref": link.ref, "url": link.url, "new": created})
        if not change.closes:
            continue
        for number in gitparse.closing_numbers(change.text, project.key):
            ticket = tickets.get(number)
            if ticket is None or ticket.state == Ticket.State.CLOSED:
                continue
            # force: the fix has shipped whatever the board planned; a done column's WIP limit
            # must not turn the whole delivery (its links included) into a 409 the host retries.
            tickets[number] = ticket_services.ticket_update(ticket=ticket, by=by, status="done", force=True)
            closed.append(ticket.key)
    return {"links": links, "closed": closed}


@transaction.atomic
def git_delivery_receive(
    *, hook: GitHook, delivery_id: str, event: str, payload: dict[str, Any]
) -> tuple[GitDelivery, bool]:
    """Record and apply one verified delivery; (delivery, False) if this id was seen before.

    The delivery row is written first: a concurrent redelivery of the same id waits on the
    unique index and then finds it, so links and transitions happen once.
    """
    existing = GitDelivery.objects.filter(hook=hook, delivery_id=delivery_id).first()
    if existing is not None:
        return existing, False
    parsed = gitparse.parse(hook.provider, event, payload)
    if event in gitparse.PING_EVENTS:
        outcome = GitDelivery.Outcome.PING
    elif parsed is None:
        outcome = GitDelivery.Outcome.IGNORED
    else:
        outcome = GitDelivery.Outcome.PROCESSED
    try:
        with transaction.atomic():
            delivery = GitDelivery.objects.create(
                hook=hook, delivery_id=delivery_id, event=event[:100], outcome=outcome
            )
    except IntegrityError:
        return GitDelivery.objects.get(hook=hook, delivery_id=delivery_id), False
    GitHook.objects.filter(pk=hook.pk).update(last_delivery_at=timezone.now())
    if outcome == GitDelivery.Outcome.IGNORED:
        logger.info("Ignored %s event %r (delivery %s) for hook %s", hook.provider, event, delivery_id, hook.pk)
        return delivery, True
    if parsed is not None:
        delivery.summary = _apply_changes(hook=hook, parsed=parsed)
        delivery.save(update_fields=["summary"])
    return delivery, True


# --------------------------------------------------------------------------- incoming chat webhooks

CHAT_TOKEN_PREFIX = "pcw_"


@transaction.atomic
def chat_webhook_create(*, project: Project, name: str, by: Any, request: Any = None) -> tuple[ChatWebhook, str]:
    """A new token; returns (webhook, raw token). Only the hash is kept: the token is shown once."""
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "Give the webhook a name (where its messages come from).")
    if len(name) > 100:
        raise _invalid("name", "A name has at most 100 characters.")
    raw = CHAT_TOKEN_PREFIX + secrets.token_urlsafe(32)
    webhook = ChatWebhook.objects.create(
        project=project, name=name, token_hash=hash_token(raw), token_prefix=raw[:10], created_by=by
    )
    after = {"kind": "chat", "name": name}
    audit_record(action="webhook.created", actor=by, request=request, target=webhook, project=project, after=after)
    return webhook, raw


@transaction.atomic
def chat_webhook_revoke(*, webhook: ChatWebhook, by: Any, request: Any = None) -> ChatWebhook:
    if webhook.revoked_at is None:
        webhook.revoked_at = timezone.now()
        webhook.save(update_fields=["revoked_at"])
        before = {"kind": "chat", "name": webhook.name}
        project = webhook.project
        audit_record(
            action="webhook.deleted", actor=by, request=request, target=webhook, project=project, before=before
        )
    return webhook


# Characters that would turn a sender name into Markdown or a mention.
_SENDER_DROP = str.maketrans("", "", "*_`[]()<>#@\\|~\n\r")


class WebhookOrphaned(errors.Conflict):
    default_message = "The person who created this webhook can no longer post in this project; create a new one."
    code = "webhook_orphaned"


# Room kept in a message for the "**sender**: " that leads it when a post names another sender.
_SENDER_ROOM = 110


@transaction.atomic
def chat_webhook_post(*, webhook: ChatWebhook, payload: Any) -> Message:
    """Post what `payload` (any parsed JSON) says to the webhook's project chat, from the webhook.

    `{"text", "username"}` posts the text; any other JSON posts a readable summary of it
    (webhooks/chatpayload.py). The message's sender is the webhook's name, with no author;
    a `username` other than that name leads the text in bold. The webhook lives on its
    creator's rights: once they may no longer write in the project, it stops posting.
    """
    creator = webhook.created_by
    project = webhook.project
    if creator is None or not creator.is_active or not has_role(creator, project, WRITE):
        raise WebhookOrphaned()
    post = chatpayload.read(payload, limit=MESSAGE_MAX_LENGTH - _SENDER_ROOM)
    if post.written and len(post.text) > MESSAGE_MAX_LENGTH:
        raise _invalid("text", f"Ensure this field has no more than {MESSAGE_MAX_LENGTH} characters.")
    username = " ".join(post.username.translate(_SENDER_DROP).split())[:100]
    text = post.text
    if username and username.lower() != webhook.name.lower():
        lead = f"**{username}**: "
        room = MESSAGE_MAX_LENGTH - len(lead)
        text = lead + (text if len(text) <= room else text[: room - 1] + "…")
    message = chat_services.message_post_from_integration(project=project, sender=webhook.name, body=text)
    ChatWebhook.objects.filter(pk=webhook.pk).update(last_used_at=timezone.now())
    return message


# --------------------------------------------------------------------------- outgoing hooks


def _clean_events(events: Any) -> list[str]:
    if not isinstance(events, list) or not events:
        raise _invalid("events", 'List the event types to send, e.g. ["board.card_moved"], or ["*"] for all.')
    if len(events) > HOOK_EVENTS_MAX:
        raise _invalid("events", f"At most {HOOK_EVENTS_MAX} event types.")
    cleaned: list[str] = []
    for event in events:
        name = str(event).strip()
        valid = name == Hook.ALL_EVENTS or (
            0 < len(name) <= EVENT_NAME_MAX and "." in name and all(c.isalnum() or c in "._" for c in name)
        )
        if not valid:
            raise _invalid("events", f"'{name}' is not an event type (like board.card_moved).")
        if name.startswith(UNDELIVERED_EVENT_PREFIXES):
            raise _invalid("events", f"'{name}' events are not sent to webhooks.")
        cleaned.append(name)
    return list(dict.fromkeys(cleaned))


def _clean_url(url: Any) -> str:
    cleaned = str(url or "").strip()
    if not cleaned:
        raise _invalid("url", "A URL is required.")
    if len(cleaned) > 500:
        raise _invalid("url", "A URL has at most 500 characters.")
    try:
        outgoing.check_url(cleaned, require_resolution=False)
    except outgoing.UrlRefused as exc:
        raise _invalid("url", str(exc)) from None
    # check_url lets an unresolvable host through (it may go live later), but not text that
    # can never be a URL. (Django's URLValidator would also refuse "http://receiver:8080/",
    # a fair LAN target when private addresses are allowed.)
    if any(char.isspace() or not char.isprintable() for char in cleaned):
        raise _invalid("url", "A URL may not contain spaces or control characters.")
    return cleaned


def _clean_filter(text: Any, *, project: Project, creator: Any) -> str:
    """A hook's PQL filter, compiled once to refuse a bad one (400 on `filter`, with its position).

    `creator` is whom me() means: the hook's creator, as when deliveries are decided.
    """
    cleaned = str(text or "").strip()
    if not cleaned:
        return ""
    try:
        pql.compile_query(cleaned, pql.project_scope(project, creator))
    except pql.PqlError as exc:
        exc.details = [{**detail, "field": "filter"} for detail in exc.details]
        raise
    return cleaned


@transaction.atomic
def hook_create(
    *,
    project: Project,
    url: str,
    events: list[str],
    by: Any,
    description: str = "",
    active: bool = True,
    filter: str = "",
    request: Any = None,
) -> Hook:
    """Subscribe `url` to `events` of `project`; the secret it is signed with is generated here.

    `filter` (PQL, blank = all) limits the events about a ticket to matching tickets; `by`
    becomes the hook's creator, whom me() in it means.
    """
    hook = Hook.objects.create(
        project=project,
        url=_clean_url(url),
        events=_clean_events(events),
        description=(description or "").strip()[:200],
        active=active,
        filter=_clean_filter(filter, project=project, creator=by),
        secret=secrets.token_hex(32),
        created_by=by,
    )
    after = _hook_facts(hook)
    audit_record(action="webhook.created", actor=by, request=request, target=hook, project=project, after=after)
    return hook


def _hook_facts(hook: Hook) -> dict[str, Any]:
    # The secret never: only that it was rotated.
    return {
        "kind": "outgoing",
        "url": hook.url,
        "events": list(hook.events),
        "description": hook.description,
        "active": hook.active,
        "filter": hook.filter,
    }


@transaction.atomic
def hook_update(
    *,
    hook: Hook,
    by: Any,
    url: Any = None,
    events: Any = None,
    description: Any = None,
    active: Any = None,
    filter: Any = None,
    rotate_secret: bool = False,
    request: Any = None,
) -> Hook:
    """Change what is given (None: unchanged). me() in `filter` stays the hook's creator."""
    before = _hook_facts(hook)
    fields: list[str] = []
    if url is not None:
        hook.url = _clean_url(url)
        fields.append("url")
    if events is not None:
        hook.events = _clean_events(events)
        fields.append("events")
    if description is not None:
        hook.description = str(description).strip()[:200]
        fields.append("description")
    if active is not None:
        hook.active = bool(active)
        fields.append("active")
    if filter is not None:
        hook.filter = _clean_filter(filter, project=hook.project, creator=hook.created_by)
        fields.append("filter")
    if rotate_secret:
        hook.secret = secrets.token_hex(32)
        fields.append("secret")
    if fields:
        hook.save(update_fields=[*fields, "updated_at"])
        old, new = changes(before, _hook_facts(hook))
        if rotate_secret:
            old["secret"], new["secret"] = "(old)", "(rotated)"
        if new:
            project = hook.project
            audit_record(
                action="webhook.changed", actor=by, request=request, target=hook, project=project, before=old, after=new
            )
    return hook


@transaction.atomic
def hook_delete(*, hook: Hook, by: Any, request: Any = None) -> None:
    """Delete the subscription and its delivery log (deliveries still queued find nothing to send)."""
    audit_record(
        action="webhook.deleted", actor=by, request=request, target=hook, project=hook.project, before=_hook_facts(hook)
    )
    hook.delete()


def _delivery_body(*, hook: Hook, guid: uuid.UUID, event: str, payload: dict[str, Any]) -> str:
    project = hook.project
    document = {
        "event": event,
        "delivery": str(guid),
        "created_at": timezone.now(),
        "project": {"id": project.pk, "key": project.key, "slug": project.slug, "name": project.name},
        "payload": payload,
    }
    return json.dumps(document, cls=DjangoJSONEncoder, separators=(",", ":"), ensure_ascii=False)


def _enqueue_on_commit(delivery_ids: list[int]) -> None:
    from webhooks.tasks import deliver

    def enqueue() -> None:
        for delivery_id in delivery_ids:
            deliver.enqueue(delivery_id)

    transaction.on_commit(enqueue, robust=True)


# Events about one ticket, and where their payload names it. Any other event (a sprint, a
# label, a chat message) is about no ticket: only hooks without a filter receive it.
_TICKET_ID_PATHS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("board.card_", ("id",)),
    ("comment.", ("card", "id")),
    ("time_entry.", ("ticket", "id")),
)


def event_ticket_id(event: str, payload: dict[str, Any]) -> int | None:
    """The id of the ticket `event` is about, or None when it is about no ticket."""
    for prefix, path in _TICKET_ID_PATHS:
        if event.startswith(prefix):
            value: Any = payload
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            return value if isinstance(value, int) and not isinstance(value, bool) else None
    return None


# Compiled filters, process-local: compiling looks up the names a filter uses (labels, people,
# sprints, columns), a query or more per hook, which every event would otherwise pay again.
# Keyed by the hook's updated_at too, so an edited hook is compiled afresh; entries expire
# because a compiled filter has fixed what `-7d`, today() and openSprint() meant at the time.
FILTER_CACHE_SECONDS = 60.0
FILTER_CACHE_MAX = 10_000
_compiled_filters: dict[tuple[int, Any, str], tuple[pql.Compiled | str, float]] = {}


def _compiled_filter(hook: Hook) -> pql.Compiled | str:
    """`hook.filter` compiled in its project with me() = the hook's creator, or why it no longer
    compiles (a label it names was deleted, its creator's account is gone)."""
    key = (hook.pk, hook.updated_at, hook.filter)
    now = time.monotonic()
    cached = _compiled_filters.get(key)
    if cached is None or now - cached[1] > FILTER_CACHE_SECONDS:
        result: pql.Compiled | str
        try:
            result = pql.compile_query(hook.filter, pql.project_scope(hook.project, hook.created_by))
        except pql.PqlError as exc:
            result = exc.first_message()
        if len(_compiled_filters) >= FILTER_CACHE_MAX:
            _compiled_filters.clear()
        cached = _compiled_filters[key] = (result, now)
    return cached[0]


def hooks_for_event(
    hooks: list[Hook], event: str, payload: dict[str, Any]
) -> tuple[list[Hook], list[tuple[Hook, str]]]:
    """Of `hooks` (each wants `event`): those to send it to, and those whose filter no longer
    compiles, with the reason.

    A hook without a filter takes every event. A filtered one takes an event about a ticket
    that matches its filter; not an event about no ticket, nor one whose ticket is gone. The
    ticket's facts are read once (three queries) whatever the number of hooks, and each filter
    is tested in Python against them.
    """
    if all(not hook.filter for hook in hooks):
        return hooks, []
    ticket_id = event_ticket_id(event, payload)
    facts = pql.load_facts([ticket_id]).get(ticket_id) if ticket_id is not None else None
    chosen: list[Hook] = []
    broken: list[tuple[Hook, str]] = []
    for hook in hooks:
        if not hook.filter:
            chosen.append(hook)
            continue
        if facts is None:
            continue
        compiled = _compiled_filter(hook)
        if isinstance(compiled, str):
            broken.append((hook, compiled))
        elif compiled.test(facts):
            chosen.append(hook)
    return chosen, broken


def deliveries_record(event: str, payload: dict[str, Any], project_id: int | None) -> None:
    """The event bus's in-transaction hook: one Delivery per subscribed hook, sent after commit.

    Runs inside the transaction of the change that published `event`, so the delivery log
    holds exactly the changes that committed. Costs one small indexed query when the project
    has no hooks. Hooks with a filter get the events about matching tickets only
    (hooks_for_event); one whose filter no longer compiles gets a failed entry in its log
    instead, saying why, so the owner sees it and can fix the filter.
    """
    if project_id is None or event.startswith(UNDELIVERED_EVENT_PREFIXES):
        return
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:
        # Published straight from async code (no transaction to join): nothing to record.
        logger.debug("Not recording %s for webhooks: published from an event loop", event)
        return
    if not fastpath.has_active_hook(project_id=project_id):
        return
    hooks = [
        hook
        for hook in Hook.objects.filter(project_id=project_id, active=True).select_related("project", "created_by")
        if hook.wants(event)
    ]
    hooks, broken = hooks_for_event(hooks, event, payload) if hooks else ([], [])
    if not hooks and not broken:
        return
    now = timezone.now()
    deliveries = []
    for hook in hooks:
        guid = uuid.uuid4()
        deliveries.append(
            Delivery(
                hook=hook,
                guid=guid,
                event=event[:100],
                body=_delivery_body(hook=hook, guid=guid, event=event, payload=payload),
                next_attempt_at=now,
            )
        )
    for hook, reason in broken:
        logger.warning("Hook %s: its filter no longer compiles (%s); %s not sent", hook.pk, reason, event)
        guid = uuid.uuid4()
        deliveries.append(
            Delivery(
                hook=hook,
                guid=guid,
                event=event[:100],
                body=_delivery_body(hook=hook, guid=guid, event=event, payload=payload),
                status=Delivery.Status.FAILED,
                completed_at=now,
                error=f"Not sent: the webhook's filter no longer works ({reason}). Fix the filter."[:500],
            )
        )
    created = Delivery.objects.bulk_create(deliveries)
    _enqueue_on_commit([delivery.pk for delivery in created if delivery.status == Delivery.Status.PENDING])


@transaction.atomic
def delivery_redeliver(*, delivery: Delivery, by: Any) -> Delivery:
    """Send the same document again (same X-Punt-Delivery id) as a new entry of the log."""
    copy = Delivery.objects.create(
        hook=delivery.hook,
        guid=delivery.guid,
        event=delivery.event,
        body=delivery.body,
        next_attempt_at=timezone.now(),
        redelivery_of=delivery,
    )
    _enqueue_on_commit([copy.pk])
    return copy


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: base * 4**(attempts-1)."""
    return timedelta(seconds=settings.PUNT_WEBHOOKS_RETRY_BASE_SECONDS * 4 ** max(0, attempts - 1))


def delivery_attempt(*, delivery_id: int) -> Delivery | None:
    """One attempt to send a delivery; the worker's job. Not atomic: the HTTP call runs outside
    any transaction, between a claim and a result that are each one conditional UPDATE.

    The claim (pending and due → sending) lets only one worker send a given attempt. A
    failure schedules the next attempt with backoff until PUNT_WEBHOOKS_MAX_ATTEMPTS, then
    the delivery is failed; a refused URL or a disabled hook fails at once. Returns None when
    there was nothing to send (already sent, not due yet, the hook disabled or deleted).
    """
    from webhooks.tasks import deliver

    now = timezone.now()
    # A hook disabled since (often because its receiver misbehaves) gets no more attempts,
    # retries included; the log says why. Re-enabling it and redelivering sends them again.
    if Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING, hook__active=False).update(
        status=Delivery.Status.FAILED, error="The webhook is disabled.", completed_at=now
    ):
        metrics.record_webhook_delivery("outgoing", "disabled")
        return None
    claimed = (
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .update(status=Delivery.Status.SENDING, attempts=F("attempts") + 1, last_attempt_at=now)
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("hook").filter(pk=delivery_id).first()
    if delivery is None:
        return None
    body = delivery.body.encode()
    result = outgoing.send(
        url=delivery.hook.url,
        body=body,
        headers={
            "Content-Type": "application/json",
            "X-Punt-Event": delivery.event,
            "X-Punt-Delivery": str(delivery.guid),
            outgoing.SIGNATURE_HEADER: outgoing.sign(delivery.hook.secret, body),
        },
        timeout=settings.PUNT_WEBHOOKS_TIMEOUT_SECONDS,
    )
    outcome: dict[str, Any] = {
        "response_code": result.status_code,
        "response_body": result.response_body,
        "error": result.error,
        "duration_ms": result.duration_ms,
    }
    retry_at = None
    if result.ok:
        outcome.update(status=Delivery.Status.SUCCEEDED, completed_at=timezone.now())
    elif result.permanent or delivery.attempts >= settings.PUNT_WEBHOOKS_MAX_ATTEMPTS:
        outcome.update(status=Delivery.Status.FAILED, completed_at=timezone.now())
    else:
        # A backend that cannot defer (the immediate one, in development) retries at once.
        delay = retry_delay(delivery.attempts) if deliver.get_backend().supports_defer else timedelta(0)
        retry_at = timezone.now() + delay
        outcome.update(status=Delivery.Status.PENDING, next_attempt_at=retry_at)
    # Only our own claim is updated: a hook deleted meanwhile took the row with it.
    Delivery.objects.filter(pk=delivery.pk, status=Delivery.Status.SENDING).update(**outcome)
    metrics.record_webhook_delivery("outgoing", "retry" if retry_at is not None else outcome["status"])
    for field, value in outcome.items():
        setattr(delivery, field, value)
    if retry_at is not None:
        task = deliver.using(run_after=retry_at) if retry_at > timezone.now() else deliver
        task.enqueue(delivery.pk)
    return delivery


def deliveries_requeue(*, stale_after: timedelta) -> int:
    """Queue again the deliveries whose task was lost (a worker killed mid-send, a failed enqueue).

    A delivery still `sending` long after the timeout, or `pending` and overdue by
    `stale_after`, gets its claim released and a fresh task. Returns how many.
    """
    from webhooks.tasks import deliver

    now = timezone.now()
    stuck = Q(status=Delivery.Status.SENDING, last_attempt_at__lt=now - stale_after)
    overdue = Q(status=Delivery.Status.PENDING, next_attempt_at__lt=now - stale_after)
    ids = list(Delivery.objects.filter(stuck | overdue).values_list("pk", flat=True)[:1000])
    for delivery_id in ids:
        # `stale_after` is far past the send timeout, so no live worker still holds the claim;
        # the attempt it made stays counted.
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.SENDING).update(
            status=Delivery.Status.PENDING, next_attempt_at=now
        )
        deliver.enqueue(delivery_id)
    return len(ids)


# --------------------------------------------------------------------------- idempotency


def request_fingerprint(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def idempotent(
    *,
    user: Any,
    key: str | None,
    method: str,
    path: str,
    fingerprint: str,
    perform: Callable[[], tuple[int, Any]],
) -> tuple[int, Any, bool]:
    """Run `perform` once per (user, Idempotency-Key); returns (status, body, replayed).

    The record is written in the same transaction as the work, so a retry either finds the
    committed answer or runs the work itself; when two retries race, the unique key makes
    the loser roll back all of its work and replay the winner's answer.
    """
    # A blank header is no key at all (not one key shared by every blank-keyed request).
    key = (key or "").strip()
    if not key:
        with transaction.atomic():
            status_code, body = perform()
        return status_code, body, False
    if len(key) > 255:
        raise _invalid("Idempotency-Key", "An Idempotency-Key has at most 255 characters.")
    fresh_since = timezone.now() - timedelta(hours=settings.PUNT_IDEMPOTENCY_TTL_HOURS)
    try:
        with transaction.atomic():
            # Expired records make room for the key to be used again.
            IdempotencyRecord.objects.filter(user=user, key=key, created_at__lt=fresh_since).delete()
            record = IdempotencyRecord.objects.filter(user=user, key=key).first()
            if record is not None:
                return _replay(record, method=method, path=path, fingerprint=fingerprint)
            status_code, body = perform()
            if 200 <= status_code < 300:
                IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    method=method,
                    path=path,
                    fingerprint=fingerprint,
                    status_code=status_code,
                    response=body,
                )
            return status_code, body, False
    except IntegrityError:
        record = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if record is None:
            raise
        return _replay(record, method=method, path=path, fingerprint=fingerprint)


def _replay(record: IdempotencyRecord, *, method: str, path: str, fingerprint: str) -> tuple[int, Any, bool]:
    if (record.method, record.path, record.fingerprint) != (method, path, fingerprint):
        raise IdempotencyConflict()
    return record.status_code, record.response, True


# --------------------------------------------------------------------------- CI Ticket API


def _category_key(name: str) -> str:
    # "To Do", "to_do", "todo" and "TO-DO" all name the same category.
    return re.sub(r"[\s_-]+", "", name).lower()


# A column named by its category's name ("Backlog", "in progress", "todo"), the board word a
# CI script knows even when the project's columns are called something else.
_CATEGORY_BY_KEY = {
    **{_category_key(value): value for value in Column.Category.values},
    **{_category_key(label): value for value, label in Column.Category.choices},
}


def _column_named(project: Project, name: str) -> Column:
    """The project's column called `name` (any case); else, when `name` names a category, that
    category's first column; else a 400 listing the columns there are.

    A category with no column gets one, as setting a status does (DESIGN.md, "Columns"): the
    document's own example files into "Backlog", which a new board does not have.
    """
    name = name.strip()
    columns = list(project.columns.order_by("order", "id"))
    for column in columns:
        if column.name.lower() == name.lower():
            return column
    category = _CATEGORY_BY_KEY.get(_category_key(name))
    if category is not None:
        return column_for_category(project=project, category=category)
    existing = ", ".join(column.name for column in columns) or "none"
    raise _invalid("column_name", f"Unknown column '{name}'. Columns: {existing}.")


@transaction.atomic
def ticket_api_create(
    *, project: Project, by: Any, column_name: str | None = None, tab_id: str | None = None, **fields: Any
) -> Ticket:
    """seed 004's `POST /projects/:slug/ticket`: a card, placed in a column named by its name."""
    column = _column_named(project, column_name) if column_name else None
    return ticket_services.ticket_create(project=project, by=by, column=column, tab_id=tab_id, **fields)


@transaction.atomic
def ticket_api_update(
    *,
    ticket: Ticket,
    by: Any,
    column_name: str | None = None,
    comment: str | None = None,
    force: bool = False,
    tab_id: str | None = None,
    **fields: Any,
) -> Ticket:
    """seed 004's `PATCH /projects/:slug/ticket/:KEY`: any field, a move by column name, a comment.

    All of it commits together or not at all (a CI retry then finds nothing half done).
    """
    column = _column_named(ticket.project, column_name) if column_name else None
    if fields:
        ticket = ticket_services.ticket_update(ticket=ticket, by=by, force=force, tab_id=tab_id, **fields)
    if column is not None and column.pk != ticket.column_id:
        ticket = ticket_services.ticket_move(ticket=ticket, column=column, by=by, force=force, tab_id=tab_id)
    if comment:
        ticket_services.comment_create(ticket=ticket, by=by, body=comment, tab_id=tab_id)
    return ticket
