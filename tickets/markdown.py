"""Markdown → safe HTML for ticket bodies and comments, and the references found in text.

Rendering happens once, when text is written (services store the result), so reading a
list of tickets never renders Markdown. nh3 runs last: whatever the Markdown produced or
the user smuggled in, only the allow-listed tags and attributes survive.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

import markdown as md
import nh3
from django.conf import settings

# `@mary` but not `mary@example.com`; user names are Django's (letters, digits, @.+-_).
MENTION_RE = re.compile(r"(?<![\w@.])@([A-Za-z0-9_.+-]*[A-Za-z0-9_])")
# `PROJ-14` (project keys are 2-10 uppercase letters/digits starting with a letter) or `#14`.
TICKET_REF_RE = re.compile(r"(?<![\w/&#-])(?:([A-Z][A-Z0-9]{1,9})-|#)([0-9]{1,9})\b")

ALLOWED_TAGS = {
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "code",
    "del",
    "em",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "li",
    "ol",
    "p",
    "pre",
    "s",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "abbr": {"title"},
    "code": {"class"},
    "th": {"align"},
    "td": {"align"},
}
URL_SCHEMES = {"http", "https", "mailto"}

# Inside these, ticket references stay plain text.
_NO_LINK_TAGS = ("a", "code", "pre")
_TAG_RE = re.compile(r"(<[^>]+>)")
_LEADING_REF_RE = re.compile(r"^#([0-9])")
_FENCE_RE = re.compile(r"^\s{0,3}(```|~~~)")
# A tag of nh3's output: attribute values are always double-quoted there.
_QUOTED_TAG_RE = re.compile(r'(<[^>"]*(?:"[^"]*"[^>"]*)*>)')
_ATTRIBUTE_RE = re.compile(r'([a-zA-Z-]+)="([^"]*)"')
LINK_REL = "noopener noreferrer nofollow"


def _escape_leading_refs(text: str) -> str:
    """`#14 is a dup` at the start of a line is a reference, not a heading (as on GitHub).

    Lines inside fenced code blocks stay as typed.
    """
    lines = text.split("\n")
    fence: str | None = None
    for index, line in enumerate(lines):
        match = _FENCE_RE.match(line)
        if match:
            fence = None if fence == match.group(1) else (fence or match.group(1))
        elif fence is None:
            lines[index] = _LEADING_REF_RE.sub(r"\\#\1", line)
    return "\n".join(lines)


@dataclass(frozen=True)
class References:
    usernames: frozenset[str]
    # (project key or None for `#14`, number)
    tickets: frozenset[tuple[str | None, int]]


def find_references(text: str) -> References:
    """The `@users`, `#14` and `PROJ-14` a piece of text mentions (code spans included: cheap and predictable)."""
    usernames = frozenset(m.group(1) for m in MENTION_RE.finditer(text or ""))
    tickets: set[tuple[str | None, int]] = set()
    for match in TICKET_REF_RE.finditer(text or ""):
        tickets.add((match.group(1), int(match.group(2))))
    return References(usernames=usernames, tickets=frozenset(tickets))


def _link_text(fragment: str, resolve: Callable[[str | None, int], str | None]) -> str:
    def replace(match: re.Match[str]) -> str:
        url = resolve(match.group(1), int(match.group(2)))
        if url is None:
            return match.group(0)
        return f'<a href="{html.escape(url, quote=True)}">{match.group(0)}</a>'

    return TICKET_REF_RE.sub(replace, fragment)


def _link_references(rendered: str, resolve: Callable[[str | None, int], str | None]) -> str:
    """Turn ticket references in text nodes into links, leaving code and existing links alone."""
    out: list[str] = []
    depth = 0
    for part in _TAG_RE.split(rendered):
        if part.startswith("<"):
            name = part.strip("</>").split()[0].lower() if part.strip("</>") else ""
            if name in _NO_LINK_TAGS:
                depth += -1 if part.startswith("</") else 1
            out.append(part)
        elif depth <= 0 and part:
            out.append(_link_text(part, resolve))
        else:
            out.append(part)
    return "".join(out)


def _same_site(url: str) -> bool:
    """A relative URL (an attachment under /media/) or one on SITE_URL's origin."""
    # Browsers drop tabs and newlines inside URLs and read a backslash as a slash: `/\\host/x`
    # would load from another host.
    cleaned = re.sub(r"[\t\n\r]", "", url).strip()
    if "\\" in cleaned:
        return False
    parts = urlsplit(cleaned)
    if not parts.scheme and not parts.netloc:
        return True
    site = urlsplit(settings.SITE_URL)
    return parts.scheme.lower() in ("", site.scheme.lower()) and parts.netloc.lower() == site.netloc.lower()


