"""The board, the card lists, the card detail and the events build their JSON from tickets.cards.

These tests hold that JSON to what reference DRF serializers, written out here independently
of tickets.cards (they were PUNT's card serializers before the card module), write for the
same tickets, field for field and byte for byte.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from accounts.models import User
from accounts.serializers import UserBriefSerializer
from projects.models import Sprint
from tests.factories import LabelFactory, SprintFactory
from tests.tickets.helpers import url
from tickets import cards, selectors, services
from tickets.models import Ticket
from tickets.services import custom_fields

pytestmark = pytest.mark.django_db


class _LabelBrief(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    color = serializers.CharField()


class _SprintBrief(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ReferenceCompactCard(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    number = serializers.IntegerField()
    title = serializers.CharField()
    type = serializers.CharField()
    status = serializers.CharField(source="column.category")
    state = serializers.CharField()
    column_id = serializers.IntegerField()
    position = serializers.IntegerField(source="rank")
    priority = serializers.CharField()
    assignee = UserBriefSerializer(allow_null=True)
    labels = _LabelBrief(many=True, source="labels.all")
    sprint = _SprintBrief(allow_null=True)
    parent = serializers.SerializerMethodField()
    due_date = serializers.DateField(allow_null=True)
    estimate = serializers.IntegerField(allow_null=True)
    checklist = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    custom_fields = serializers.SerializerMethodField()

    def get_custom_fields(self, ticket):
        values: dict = {}
        rows = ticket.custom_values.filter(field__deleted_at=None).select_related("field", "option", "user")
        for row in rows.order_by("field__position", "field_id", "option__position", "option_id"):
            kind, key = row.field.type, row.field.key
            if kind == "multi_select":
                values.setdefault(key, []).append(row.option.name)
            elif kind == "select":
                values[key] = row.option.name
            elif kind == "number":
                values[key] = int(row.number) if row.number.is_integer() else row.number
            elif kind == "date":
                values[key] = row.date.isoformat()
            elif kind == "user":
                values[key] = row.user.username
            elif kind == "checkbox":
                values[key] = row.flag
            else:
                values[key] = row.text
        return values

    def get_parent(self, ticket):
        parent = ticket.parent
        if parent is None:
            return None
        return {"id": parent.pk, "key": f"{ticket.project.key}-{parent.number}", "title": parent.title}

    def get_checklist(self, ticket):
        return {"done": getattr(ticket, "checklist_done", 0), "total": getattr(ticket, "checklist_total", 0)}


class ReferenceCard(ReferenceCompactCard):
    body = serializers.CharField()
    body_html = serializers.CharField()
    reporter = UserBriefSerializer(allow_null=True)


class ReferenceDeletedCard(ReferenceCard):
    deleted_at = serializers.DateTimeField()
    deleted_by = UserBriefSerializer(allow_null=True)


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
    for name, kind, options in (("Tags", "multi_select", ["x", "y"]), ("Hours", "number", []), ("Ok", "checkbox", [])):
        custom_fields.custom_field_create(
            project=personas.project, by=personas.admin, name=name, type=kind, options=options
        )
    services.ticket_update(
        ticket=child, by=personas.member, custom_fields={"tags": ["y", "x"], "hours": 1.5, "ok": False}
    )
    closed = make_card("Closed one", column=done, assignee="mary", labels=[bug.pk])
    plain = make_card("Nothing set")
    # Whole seconds are written without a fraction (by the database and by isoformat() alike).
    whole_second = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    Ticket.objects.filter(pk=plain.pk).update(created_at=whole_second, updated_at=whole_second)
    Ticket.objects.filter(pk=closed.pk).update(closed_at=whole_second)
    return [parent, child, closed, plain]


def _json(data: object) -> bytes:
    return JSONRenderer().render(data)


def _drf_cards(personas, serializer_class: type, ids: list[int], deleted: bool = False) -> list[dict]:
    found = selectors.tickets_for_project(project=personas.project, deleted=deleted).filter(pk__in=ids)
    tickets = {t.pk: t for t in found}
    return serializer_class([tickets[pk] for pk in ids], many=True, context={"project": personas.project}).data


def test_board_cards_match_the_compact_serializer(personas, rich_cards):
    body = personas.client("viewer").get(url("/board")).json()
    cards = [card for column in body["columns"] for card in column["cards"]]
    assert len(cards) == len(rich_cards)
    expected = _drf_cards(personas, ReferenceCompactCard, [card["id"] for card in cards])
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
    expected = _drf_cards(personas, ReferenceCard, [card["id"] for card in results])
    assert results == expected
    assert _json(results) == _json(expected)


@pytest.mark.parametrize("ordering", ["number", "-priority", "created_at", "-updated_at"])
def test_cursor_pages_match_the_card_serializer(personas, rich_cards, ordering):
    client = personas.client("viewer")
    first = client.get(url(f"/cards?cursor=&limit=2&ordering={ordering}")).json()
    second = client.get(first["next"]).json()
    results = first["results"] + second["results"]
    assert len({card["id"] for card in results}) == len(rich_cards)
    expected = _drf_cards(personas, ReferenceCard, [card["id"] for card in results])
    assert results == expected
    back = client.get(second["previous"]).json()
    assert back["results"] == first["results"]


def test_cards_follow_a_site_time_zone_other_than_utc(personas, rich_cards, settings):
    settings.TIME_ZONE = "America/New_York"
    body = personas.client("viewer").get(url("/board")).json()
    cards = [card for column in body["columns"] for card in column["cards"]]
    with timezone.override("America/New_York"):
        expected = _drf_cards(personas, ReferenceCompactCard, [card["id"] for card in cards])
    assert cards == expected
    assert any(card["created_at"].endswith("-05:00") or card["created_at"].endswith("-04:00") for card in cards)
    results = personas.client("viewer").get(url("/cards")).json()["results"]
    with timezone.override("America/New_York"):
        assert results == _drf_cards(personas, ReferenceCard, [card["id"] for card in results])


def test_column_cards_and_deleted_cards_match_the_reference(personas, rich_cards, columns):
    todo = columns[0]
    results = personas.client("viewer").get(url(f"/columns/{todo.pk}/cards")).json()["results"]
    assert results
    expected = _drf_cards(personas, ReferenceCard, [card["id"] for card in results])
    assert _json(results) == _json(expected)

    admin = personas.client("admin")
    for ticket in rich_cards[2:]:
        assert admin.delete(url(f"/cards/{ticket.key}")).status_code == 204
    deleted = admin.get(url("/cards/deleted")).json()["results"]
    assert {card["id"] for card in deleted} == {ticket.pk for ticket in rich_cards[2:]}
    expected = _drf_cards(personas, ReferenceDeletedCard, [card["id"] for card in deleted], deleted=True)
    assert _json(deleted) == _json(expected)
    assert deleted[0]["deleted_by"]["username"] == personas.admin.username


def test_card_detail_is_the_full_card_and_what_hangs_off_it(personas, rich_cards):
    child = rich_cards[1]
    body = personas.client("member").get(url(f"/cards/{child.key}")).json()
    card_part = {key: body[key] for key in ReferenceCard().fields}
    assert _json(card_part) == _json(_drf_cards(personas, ReferenceCard, [child.pk])[0])
    assert list(body)[: len(card_part)] == list(card_part)
    assert set(body) - set(card_part) == {"subtasks", "watchers", "counts", "watching"}


def test_card_events_carry_the_compact_card(personas, rich_cards):
    child = rich_cards[1]
    ticket = selectors.tickets_for_project(project=personas.project).get(pk=child.pk)
    assert _json(cards.card(ticket)) == _json(ReferenceCompactCard(ticket).data)
    assert _json(cards.card(ticket, shape=cards.FULL)) == _json(ReferenceCard(ticket).data)
    assert _json(cards.card_of(ticket, shape=cards.FULL)) == _json(ReferenceCard(ticket).data)


def test_every_card_shape_has_the_reference_keys():
    assert [f.name for f in cards.fields(cards.COMPACT)] == list(ReferenceCompactCard().fields)
    assert [f.name for f in cards.fields(cards.FULL)] == list(ReferenceCard().fields)
    assert [f.name for f in cards.fields(cards.DELETED)] == list(ReferenceDeletedCard().fields)
