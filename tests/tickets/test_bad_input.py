"""Odd references in a card payload are a 400 in the error shape, never a 500 or half a card."""

from __future__ import annotations

import pytest

from punt.errors import Invalid, field_errors
from tests.tickets.helpers import url
from tickets import services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

HUGE = 2**70  # more than any integer column holds (SQLite raises OverflowError on it)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("assignee", "²"),  # str.isdigit() is true, int() raises
        ("labels", ["²"]),
        ("labels", [HUGE]),
        ("labels", [str(HUGE)]),
        ("parent", "²"),
        ("parent", str(HUGE)),
        ("parent", "BLOG-99999999999999999999"),
        ("sprint_id", str(HUGE)),
        ("estimate", HUGE),
        ("estimate", 2_147_483_648),
    ],
)
def test_odd_references_are_a_400_on_create_and_update(personas, columns, make_card, field, value):
    card = make_card("Existing")
    client = personas.client("member")

    created = client.post(url(f"/columns/{columns[0].pk}/cards"), {"title": "New", field: value}, format="json")
    assert created.status_code == 400, created.json()
    body = created.json()
    assert body["error"] == "Validation failed"
    assert [d["field"] for d in body["details"]] in (["sprint_id"], ["sprint"], [field])
    assert Ticket.objects.count() == 1

    updated = client.put(url(f"/cards/{card.pk}"), {field: value}, format="json")
    assert updated.status_code == 400, updated.json()
    card.refresh_from_db()
    assert (card.title, card.estimate, card.parent_id, card.assignee_id) == ("Existing", None, None, None)


def test_the_largest_estimate_is_accepted(personas, columns):
    response = personas.client("member").post(
        url(f"/columns/{columns[0].pk}/cards"), {"title": "Big", "estimate": 2_147_483_647}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["estimate"] == 2_147_483_647


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda card, by: services.ticket_update(ticket=card, by=by, estimate=2**40), "estimate"),
        (lambda card, by: services.ticket_update(ticket=card, by=by, labels=["²"]), "labels"),
        (lambda card, by: services.comment_create(ticket=card, by=by, body="x", minutes=2**40), "minutes"),
    ],
)
def test_services_refuse_out_of_range_values_from_any_caller(personas, make_card, call, field):
    # The pages and the seed dialects call the services without the API's serializers.
    card = make_card("Existing")
    with pytest.raises(Invalid) as refused:
        call(card, personas.member)
    assert field in field_errors(refused.value)
    card.refresh_from_db()
    assert card.estimate is None
    assert not card.events.filter(kind="comment").exists()
