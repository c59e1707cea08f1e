"""Blocked tickets and done columns: every move surface refuses (409) unless forced; closing a
duplicate in one step; the outgoing webhooks of links."""

from __future__ import annotations

import json

import pytest

from projects.models import Membership
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.tickets.helpers import url
from tests.web.conftest import page_client
from tickets import services
from tickets.models import Ticket, TicketRelation
from webhooks.models import Delivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def blocked(personas, make_card, columns):
    """BLOG-1 blocks BLOG-2; both open, in To Do."""
    blocker, card = make_card("Blocker"), make_card("Blocked")
    services.relation_add(ticket=blocker, other=card, kind="blocks", by=personas.member)
    return blocker, card


def blocked_error(card: Ticket, names: str) -> dict:
    return {"error": f'{card.key} is blocked by open tickets: {names}; send "force": true to move it anyway.'}


def test_canonical_move_refuses_then_forces(personas, blocked, columns):
    blocker, card = blocked
    client = personas.client("member")
    response = client.patch(url(f"/cards/{card.pk}/move"), {"column_id": columns[2].pk}, format="json")
    assert response.status_code == 409
    assert response.json() == blocked_error(card, blocker.key)
    card.refresh_from_db()
    assert (card.column_id, card.state) == (columns[0].pk, "opened")
    # Not into done: no check.
    assert client.patch(url(f"/cards/{card.pk}/move"), {"column_id": columns[1].pk}, format="json").status_code == 200
    forced = client.patch(url(f"/cards/{card.pk}/move"), {"column_id": columns[2].pk, "force": True}, format="json")
    assert forced.status_code == 200 and forced.json()["state"] == "closed"


def test_closed_blocker_does_not_block(personas, blocked, columns):
    blocker, card = blocked
    client = personas.client("member")
    assert (
        client.patch(url(f"/cards/{blocker.pk}/move"), {"column_id": columns[2].pk}, format="json").status_code == 200
    )
    assert client.patch(url(f"/cards/{card.pk}/move"), {"column_id": columns[2].pk}, format="json").status_code == 200


