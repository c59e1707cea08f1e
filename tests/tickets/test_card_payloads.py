"""The board and the card list build their JSON from plain rows (serializers.card_payloads).

These tests hold that JSON to what the DRF serializers (CardCompactSerializer for the board,
CardSerializer for the list) write for the same tickets, field for field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from accounts.models import User
from projects.models import Sprint
from tests.factories import LabelFactory, SprintFactory
from tests.tickets.helpers import url
from tickets import selectors, services
from tickets import serializers as s
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def rich_cards(personas, columns, make_card):
    """Cards with every field the card JSON shows: people with and without avatars, labels, a
    sprint, a parent, a due date, an estimate, a checklist, a closed card and a Markdown body."""
    _todo, doing, done = columns
    User.objects.filter(pk=personas.admin.pk).update(avatar="avatars/adam.webp", display_name="Adam A.")
    personas.admin.refresh_from_db()
    bug = LabelFactory(project=personas.project, name="bug", color="#EF4444")
    ux = LabelFactory(project=personas.project, name="ux", color="#A855F7")
    sprint = SprintFactory(project=personas.project, name="Sprint 7", status=Sprint.Status.ACTIVE)
    parent = make_card("Epic: board speed", type="epic", priority="urgent")
    child = make_card(
        "Render cards as plain dicts",
        body="Some **Markdown** with `code` and <script>x</script>",
        column=doing,
        priority="high",
        assignee="adam",
        labels=[ux.pk, bug.pk],
        sprint=sprint.pk,
        parent=parent.pk,
        due_date=date(2026, 12, 24),
        estimate=5,
    )
    services.checklist_item_add(ticket=child, by=personas.member, text="one", done=True)
    services.checklist_item_add(ticket=child, by=personas.member, text="two")
    closed = make_card("Closed one", column=done, assignee="mary", labels=[bug.pk])
    plain = make_card("Nothing set")
    # Whole seconds are written without a fraction (by the database and by isoformat() alike).
    whole_second = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    Ticket.objects.filter(pk=plain.pk).update(created_at=whole_second, updated_at=whole_second)
    Ticket.objects.filter(pk=closed.pk).update(closed_at=whole_second)
    return [parent, child, closed, plain]


def _json(data: object) -> bytes:
    return JSONRenderer().render(data)


def _drf_cards(personas, serializer_class: type, ids: list[int]) -> list[dict]:
    tickets = {t.pk: t for t in selectors.tickets_for_project(project=personas.project).filter(pk__in=ids)}
    return serializer_class([tickets[pk] for pk in ids], many=True, context={"project": personas.project}).data


def test_board_cards_match_the_compact_serializer(personas, rich_cards):
    body = personas.client("viewer").get(url("/board")).json()
    cards = [card for column in body["columns"] for card in column["cards"]]
    assert len(cards) == len(rich_cards)
    expected = _drf_cards(personas, s.CardCompactSerializer, [card["id"] for card in cards])
    assert cards == expected
    assert _json(cards) == _json(expected)
    child = next(card for card in cards if card["title"] == "Render cards as plain dicts")
    assert child["assignee"]["avatar"] and child["assignee"]["name"] == "Adam A."
    assert [label["name"] for label in child["labels"]] == ["bug", "ux"]
    assert child["checklist"] == {"done": 1, "total": 2}
    assert child["parent"]["key"] == rich_cards[0].key


@pytest.mark.parametrize("query", ["", "?ordering=priority", "?ordering=due_date", "?status=in_progress,done"])
def test_list_cards_match_the_card_serializer(personas, rich_cards, query):
    results = personas.client("viewer").get(url(f"/cards{query}")).json()["results"]
    assert results
    expected = _drf_cards(personas, s.CardSerializer, [card["id"] for card in results])
    assert results == expected
    assert _json(results) == _json(expected)


@pytest.mark.parametrize("ordering", ["number", "-priority", "created_at", "-updated_at"])
def test_cursor_pages_match_the_card_serializer(personas, rich_cards, ordering):
    client = personas.client("viewer")
    first = client.get(url(f"/cards?cursor=&limit=2&ordering={ordering}")).json()
    second = client.get(first["next"]).json()
    results = first["results"] + second["results"]
    assert len({card["id"] for card in results}) == len(rich_cards)
    expected = _drf_cards(personas, s.CardSerializer, [card["id"] for card in results])
    assert results == expected
    back = client.get(second["previous"]).json()
    assert back["results"] == first["results"]


def test_cards_follow_a_site_time_zone_other_than_utc(personas, rich_cards, settings):
    settings.TIME_ZONE = "America/New_York"
    body = personas.client("viewer").get(url("/board")).json()
    cards = [card for column in body["columns"] for card in column["cards"]]
    with timezone.override("America/New_York"):
        expected = _drf_cards(personas, s.CardCompactSerializer, [card["id"] for card in cards])
    assert cards == expected
    assert any(card["created_at"].endswith("-05:00") or card["created_at"].endswith("-04:00") for card in cards)
    results = personas.client("viewer").get(url("/cards")).json()["results"]
    with timezone.override("America/New_York"):
        assert results == _drf_cards(personas, s.CardSerializer, [card["id"] for card in results])
