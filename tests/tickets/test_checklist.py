from __future__ import annotations

import pytest

from tests.tickets.helpers import events_named, url
from tickets import services
from tickets.models import ChecklistItem

pytestmark = pytest.mark.django_db


@pytest.fixture
def card(make_card):
    return make_card("with a checklist")


def test_role_matrix(personas, card):
    item = services.checklist_item_add(ticket=card, by=personas.member, text="first")
    assert personas.matrix("get", url(f"/cards/{card.pk}/checklist")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    assert personas.matrix("post", url(f"/cards/{card.pk}/checklist"), {"text": "step"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }
    assert personas.matrix("put", url(f"/checklist/{item.pk}"), {"done": True}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    ids = list(card.checklist.values_list("pk", flat=True))
    assert personas.matrix("patch", url("/checklist/reorder"), {"order": ids[::-1]}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    current: dict[str, ChecklistItem] = {}

    def fresh() -> None:
        current["item"] = services.checklist_item_add(ticket=card, by=personas.member, text="temp")

    assert personas.matrix("delete", lambda role: url(f"/checklist/{current['item'].pk}"), fresh=fresh) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 204,
        "admin": 204,
        "owner": 204,
    }


def test_add_toggle_edit_and_progress(personas, card, published):
    client = personas.client("member")
    first = client.post(url(f"/cards/{card.key}/checklist"), {"text": "write tests"}, format="json").json()
    client.post(url(f"/cards/{card.key}/checklist"), {"text": "ship"}, format="json")
    assert first == {
        "id": first["id"],
        "card_id": card.pk,
        "text": "write tests",
        "done": False,
        "order": 0,
        "done_at": None,
        "done_by": None,
        "created_at": first["created_at"],
    }
    toggled = client.put(url(f"/checklist/{first['id']}"), {"done": True, "text": "write more tests"}, format="json")
    assert (toggled.json()["done"], toggled.json()["text"], toggled.json()["done_by"]["username"]) == (
        True,
        "write more tests",
        "mary",
    )
    assert client.get(url(f"/cards/{card.pk}")).json()["checklist"] == {"done": 1, "total": 2}
    board_card = client.get(url("/board")).json()["columns"][0]["cards"][0]
    assert board_card["checklist"] == {"done": 1, "total": 2}
    untoggled = client.patch(url(f"/cards/{card.pk}/checklist/{first['id']}"), {"done": False}, format="json")
    assert (untoggled.json()["done"], untoggled.json()["done_at"]) == (False, None)
    assert list(card.events.filter(kind="action").values_list("text", flat=True)) == [
        "create",
        "checklist_add",
        "checklist_add",
        "checklist_edit",
        "checklist_check",
        "checklist_uncheck",
    ]
    assert len(events_named(published, "board.card_updated")) == 5


def test_reorder(personas, card, make_card):
    a, b, c = (services.checklist_item_add(ticket=card, by=personas.member, text=t) for t in "abc")
    client = personas.client("member")
    response = client.patch(url("/checklist/reorder"), {"order": [c.pk, a.pk]}, format="json")
    assert [item["text"] for item in response.json()] == ["c", "a", "b"]
    response = client.patch(url(f"/cards/{card.pk}/checklist/reorder"), {"order": [b.pk]}, format="json")
    assert [item["text"] for item in response.json()] == ["b", "c", "a"]
    other = services.checklist_item_add(ticket=make_card("other"), by=personas.member, text="elsewhere")
    response = client.patch(url("/checklist/reorder"), {"order": [a.pk, other.pk]}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "order", "message": f"Not items of BLOG-1: {other.pk}."}]
    assert client.patch(url("/checklist/reorder"), {"order": [a.pk, a.pk]}, format="json").status_code == 400
    assert [i.text for i in card.checklist.order_by("order", "id")] == ["b", "c", "a"]


def test_bad_input(personas, card):
    client = personas.client("member")
    assert client.post(url(f"/cards/{card.pk}/checklist"), {"text": ""}, format="json").status_code == 400
    assert client.post(url(f"/cards/{card.pk}/checklist"), {"text": "x" * 501}, format="json").status_code == 400
    assert client.put(url("/checklist/999999"), {"done": True}, format="json").status_code == 404
    assert ChecklistItem.objects.count() == 0


def test_role_matrix_for_patch_on_the_card_path(personas, card):
    item = services.checklist_item_add(ticket=card, by=personas.member, text="first")
    assert personas.matrix("patch", url(f"/cards/{card.pk}/checklist/{item.pk}"), {"done": True}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
