"""What a git host's delivery says, in one shape for GitHub, GitLab and Gitea/Forgejo.

Pure functions, no database: the signature checks, the header names of each host, and the
translation of push / pull request / issue / tag payloads into `GitChange`s that
webhooks/services.py turns into ticket links. Field names follow each host's documented
webhook payloads (GitLab: `object_kind`, `object_attributes`; Gitea mirrors GitHub).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field
from typing import Any

GITHUB, GITLAB, GITEA = "github", "gitlab", "gitea"

# Each host's headers, first match wins (Forgejo renames Gitea's, and both still send Gogs').
EVENT_HEADERS = {
    GITHUB: ("X-GitHub-Event",),
    GITLAB: ("X-Gitlab-Event",),
    GITEA: ("X-Gitea-Event", "X-Forgejo-Event", "X-Gogs-Event"),
}
DELIVERY_HEADERS = {
    GITHUB: ("X-GitHub-Delivery",),
    # GitLab 17.4+ also sends Idempotency-Key, stable across its own retries.
    GITLAB: ("X-Gitlab-Event-UUID", "Idempotency-Key"),
    GITEA: ("X-Gitea-Delivery", "X-Forgejo-Delivery", "X-Gogs-Delivery"),
}

# GitLab names its events "Push Hook", "Merge Request Hook"...; the rest use snake case.
GITLAB_EVENTS = {
    "push hook": "push",
    "tag push hook": "tag_push",
    "merge request hook": "pull_request",
    # Not "Confidential Issue Hook": its title would reach ticket readers who may not see the issue.
    "issue hook": "issues",
}
PING_EVENTS = {"ping"}
URL_MAX_LENGTH = 500  # tickets.GitLink.url


class MalformedPayload(ValueError):
    """A signed delivery whose JSON does not have the documented shape of its event."""


def header(headers: Any, names: tuple[str, ...]) -> str:
    for name in names:
        value = headers.get(name)
        if value:
            return str(value).replace("\x00", "").strip()
    return ""


def without_nul(value: Any) -> Any:
    """`value` (parsed JSON) with NUL characters taken out of every string.

    JSON may carry "\u0000", PostgreSQL text and jsonb columns may not: one in a commit
    message would otherwise turn a delivery into a 500 halfway through.
    """
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def _hmac_hex(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_valid(provider: str, *, secret: str, body: bytes, headers: Any) -> bool:
    """True if the delivery proves it knows the hook's secret; every comparison is constant-time."""
    if not secret:
        return False
    if provider == GITHUB:
        given = header(headers, ("X-Hub-Signature-256",))
        return hmac.compare_digest(given.encode(), f"sha256={_hmac_hex(secret, body)}".encode())
    if provider == GITLAB:
        # GitLab sends the secret token itself rather than a signature.
        given = header(headers, ("X-Gitlab-Token",))
        return hmac.compare_digest(given.encode(), secret.encode())
    if provider == GITEA:
        given = header(headers, ("X-Gitea-Signature", "X-Forgejo-Signature"))
        return hmac.compare_digest(given.lower().encode(), _hmac_hex(secret, body).encode())
    return False


def event_name(provider: str, headers: Any, payload: dict[str, Any]) -> str:
    """The event, normalised: "push", "tag_push", "pull_request", "issues", "ping", or the host's own name."""
    raw = header(headers, EVENT_HEADERS[provider])
    if provider == GITLAB:
        raw = GITLAB_EVENTS.get(raw.lower(), raw or str(payload.get("object_kind") or ""))
        raw = {"merge_request": "pull_request", "issue": "issues"}.get(raw, raw)
    if provider in (GITHUB, GITEA) and raw == "push" and str(payload.get("ref", "")).startswith("refs/tags/"):
        return "tag_push"
    if provider == GITEA and raw == "create" and payload.get("ref_type") == "tag":
        return "tag_create"
    return raw.lower()


def delivery_id(provider: str, headers: Any, body: bytes) -> str:
    """The host's delivery id; a hash of the body when it sends none (a retry repeats the body)."""
    return header(headers, DELIVERY_HEADERS[provider])[:200] or f"sha256:{hashlib.sha256(body).hexdigest()}"


# --------------------------------------------------------------------------- references

# `KEY-42` where KEY is the hook's project key; branch names are often lower case.
_CLOSING_WORDS = r"(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)"


def _ref_re(project_key: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(project_key)}-(\d+)(?![A-Za-z0-9])", re.IGNORECASE)


def _closing_re(project_key: str) -> re.Pattern[str]:
    return re.compile(
        rf"\b{_CLOSING_WORDS}:?\s+(?:ticket\s+)?{re.escape(project_key)}-(\d+)(?![A-Za-z0-9])", re.IGNORECASE
    )


