"""tickets.services as a package: one move service for every caller, small modules, the old names.

`ticket_move` serves both kinds of caller: those that go on with the ticket (pages, dialects,
hooks) get it re-read; the card endpoints (`reload=False`) get the card the move already read
for its event, and nothing more is queried.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.tickets.helpers import events_named, url
from tickets import cards, services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

PACKAGE = Path(services.__file__).parent
MODULE_LINES_MAX = 400


def test_a_move_without_reload_answers_with_the_full_card_of_its_event(personas, columns, make_card, published):
    todo, doing, _ = columns
    card = make_card("mover", assignee="mary")
    published.clear()

    moved = services.ticket_move(ticket=card, column=doing, by=personas.member, reload=False)

    assert moved is card and moved.column_id == doing.pk
    assert moved.card == cards.card(Ticket.objects.get(pk=card.pk), shape=cards.FULL)
    assert moved.card["column_id"] == doing.pk
    (event,) = events_named(published, "board.card_moved")
    payload = dict(event["payload"])
    assert (payload.pop("from_column_id"), payload.pop("to_column_id")) == (todo.pk, doing.pk)
    assert payload == cards.compact(moved.card)


def test_a_move_with_reload_returns_the_ticket_read_again(personas, columns, make_card):
    _, doing, _ = columns
    card = make_card("mover")

    moved = services.ticket_move(ticket=card, column=doing, by=personas.member)

    assert moved is not card and moved.pk == card.pk
    assert (moved.column_id, moved.column.name) == (doing.pk, doing.name)


def test_a_move_that_goes_nowhere_still_answers_with_the_card(personas, columns, make_card):
    todo, _, _ = columns
    card = make_card("stays")

    with CaptureQueriesContext(connection) as reloaded:
        same = services.ticket_move(ticket=card, column=todo, by=personas.member)
    with CaptureQueriesContext(connection) as answered:
        kept = services.ticket_move(ticket=card, column=todo, by=personas.member, reload=False)

    assert same.pk == card.pk and same.column_id == todo.pk
    assert kept.card == cards.card(Ticket.objects.get(pk=card.pk), shape=cards.FULL)
    assert not any(query["sql"].lstrip().upper().startswith("UPDATE") for query in [*reloaded, *answered])


def test_the_move_and_reorder_endpoints_answer_with_the_moved_card(personas, columns, make_card):
    _, doing, _ = columns
    first, second = make_card("first"), make_card("second")
    client = personas.client("member")

    moved = client.patch(url(f"/cards/{first.pk}/move"), {"column_id": doing.pk}, format="json")
    reordered = client.patch(url(f"/cards/{second.pk}/reorder"), {"index": 0}, format="json")

    assert moved.json() == cards.card(Ticket.objects.get(pk=first.pk), shape=cards.FULL)
    assert reordered.json() == cards.card(Ticket.objects.get(pk=second.pk), shape=cards.FULL)


def test_card_move_is_gone():
    assert not hasattr(services, "card_move")


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda path: path.name)
def test_each_services_module_stays_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MODULE_LINES_MAX, f"tickets/services/{path.name} has {lines} lines: split it by subject"


def test_every_name_a_caller_imports_from_the_package_is_there():
    """`from tickets.services import X` and `services.X` keep working for every caller outside the package."""
    root = PACKAGE.parents[1]
    wanted: set[str] = set()
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if parts[0].startswith(".") or parts[:2] == ("tickets", "services"):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "tickets.services":
                wanted.update(alias.name for alias in node.names if alias.name != "time")
            if isinstance(node, ast.ImportFrom) and node.module == "tickets":
                aliases.update(alias.asname or alias.name for alias in node.names if alias.name == "services")
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                wanted.add(node.attr)
    wanted -= {"__file__"}
    assert wanted, "no caller found: the scan is broken"
    assert sorted(name for name in wanted if not hasattr(services, name)) == []
