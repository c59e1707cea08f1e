"""GitHub issues as `gh issue list --state all --json
number,title,body,labels,assignees,milestone,state,comments,closedAt,createdAt,updatedAt,author`
writes them (documented at https://cli.github.com/manual/gh_issue_list ; the fields are those of
GitHub's GraphQL Issue object: https://docs.github.com/en/graphql/reference/objects#issue).

The REST API's issue objects (https://docs.github.com/en/rest/issues/issues#list-repository-issues:
`user`, `closed_at`, `created_at`, `comments` as a count) are read too, with their comments
given inline as a list if the file has them.
Milestones become sprints; a closed issue goes to the first "done" column.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from imports.records import CommentRecord, LabelRecord, Options, Person, Record, SprintRecord, TicketRecord
from imports.sources.common import SourceError, parse_date, parse_datetime, type_for
from imports.sources.trello import load_json


def _person(user: Any) -> Person:
    if not isinstance(user, dict):
        return Person()
    return Person(username=user.get("login", ""), name=user.get("name", ""), email=user.get("email") or "")


def _get(issue: dict[str, Any], camel: str, snake: str) -> Any:
    return issue.get(camel) if camel in issue else issue.get(snake)


def parse(stream: IO[bytes], options: Options) -> Iterator[Record]:
    issues = load_json(stream)
    if not isinstance(issues, list):
        raise SourceError("the file", "a GitHub issue export is a JSON list of issues.")
    seen_labels: set[str] = set()
    seen_sprints: set[str] = set()
    # Labels and milestones first, with their colours and dates, before the tickets name them.
    for index, issue in enumerate(issues, start=1):
        if not isinstance(issue, dict):
            raise SourceError(f"issue {index}", "not a JSON object.")
        for label in issue.get("labels") or []:
            name = (label.get("name") or "").strip()[:50]
            if name and name.lower() not in seen_labels:
                seen_labels.add(name.lower())
                color = label.get("color") or ""
                yield LabelRecord(
                    name=name, color=f"#{color.upper()}" if color else "", description=label.get("description") or ""
                )
        milestone = issue.get("milestone")
        if isinstance(milestone, dict) and milestone.get("title") and milestone["title"] not in seen_sprints:
            seen_sprints.add(milestone["title"])
            due = _get(milestone, "dueOn", "due_on")
            closed = (milestone.get("state") or "").lower() == "closed"
            yield SprintRecord(
                name=milestone["title"][:100],
                goal=milestone.get("description") or "",
                status="closed" if closed else "planned",
                end_date=parse_date(due, f"issue {index}"),
            )
    for index, issue in enumerate(issues, start=1):
        yield _ticket(issue, f"issue {index}")


def _ticket(issue: dict[str, Any], where: str) -> TicketRecord:
    number = issue.get("number")
    title = (issue.get("title") or "").strip()
    if not isinstance(number, int) or not title:
        raise SourceError(where, "an issue needs a number and a title.")
    where = f"{where} (#{number})"
    closed = (issue.get("state") or "").lower() == "closed"
    label_names = [(label.get("name") or "").strip()[:50] for label in issue.get("labels") or []]
    assignees = issue.get("assignees") or []
    milestone = issue.get("milestone")
    comments = issue.get("comments")
    record = TicketRecord(
        source_id=str(number),
        title=title[:500],
        position=where,
        reference=f"issue #{number}",
        body=issue.get("body") or "",
        # GitHub has no issue types, but a "bug" label is the common stand-in.
        type="bug" if any(name.lower() == "bug" for name in label_names) else type_for(""),
        category="done" if closed else "todo",
        assignee=_person(assignees[0]) if assignees else Person(),
        reporter=_person(issue.get("author") or issue.get("user")),
        labels=[name for name in label_names if name],
        sprint=milestone["title"][:100] if isinstance(milestone, dict) and milestone.get("title") else "",
        created_at=parse_datetime(_get(issue, "createdAt", "created_at"), where),
        updated_at=parse_datetime(_get(issue, "updatedAt", "updated_at"), where),
        closed_at=parse_datetime(_get(issue, "closedAt", "closed_at"), where) if closed else None,
    )
    if isinstance(comments, list):
        for index, comment in enumerate(comments, start=1):
            record.comments.append(
                CommentRecord(
                    source_id=str(comment.get("id") or f"{number}#comment-{index}"),
                    author=_person(comment.get("author") or comment.get("user")),
                    text=comment.get("body") or "",
                    created_at=parse_datetime(_get(comment, "createdAt", "created_at"), f"{where} comment {index}"),
                    updated_at=parse_datetime(_get(comment, "updatedAt", "updated_at"), f"{where} comment {index}"),
                )
            )
    return record
