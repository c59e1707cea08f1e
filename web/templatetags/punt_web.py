"""Template helpers for PUNT's pages: avatars, Markdown, URLs of projects and tickets."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import nh3
from django import template
from django.http import QueryDict
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from accounts import services as account_services
from tickets import markdown
from tickets.selectors import as_ticket_number
from web import activity

register = template.Library()


@register.simple_tag
def registration_is_open() -> bool:
    return account_services.registration_open()


def _initials(name: str) -> str:
    name = name.strip()
    parts = name.split()
    letters = "".join(p[0] for p in parts[:2]) if len(parts) > 1 else name[:2]
    return letters.upper()


@register.simple_tag
def avatar(user: Any, size: str = "") -> SafeString:
    """A round picture, or the person's initials when they have none (never a query).

    `user`: a User, or a person brief of a card (tickets.cards: id, username, name, avatar URL).
    """
    if user is None:
        return format_html('<span class="avatar {}" title="Unassigned">?</span>', size)
    if isinstance(user, dict):
        name, username, url = user["name"], user["username"], user["avatar"]
        title = f"{name} (@{username})"
    else:
        name = getattr(user, "display_name", "") or user.username or "?"
        username = user.username
        title = f"{user.name} (@{username})" if hasattr(user, "name") else username
        url = user.avatar.url if getattr(user, "avatar", None) else None
    return _avatar_html(str(size), title, url, name or "?")


@lru_cache(maxsize=4096, typed=True)
def _avatar_html(size: str, title: str, url: str | None, name: str) -> SafeString:
    # A board draws the same few people on hundreds of cards: each is drawn once (a pure
    # function of what it shows, so nothing to invalidate). typed: a SafeString equals the
    # plain str of the same text but is not escaped, so the two are never one entry.
    if url:
        return format_html(
            '<span class="avatar {}" title="{}"><img src="{}" alt="" loading="lazy"></span>', size, title, url
        )
    return format_html('<span class="avatar {}" title="{}">{}</span>', size, title, _initials(name))


_HEX_COLOR_RE = re.compile(r"^#?([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


@register.filter
@lru_cache(maxsize=512)
def label_text(color: str) -> str:
    """Black or white, whichever reads better on `color` (a label's #rgb / #rrggbb), by WCAG contrast."""
    match = _HEX_COLOR_RE.match((color or "").strip())
    if not match:
        return "#fff"  # the stylesheet's grey fallback background takes white
    digits = match.group(1)
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(int(digits[i : i + 2], 16)) for i in (0, 2, 4))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    # Contrast with white is 1.05 / (L + .05), with black (L + .05) / .05: equal at L ≈ 0.179.
    return "#000" if (luminance + 0.05) / 0.05 > 1.05 / (luminance + 0.05) else "#fff"


@register.filter
def render_markdown(text: str) -> SafeString:
    # tickets.markdown sanitizes with nh3 after rendering, so the result is safe to mark.
    return mark_safe(markdown.render(text or ""))  # noqa: S308


# A notification is one line inside a link to its place: emphasis and code survive, while
# links, images and blocks (which would nest in the link or break the line) drop to text.
NOTIFICATION_TAGS = {"strong", "b", "em", "i", "code", "del", "s"}


@register.filter
def notification_html(text: str) -> SafeString:
    """A notification's text as one line of safe HTML: the pages' Markdown renderer, then narrowed."""
    rendered = markdown.render(text or "")
    return mark_safe(nh3.clean(rendered, tags=NOTIFICATION_TAGS, attributes={}).strip())  # noqa: S308


@register.simple_tag
def project_url(project: Any, name: str = "board", *args: Any) -> str:
    """The URL of one of a project's pages (board, backlog, chat, settings, ...)."""
    return reverse(f"web:{name}", args=[project.namespace, project.path, *args])


@register.simple_tag
def ticket_url(project: Any, ticket: Any, name: str = "ticket") -> str:
    return reverse(f"web:{name}", args=[project.namespace, project.path, ticket.number])


@register.simple_tag
def query_replace(query: QueryDict, **changes: Any) -> str:
    """The current query string with some parameters changed (filters are kept in the URL)."""
    params = query.copy()
    for key, value in changes.items():
        if value in (None, ""):
            params.pop(key, None)
        else:
            params[key] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.filter
def minutes_hm(minutes: int | None) -> str:
    if not minutes:
        return ""
    hours, rest = divmod(int(minutes), 60)
    return f"{hours}h {rest}m" if hours and rest else (f"{hours}h" if hours else f"{rest}m")


@register.filter
def get_item(mapping: dict[Any, Any], key: Any) -> Any:
    return mapping.get(key) if mapping else None


@register.filter
def join_if_list(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return str(value.get("name") or value.get("username") or value)
    return str(value)


@register.simple_tag
def key_link(project: Any, key: str | None) -> SafeString:
    """A ticket key (`BLOG-12`) as a link when it belongs to `project`, else as plain text."""
    text = key or ""
    prefix, _, digits = text.rpartition("-")
    number = as_ticket_number(digits)
    if prefix.upper() == project.key and number is not None:
        url = reverse("web:ticket", args=[project.namespace, project.path, number])
        return format_html('<a href="{}">{}</a>', url, text)
    return format_html("{}", text)


@register.simple_tag
def event_words(event: Any, project: Any = None, named: bool = False) -> SafeString:
    """A timeline event in plain words (web.activity); `named` names the ticket as a link to the event.

    On a ticket's page pass its `project`, so other tickets' keys link.
    """

    def link(key: str) -> SafeString:
        return key_link(project, key)

    if not named:
        return activity.event_words(event, link_key=link if project is not None else None)
    ticket = event.ticket
    url = ticket_url(ticket.project, ticket)
    return activity.event_words(event, format_html('<a href="{}#{}">{}</a>', url, event.pk, ticket.key))