def test_update_status_done_follows_the_rule(personas, blocked):
    _blocker, card = blocked
    client = personas.client("member")
    assert client.patch(url(f"/cards/{card.pk}"), {"status": "done"}, format="json").status_code == 409
    response = client.patch(url(f"/cards/{card.pk}"), {"status": "done", "force": True}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "closed"


def test_blockers_the_mover_cannot_see_are_counted_not_named(personas, make_card, columns):
    owner = UserFactory(username="dora")
    demo = ProjectFactory(owner_user=owner, name="Demo", key="DEMO")
    MembershipFactory(project=demo, user=personas.member, role=Membership.Role.MEMBER)
    hidden = services.ticket_create(project=demo, by=owner, title="Secret")
    blocker, card = make_card("Blocker"), make_card("Blocked")
    services.relation_add(ticket=card, other=hidden, kind="is_blocked_by", by=personas.member)
    services.relation_add(ticket=card, other=blocker, kind="is_blocked_by", by=personas.member)
    response = personas.client("admin").patch(
        url(f"/cards/{card.pk}/move"), {"column_id": columns[2].pk}, format="json"
    )
    assert response.json() == blocked_error(card, f"{blocker.key} and 1 ticket you cannot see")
    response = personas.client("member").patch(
        url(f"/cards/{card.pk}/move"), {"column_id": columns[2].pk}, format="json"
    )
    assert response.json() == blocked_error(card, f"{blocker.key}, {hidden.key}")


def test_punt_dialect_move_refuses_then_forces(personas, blocked, columns):
    _blocker, card = blocked
    client = personas.client("member")
    path = f"/api/projects/{personas.project.pk}/tickets/{card.pk}"
    response = client.patch(path, {"columnId": str(columns[2].pk)}, format="json")
    assert response.status_code == 409
    assert "is blocked by open tickets" in response.json()["error"]
    assert client.patch(path, {"columnId": str(columns[2].pk), "force": True}, format="json").status_code == 200
    card.refresh_from_db()
    assert card.state == "closed"


def test_board_page_move_answers_409_with_a_code_then_forces(personas, blocked, columns):
    blocker, card = blocked
    client = page_client(personas, "member")
    move = f"/projects/olivia/blog/tickets/{card.number}/move"
    response = client.post(move, {"column": columns[2].pk}, HTTP_ACCEPT="application/json")
    assert response.status_code == 409
    assert response.json() == {"error": f"{card.key} is blocked by open tickets: {blocker.key}.", "code": "blocked"}
    response = client.post(move, {"column": columns[2].pk, "force": "1"}, HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    card.refresh_from_db()
    assert card.state == "closed"


def test_board_js_asks_and_retries_with_force():
    # The page's contract with board.js (a browser test drives it too: tests/web/test_browser_relations.py).
    from pathlib import Path

    from django.conf import settings

    script = (Path(settings.BASE_DIR) / "static" / "js" / "board.js").read_text()
    assert 'result.json.code === "blocked"' in script
    assert "window.confirm(" in script
    assert 'data.force = "1"' in script


def test_close_as_duplicate_in_one_step(personas, make_card, published):
    original, copy = make_card("Login fails"), make_card("Login broken")
    client = personas.client("member")
    response = client.post(
        url(f"/cards/{copy.key}/relations"),
        {"kind": "duplicates", "ticket": original.key, "close": True},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["kind"] == "duplicates"
    copy.refresh_from_db()
    assert copy.state == "closed" and copy.column.category == "done"
    assert list(copy.events.filter(kind="action").values_list("text", flat=True)) == [
        "create",
        "relate",
        "move",
        "close",
    ]


def test_close_as_duplicate_of_a_blocked_card_is_all_or_nothing(personas, blocked, make_card):
    _blocker, card = blocked
    original = make_card("Original")
    client = personas.client("member")
    body = {"kind": "duplicates", "ticket": original.key, "close": True}
    response = client.post(url(f"/cards/{card.key}/relations"), body, format="json")
    assert response.status_code == 409
    assert not TicketRelation.objects.filter(kind="duplicates").exists()
    response = client.post(url(f"/cards/{card.key}/relations"), {**body, "force": True}, format="json")
    assert response.status_code == 201
    card.refresh_from_db()
    assert card.state == "closed"


INVERSE = {
    "blocks": "is_blocked_by",
    "is_blocked_by": "blocks",
    "duplicates": "is_duplicated_by",
    "is_duplicated_by": "duplicates",
    "relates_to": "relates_to",
}


@pytest.mark.parametrize("kind", INVERSE)
def test_outgoing_webhooks_get_link_events(personas, make_card, settings, django_capture_on_commit_callbacks, kind):
    """Each kind reaches the hook once per side, each side reading the link its own way."""
    settings.PUNT_WEBHOOKS_ALLOW_PRIVATE = True
    hook = personas.client("admin").post(
        "/api/v1/projects/blog/hooks",
        {"url": "https://hooks.example.com/punt", "events": ["board.card_linked", "board.card_unlinked"]},
        format="json",
    )
    assert hook.status_code == 201
    one, two = make_card("One"), make_card("Two")
    client = personas.client("member")
    with django_capture_on_commit_callbacks():
        relation = client.post(url(f"/cards/{one.key}/relations"), {"kind": kind, "ticket": two.key}, format="json")
    assert relation.status_code == 201, relation.content
    with django_capture_on_commit_callbacks():
        client.delete(url(f"/cards/{one.key}/relations/{relation.json()['id']}"))
    sent = [(d.event, json.loads(d.body)["payload"]) for d in Delivery.objects.order_by("id")]
    assert [event for event, _ in sent] == ["board.card_linked"] * 2 + ["board.card_unlinked"] * 2
    sides = {(payload["key"], payload["relation"]["kind"]) for _, payload in sent}
    assert sides == {(one.key, kind), (two.key, INVERSE[kind])}


def test_github_dialect_close_follows_the_rule(personas, blocked):
    blocker, card = blocked
    client = personas.client("member")
    path = f"/api/v3/projects/olivia/blog/tickets/{card.number}"
    response = client.patch(path, {"state": "closed"}, format="json")
    assert response.status_code == 409
    assert blocker.key in str(response.json())
    card.refresh_from_db()
    assert card.state == "opened"