def _image_as_link(tag: str, *, in_link: bool) -> str:
    attributes = {name.lower(): html.unescape(value) for name, value in _ATTRIBUTE_RE.findall(tag)}
    src = attributes.get("src", "")
    if not src or _same_site(src):
        return tag
    label = html.escape(f"image: {attributes.get('alt') or urlsplit(src).netloc or src}")
    if in_link:  # a link inside a link is not HTML: the outer one stays, the image becomes its text
        return label
    return f'<a href="{html.escape(src, quote=True)}" rel="{LINK_REL}">{label}</a>'


def _block_external_images(rendered: str) -> str:
    """Images from other sites (tracking pixels) become links to them; our own images stay."""
    out: list[str] = []
    link_depth = 0
    for part in _QUOTED_TAG_RE.split(rendered):
        if part.startswith("<a ") or part == "<a>":
            link_depth += 1
        elif part == "</a>":
            link_depth = max(0, link_depth - 1)
        elif part.startswith("<img"):
            part = _image_as_link(part, in_link=link_depth > 0)
        out.append(part)
    return "".join(out)


# A list item of sanitized output that starts with `[ ]` or `[x]` (a loose list wraps it in <p>).
_TASK_ITEM_RE = re.compile(r"<li>(\s*<p>)?\[([ xX])\] ")
_MENTION_TAG = '<span class="mention">{}</span>'


def _task_box(match: re.Match[str]) -> str:
    checked = " checked" if match.group(2) in "xX" else ""
    return f'<li class="task">{match.group(1) or ""}<input type="checkbox" disabled{checked} aria-label="Task"> '


def task_lists(cleaned: str) -> str:
    """`- [ ] item` / `- [x] item` as disabled checkboxes, on HTML nh3 already sanitized.

    Running after the sanitizer keeps the allow-list free of <input>: the only inputs in the
    output are the constant ones inserted here, never one a user wrote.
    """
    return _TASK_ITEM_RE.sub(_task_box, cleaned)


def _style_mentions(cleaned: str, mentionable: Collection[str] | None) -> str:
    """`@name` in text (not in code or links) as <span class="mention">, on sanitized HTML.

    `mentionable`: lower-cased user names to style, or None for every `@name`. nh3 escapes
    `<` and `>` in text and attribute values, so splitting on tags is exact here.
    """

    def replace(match: re.Match[str]) -> str:
        if mentionable is not None and match.group(1).lower() not in mentionable:
            return match.group(0)
        return _MENTION_TAG.format(match.group(0))

    out: list[str] = []
    depth = 0
    for part in _TAG_RE.split(cleaned):
        if part.startswith("<"):
            name = part.strip("</>").split()[0].lower() if part.strip("</>") else ""
            if name in _NO_LINK_TAGS:
                depth += -1 if part.startswith("</") else 1
            out.append(part)
        elif depth <= 0 and "@" in part:
            out.append(MENTION_RE.sub(replace, part))
        else:
            out.append(part)
    return "".join(out)


def render(
    text: str,
    resolve: Callable[[str | None, int], str | None] | None = None,
    mentionable: Collection[str] | None = None,
) -> str:
    """Markdown → sanitized HTML; `resolve(key_or_None, number)` gives a ticket's URL or None.

    `mentionable`: the lower-cased user names whose `@name` is styled as a mention (None: all).
    """
    if not text:
        return ""
    text = _escape_leading_refs(text)
    rendered = md.markdown(text, extensions=["fenced_code", "tables", "sane_lists", "nl2br"], output_format="html")
    if resolve is not None:
        rendered = _link_references(rendered, resolve)
    cleaned = nh3.clean(
        rendered,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel=LINK_REL,
    ).strip()
    cleaned = task_lists(_style_mentions(cleaned, mentionable))
    if settings.PUNT_MARKDOWN_EXTERNAL_IMAGES == "block":
        cleaned = _block_external_images(cleaned)
    return cleaned
