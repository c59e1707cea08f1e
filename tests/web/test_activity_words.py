"""Activity in plain words: every event the tickets services write reads as a sentence.

The ticket's page says "it" ("moved it from To Do to In Progress"), Home names the ticket
("moved BLOG-1 from To Do to In Progress"); nothing reads `checklist_check` or `due_date to "2026-12-31"`.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone
from django.utils.html import strip_tags

from tests.conftest import Personas
from tests.factories import LabelFactory, SprintFactory
from tests.web.conftest import page_client
from tickets import services as ticket_services
from tickets.models import Event, Ticket
from web.activity import event_words

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.now().year


def words(event: Event, *, named: bool = False) -> str:
    html = event_words(event, "KEY-1") if named else event_words(event)
    return strip_tags(str(html))


def newest(ticket: Ticket) -> Event:
    return ticket.events.order_by("-id").first()


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return ticket_services.ticket_create(project=personas.project, by=personas.owner, title="Write the docs")


def test_create_assign_and_unassign(personas: Personas, ticket: Ticket):
    assert words(newest(ticket)) == "created the ticket"
    assert words(newest(ticket), named=True) == "created KEY-1"
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, assignee="mary")
    assign = ticket.events.get(text="assign")
    assert words(assign) == "assigned it to mary"
    assert words(assign, named=True) == "assigned KEY-1 to mary"
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, assignee=None)
    unassign = ticket.events.get(text="unassign")
    assert words(unassign) == "unassigned mary"
    assert words(unassign, named=True) == "unassigned mary from KEY-1"


def test_move_close_and_reopen(personas: Personas, ticket: Ticket):
    todo, doing, done = personas.project.columns.order_by("order")
    ticket_services.ticket_move(ticket=ticket, column=doing, by=personas.owner)
    move = newest(ticket)
    assert words(move) == f"moved it from {todo.name} to {doing.name}"
    assert words(move, named=True) == f"moved KEY-1 from {todo.name} to {doing.name}"
    ticket_services.ticket_move(ticket=ticket, column=done, by=personas.owner)
    assert words(newest(ticket)) == "closed it"
    assert words(newest(ticket), named=True) == "closed KEY-1"
    ticket_services.ticket_move(ticket=ticket, column=todo, by=personas.owner)
    assert words(newest(ticket)) == "reopened it"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"priority": "high"}, "changed the priority from Medium to High"),
        ({"type": "bug"}, "changed the type from Task to Bug"),
        ({"title": "Write the guide"}, "renamed it from “Write the docs” to “Write the guide”"),
        ({"body": "Some text"}, "added a description"),
        ({"due_date": datetime.date(THIS_YEAR, 12, 31)}, "set the due date to Dec 31"),
        ({"due_date": datetime.date(THIS_YEAR + 1, 1, 5)}, f"set the due date to Jan 5, {THIS_YEAR + 1}"),
        ({"estimate": 5}, "set the estimate to 5 points"),
        ({"estimate": 1}, "set the estimate to 1 point"),
        (
            {"priority": "urgent", "estimate": 3},
            "changed the priority from Medium to Urgent and set the estimate to 3 points",
        ),
    ],
)
def test_field_updates(personas: Personas, ticket: Ticket, fields: dict, expected: str):
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, **fields)
    assert words(newest(ticket)) == expected


def test_removing_values_labels_sprints_and_parents(personas: Personas, ticket: Ticket):
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, body="x", due_date=datetime.date(THIS_YEAR, 3, 1))
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, body="y", due_date=None, estimate=None)
    assert words(newest(ticket)) == "edited the description and removed the due date"

    LabelFactory(project=personas.project, name="bug")
    LabelFactory(project=personas.project, name="docs")
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, labels=["bug", "docs"])
    assert words(newest(ticket)) == "added the labels “bug” and “docs”"
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, labels=["docs"])
    assert words(newest(ticket)) == "removed the label “bug”"

    sprint = SprintFactory(project=personas.project, name="Sprint 7")
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, sprint=sprint.pk)
    assert words(newest(ticket)) == "moved it to the sprint “Sprint 7”"
    assert words(newest(ticket), named=True) == "moved it to the sprint “Sprint 7” on KEY-1"
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, sprint=None)
    assert words(newest(ticket)) == "took it out of the sprint “Sprint 7”"

    parent = ticket_services.ticket_create(project=personas.project, by=personas.owner, title="Epic", type="epic")
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, parent=parent.key)
    assert words(newest(ticket)) == f"made it a sub-task of {parent.key}"
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, parent=None)
    assert words(newest(ticket)) == f"detached it from {parent.key}"


def test_checklist(personas: Personas, ticket: Ticket):
    item = ticket_services.checklist_item_add(ticket=ticket, by=personas.owner, text="Write Docker section")
    assert words(newest(ticket)) == "added “Write Docker section” to the checklist"
    ticket_services.checklist_item_update(item=item, by=personas.owner, done=True)
    assert words(newest(ticket)) == "ticked “Write Docker section”"
    assert words(newest(ticket), named=True) == "ticked “Write Docker section” on KEY-1"
    ticket_services.checklist_item_update(item=item, by=personas.owner, done=False)
    assert words(newest(ticket)) == "unticked “Write Docker section”"
    ticket_services.checklist_item_update(item=item, by=personas.owner, text="Write the Docker section")
    assert words(newest(ticket)) == "reworded a checklist item to “Write the Docker section”"
    other = ticket_services.checklist_item_add(ticket=ticket, by=personas.owner, text="Second")
    ticket_services.checklist_reorder(ticket=ticket, by=personas.owner, order=[other.pk, item.pk])
    assert words(newest(ticket)) == "reordered the checklist"
    ticket_services.checklist_item_delete(item=other, by=personas.owner)
    assert words(newest(ticket)) == "removed “Second” from the checklist"


def test_comments_mentions_and_references(personas: Personas, ticket: Ticket):
    other = ticket_services.ticket_create(project=personas.project, by=personas.owner, title="Other")
    ticket_services.comment_create(ticket=ticket, by=personas.owner, body=f"@mary see {other.key}")
    comment = ticket.events.get(kind="comment")
    assert words(comment) == "commented"
    assert words(comment, named=True) == "commented on KEY-1"
    mentions = list(ticket.events.filter(kind="mention"))
    [mention] = [e for e in mentions if "user" in e.data]
    [reference] = [e for e in mentions if "user" not in e.data]
    assert words(mention) == "mentioned @mary"
    assert words(mention, named=True) == "mentioned @mary in KEY-1"
    assert words(reference) == f"referenced {other.key}"
    cross = other.events.get(kind="mention")
    assert words(cross) == f"mentioned it in {ticket.key}"


def test_delete_restore_links_and_files(personas: Personas, ticket: Ticket):
    ticket_services.git_link_add(ticket=ticket, by=personas.owner, url="https://git.example/c/1", title="Fix it")
    assert words(newest(ticket)) == "linked Fix it"
    assert 'href="https://git.example/c/1"' in str(event_words(newest(ticket)))
    ticket_services.ticket_delete(ticket=ticket, by=personas.owner)
    assert words(newest(ticket)) == "deleted it"
    ticket_services.ticket_restore(ticket=ticket, by=personas.owner)
    assert words(newest(ticket)) == "restored it"
    # Files and system moves, as the services write them.
    attach = Event(ticket=ticket, kind="action", text="attach", data={"attachment": {"id": 1, "filename": "a.pdf"}})
    assert words(attach) == "attached a.pdf"
    detach = Event(ticket=ticket, kind="action", text="detach", data={"attachment": {"id": 1, "filename": "a.pdf"}})
    assert words(detach) == "removed the attachment a.pdf"
    moved = Event(
        ticket=ticket,
        kind="action",
        text="move",
        data={"from": {"id": 1, "name": "Old"}, "to": {"id": 2, "name": "To Do"}, "reason": "column_deleted"},
    )
    assert words(moved) == "moved it from Old to To Do (its column was deleted)"
    carried = Event(ticket=ticket, kind="update", data={"old": {"sprint": 3}, "new": {"sprint": 4}})
    assert words(carried) == "carried it over to the next sprint"
    unknown = Event(ticket=ticket, kind="action", text="frobnicate_widget")
    assert words(unknown) == "frobnicate widget it"


def test_user_text_is_escaped(personas: Personas, ticket: Ticket):
    ticket_services.checklist_item_add(ticket=ticket, by=personas.owner, text="<img src=x onerror=alert(1)>")
    html = str(event_words(newest(ticket), "KEY-1"))
    assert "<img" not in html and "&lt;img" in html


def test_pages_show_the_words(personas: Personas, ticket: Ticket):
    item = ticket_services.checklist_item_add(ticket=ticket, by=personas.owner, text="Write Docker section")
    ticket_services.checklist_item_update(item=item, by=personas.owner, done=True)
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, due_date=datetime.date(THIS_YEAR, 12, 31))
    client = page_client(personas, "member")
    page = re.sub(
        r"\s+", " ", strip_tags(client.get(f"/projects/olivia/blog/tickets/{ticket.number}").content.decode())
    )
    assert "ticked “Write Docker section”" in page
    assert "set the due date to Dec 31" in page
    assert "checklist_check" not in page and "due_date" not in page
    home = re.sub(r"\s+", " ", strip_tags(client.get("/").content.decode()))
    assert f"ticked “Write Docker section” on {ticket.key}" in home
    assert f"set the due date to Dec 31 on {ticket.key}" in home
    assert "checklist_check" not in home