def referenced_numbers(text: str, project_key: str) -> list[int]:
    """Ticket numbers of `project_key` mentioned in `text`, in order, without repeats."""
    return list(dict.fromkeys(int(n) for n in _ref_re(project_key).findall(text or "")))


def closing_numbers(text: str, project_key: str) -> list[int]:
    """Ticket numbers that `text` says it fixes, closes or resolves."""
    return list(dict.fromkeys(int(n) for n in _closing_re(project_key).findall(text or "")))


# --------------------------------------------------------------------------- changes


@dataclass
class GitChange:
    """One thing in a delivery that can be linked to tickets: a commit, a branch, a PR or a tag."""

    kind: str  # GitLink.Kind values: commit, branch, pull_request, issue, tag
    url: str
    ref: str  # sha, branch or tag name, or PR or issue number
    title: str
    text: str  # where references are looked for
    author: str = ""
    author_email: str = ""
    state: str = ""
    # True when "fixes KEY-1" in `text` should close the ticket now (default branch, merged).
    closes: bool = False


@dataclass
class ParsedDelivery:
    event: str
    changes: list[GitChange] = field(default_factory=list)


def _first_line(message: str) -> str:
    return (message or "").strip().splitlines()[0][:500] if (message or "").strip() else ""


def _branch(ref: str) -> str:
    return ref.removeprefix("refs/heads/") if ref.startswith("refs/heads/") else ""


def _tag(ref: str) -> str:
    return ref.removeprefix("refs/tags/")


def _repo_web_url(provider: str, payload: dict[str, Any]) -> str:
    if provider == GITLAB:
        return str((payload.get("project") or {}).get("web_url") or "")
    return str((payload.get("repository") or {}).get("html_url") or "")


def _default_branch(provider: str, payload: dict[str, Any]) -> str:
    if provider == GITLAB:
        return str((payload.get("project") or {}).get("default_branch") or "")
    return str((payload.get("repository") or {}).get("default_branch") or "")


def _tree_url(provider: str, repo_url: str, kind: str, name: str) -> str:
    # Where a browser shows a branch or a tag on each host.
    if provider == GITLAB:
        return f"{repo_url}/-/tree/{name}"
    if provider == GITEA:
        return f"{repo_url}/src/{'branch' if kind == 'branch' else 'tag'}/{name}"
    return f"{repo_url}/tree/{name}" if kind == "branch" else f"{repo_url}/releases/tag/{name}"


def _push(provider: str, payload: dict[str, Any]) -> list[GitChange]:
    ref = str(payload.get("ref") or "")
    branch = _branch(ref)
    # A deleted branch has nothing to link (GitLab marks it with an all-zero `after`).
    if payload.get("deleted") or set(str(payload.get("after") or "x")) == {"0"}:
        return []
    repo_url = _repo_web_url(provider, payload)
    on_default = bool(branch) and branch == _default_branch(provider, payload)
    changes: list[GitChange] = []
    for commit in payload.get("commits") or []:
        author = commit.get("author") or {}
        message = str(commit.get("message") or "")
        sha = str(commit.get("id") or "")
        changes.append(
            GitChange(
                kind="commit",
                url=str(commit.get("url") or f"{repo_url}/commit/{sha}"),
                ref=sha,
                title=_first_line(message),
                text=message,
                author=str(author.get("username") or author.get("name") or ""),
                author_email=str(author.get("email") or ""),
                state="pushed",
                closes=on_default,
            )
        )
    if branch and repo_url:
        pusher = payload.get("pusher") or {}
        changes.append(
            GitChange(
                kind="branch",
                url=_tree_url(provider, repo_url, "branch", branch),
                ref=branch,
                title=branch,
                text=branch,
                author=str(payload.get("user_username") or pusher.get("login") or pusher.get("name") or ""),
                author_email=str(payload.get("user_email") or pusher.get("email") or ""),
            )
        )
    return changes


def _tag_push(provider: str, payload: dict[str, Any]) -> list[GitChange]:
    ref = str(payload.get("ref") or "")
    if payload.get("deleted") or set(str(payload.get("after") or "x")) == {"0"} or not ref:
        return []
    tag = _tag(ref)
    repo_url = _repo_web_url(provider, payload)
    if not repo_url:
        return []
    message = str(payload.get("message") or "")
    return [
        GitChange(
            kind="tag",
            url=_tree_url(provider, repo_url, "tag", tag),
            ref=tag,
            title=tag,
            text=f"{tag}\n{message}",
            author=str(payload.get("user_username") or (payload.get("pusher") or {}).get("login") or ""),
        )
    ]


