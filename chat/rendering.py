"""Markdown to safe HTML for chat messages and topics, with ticket links and @mentions.

Ticket keys and mentions are found by Markdown inline processors, so they are never
touched inside code spans, code blocks or existing links. nh3 runs last over the whole
output: whatever Markdown lets through (raw HTML included) is sanitized there.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import markdown
import nh3
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor

from tickets.markdown import task_lists

# `@name` not preceded by a word character (so e-mail addresses do not match), ending in a
# word character (so "@mary." mentions mary).
MENTION_RE = re.compile(r"(?<![\w@/])@(\w(?:[\w.+-]*\w)?)")

ALLOWED_TAGS = nh3.ALLOWED_TAGS - {"img", "map", "area"}
ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "a": {"href", "title"},
}
# nh3 filters `class` through this table (listing "class" in ALLOWED_ATTRIBUTES too is an error).
ALLOWED_CLASSES = {"a": {"ticket-link"}, "span": {"mention"}}


def mentioned_names(text: str) -> set[str]:
    """Lower-cased user names written as @name in `text` (code included: cheap and harmless)."""
    return {name.lower() for name in MENTION_RE.findall(text)}


def ticket_key_re(project_key: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![\w-]){re.escape(project_key)}-(\d+)\b")


@dataclass
class RenderContext:
    """What the renderer may link: a project's ticket numbers and the names it may mention."""

    project_key: str | None = None
    ticket_url_prefix: str = ""
    ticket_numbers: frozenset[int] = frozenset()
    mentionable: Mapping[str, str] = field(default_factory=dict)  # lower-cased name -> real name


class _TicketKeyProcessor(InlineProcessor):
    ANCESTOR_EXCLUDES = ("a",)

    def __init__(self, pattern: str, md: markdown.Markdown, context: RenderContext) -> None:
        super().__init__(pattern, md)
        self.context = context

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Any, int | None, int | None]:
        number = int(m.group(2))
        if number not in self.context.ticket_numbers:
            return None, None, None
        element = etree.Element("a")
        element.set("href", f"{self.context.ticket_url_prefix}{number}")
        element.set("class", "ticket-link")
        element.text = m.group(0)
        return element, m.start(0), m.end(0)


class _MentionProcessor(InlineProcessor):
    ANCESTOR_EXCLUDES = ("a",)

    def __init__(self, pattern: str, md: markdown.Markdown, context: RenderContext) -> None:
        super().__init__(pattern, md)
        self.context = context

    def handleMatch(self, m: re.Match[str], data: str) -> tuple[Any, int | None, int | None]:
        name = self.context.mentionable.get(m.group(1).lower())
        if name is None:
            return None, None, None
        element = etree.Element("span")
        element.set("class", "mention")
        element.text = f"@{name}"
        return element, m.start(0), m.end(0)


class _PuntExtension(Extension):
    def __init__(self, context: RenderContext) -> None:
        super().__init__()
        self.context = context

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        # Low priorities: run after code spans, links and autolinks have been set aside.
        if self.context.project_key:
            pattern = rf"(?<![\w-])({re.escape(self.context.project_key)})-(\d+)\b"
            md.inlinePatterns.register(_TicketKeyProcessor(pattern, md, self.context), "punt_ticket_key", 6)
        if self.context.mentionable:
            md.inlinePatterns.register(_MentionProcessor(MENTION_RE.pattern, md, self.context), "punt_mention", 5)


def render_markdown(text: str, context: RenderContext | None = None) -> str:
    """Sanitized HTML for `text`; no script, event handler or javascript: URL survives."""
    html = markdown.markdown(
        text,
        extensions=["fenced_code", "tables", "sane_lists", "nl2br", _PuntExtension(context or RenderContext())],
        output_format="html",
    )
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES | {"code": _code_classes(html)},
        clean_content_tags={"script", "style"},
    ).strip()
    # Task list checkboxes are added to the sanitized HTML (see tickets.markdown.task_lists).
    return task_lists(cleaned)


_LANGUAGE_CLASS_RE = re.compile(r'class="(language-[\w+-]+)"')


def _code_classes(html: str) -> set[str]:
    # fenced_code writes class="language-python"; keep exactly those, nothing invented.
    return set(_LANGUAGE_CLASS_RE.findall(html))
