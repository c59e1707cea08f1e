"""Git links: commits, branches, pull requests and tags linked to a ticket."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction

from punt.errors import invalid as _invalid
from tickets.models import Event, GitLink, Ticket
from tickets.services.common import _choice, _event, _publish_card, _touch
from tickets.services.watchers import _notify_watchers

GIT_LINK_URL_MAX = 500  # GitLink.url's max_length


@transaction.atomic
def git_link_add(
    *,
    ticket: Ticket,
    url: str,
    kind: str = GitLink.Kind.COMMIT,
    title: str = "",
    ref: str = "",
    provider: str = "",
    state: str = "",
    by: Any = None,
    tab_id: str | None = None,
) -> tuple[GitLink, bool]:
    """Link a commit, branch, PR or tag to a ticket; idempotent per (ticket, url).

    Returns (link, created). Adding a known URL again refreshes its title/ref/state (a PR
    that got merged) without a second timeline entry. The webhook receivers call this.
    """
    url = (url or "").strip()
    if not url:
        raise _invalid("url", "A URL is required.")
    # Links are rendered as hrefs on the ticket page: only web addresses, whoever sent them
    # (the API's serializer checks this too; webhook payloads and dialects come straight here).
    if urlsplit(url).scheme.lower() not in ("http", "https") or len(url) > GIT_LINK_URL_MAX:
        raise _invalid("url", f"A link is an http(s) URL of at most {GIT_LINK_URL_MAX} characters.")
    _choice("kind", kind, GitLink.Kind)
    defaults = {"kind": kind, "title": (title or "")[:500], "ref": (ref or "")[:255], "provider": (provider or "")[:20]}
    if state:
        defaults["state"] = state[:20]
    link = GitLink.objects.select_for_update().filter(ticket=ticket, url=url).first()
    created = False
    if link is None:
        try:
            with transaction.atomic():
                link = GitLink.objects.create(ticket=ticket, url=url, created_by=by, **defaults)
            created = True
        except IntegrityError:
            # A concurrent add of the same URL won the race: update that row instead.
            link = GitLink.objects.select_for_update().get(ticket=ticket, url=url)
    if not created:
        changed = [field for field, value in defaults.items() if value and getattr(link, field) != value]
        for field in changed:
            setattr(link, field, defaults[field])
        if changed:
            link.save(update_fields=changed)
        return link, False
    _event(
        ticket,
        by,
        Event.Kind.ACTION,
        "link",
        {"link": {"id": link.pk, "kind": link.kind, "url": link.url, "title": link.title, "ref": link.ref}},
    )
    _touch(ticket)
    _publish_card("board.card_updated", ticket, by=by, tab_id=tab_id)
    _notify_watchers(ticket=ticket, by=by, action="linked", summary=f"linked {link.title or link.url}", tab_id=tab_id)
    return link, True