def _pull_request(provider: str, payload: dict[str, Any]) -> list[GitChange]:
    if provider == GITLAB:
        attrs = payload.get("object_attributes") or {}
        state = str(attrs.get("state") or "")
        merged = state == "merged"
        number = attrs.get("iid")
        title = str(attrs.get("title") or "")
        body = str(attrs.get("description") or "")
        url = str(attrs.get("url") or "")
        source = str(attrs.get("source_branch") or "")
        target = str(attrs.get("target_branch") or "")
        user = payload.get("user") or {}
        author, email = _person(user, name_keys=("username", "name"))
        state = {"opened": "open", "locked": "open"}.get(state, state)
    else:
        pr = payload.get("pull_request") or {}
        merged = bool(pr.get("merged"))
        number = pr.get("number") or payload.get("number")
        title = str(pr.get("title") or "")
        body = str(pr.get("body") or "")
        url = str(pr.get("html_url") or "")
        source = str((pr.get("head") or {}).get("ref") or "")
        target = str((pr.get("base") or {}).get("ref") or "")
        user = pr.get("user") or {}
        author, email = _person(user, name_keys=("login", "username"))
        state = "merged" if merged else str(pr.get("state") or "")
    if number is None or not url:
        return []
    default = _default_branch(provider, payload)
    return [
        GitChange(
            kind="pull_request",
            url=url,
            ref=str(number),
            title=title[:500],
            text=f"{title}\n{body}\n{source}",
            author=author,
            author_email=email,
            state=state,
            # Merging into a branch other than the default one does not ship the fix yet.
            closes=merged and (not default or not target or target == default),
        )
    ]


def _person(user: dict[str, Any], *, name_keys: tuple[str, str]) -> tuple[str, str]:
    """The name (the first of `name_keys` present) and e-mail of a host's user object."""
    first, second = name_keys
    return str(user.get(first) or user.get(second) or ""), str(user.get("email") or "")


def _issue(provider: str, payload: dict[str, Any]) -> list[GitChange]:
    """An issue that names tickets in its title or text links to them; it never closes them
    (closing an issue says nothing about a fix having shipped)."""
    if provider == GITLAB:
        issue = payload.get("object_attributes") or {}
        number = issue.get("iid")
        body = str(issue.get("description") or "")
        url = str(issue.get("url") or "")
        user = payload.get("user") or {}
        author, email = _person(user, name_keys=("username", "name"))
    else:
        # A deleted issue has no page left to link to.
        if payload.get("action") == "deleted":
            return []
        issue = payload.get("issue") or {}
        number = issue.get("number") or payload.get("number")
        body = str(issue.get("body") or "")
        url = str(issue.get("html_url") or "")
        user = issue.get("user") or {}
        author, email = _person(user, name_keys=("login", "username"))
    title = str(issue.get("title") or "")
    state = str(issue.get("state") or "")
    if number is None or not url:
        return []
    return [
        GitChange(
            kind="issue",
            url=url,
            ref=str(number),
            title=title[:500],
            text=f"{title}\n{body}",
            author=author,
            author_email=email,
            state={"opened": "open"}.get(state, state),
        )
    ]


def parse(provider: str, event: str, payload: dict[str, Any]) -> ParsedDelivery | None:
    """The linkable changes of a delivery, or None for an event type PUNT does not handle.

    Raises MalformedPayload when a field holds the wrong kind of value (a string where the
    host documents an object, say): the readers below trust the documented shapes, and a
    wrong one must be a 400 for the sender, not a 500.
    """
    try:
        parsed = _parse(provider, event, payload)
    except (AttributeError, TypeError, ValueError) as exc:
        raise MalformedPayload(f"The {event} payload does not have the documented shape.") from exc
    if parsed is not None:
        # A git link keeps at most URL_MAX_LENGTH characters of URL; no real host sends longer.
        parsed.changes = [change for change in parsed.changes if len(change.url) <= URL_MAX_LENGTH]
    return parsed


def _parse(provider: str, event: str, payload: dict[str, Any]) -> ParsedDelivery | None:
    if event == "push":
        return ParsedDelivery(event, _push(provider, payload))
    if event in ("tag_push", "tag_create"):
        if event == "tag_create":
            payload = {**payload, "ref": f"refs/tags/{payload.get('ref', '')}"}
        return ParsedDelivery(event, _tag_push(provider, payload))
    if event == "pull_request":
        return ParsedDelivery(event, _pull_request(provider, payload))
    if event == "issues":
        return ParsedDelivery(event, _issue(provider, payload))
    return None
