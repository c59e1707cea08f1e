"""Saved views through /api/v1/projects/<slug>/views: CRUD, validation, who may do what, counts, cards."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey, hash_api_key
from tests.factories import LabelFactory, TicketFactory, UserFactory
from tickets.models import SavedView, Ticket

pytestmark = pytest.mark.django_db

BASE = "/api/v1/projects/blog/views"


def _view(personas, *, owner=None, name="Mine", query="priority >= high", **fields) -> SavedView:
    return SavedView.objects.create(project=personas.project, owner=owner, name=name, query=query, **fields)


def test_create_read_update_delete(personas):
    client = personas.client("member")
    response = client.post(BASE, {"name": "My bugs", "query": "type = bug ORDER BY updated DESC"}, format="json")
    assert response.status_code == 201, response.json()
    created = response.json()
    member = personas.member
    assert {k: v for k, v in created.items() if k not in ("id", "created_at", "updated_at")} == {
        "name": "My bugs",
        "query": "type = bug ORDER BY updated DESC",
        "display": "board",
        "shared": False,
        "owner": {"id": member.pk, "username": "mary", "name": member.name, "avatar": created["owner"]["avatar"]},
        "position": 0,
        "created_by": created["owner"],
        "count": None,
    }
    detail = f"{BASE}/{created['id']}"
    assert client.get(detail).json() == created
    response = client.patch(detail, {"name": "Bugs", "display": "list", "position": 3}, format="json")
    assert response.status_code == 200
    assert (response.json()["name"], response.json()["display"], response.json()["position"]) == ("Bugs", "list", 3)
    assert [v["name"] for v in client.get(BASE).json()] == ["Bugs"]
    assert client.delete(detail).status_code == 204
    assert client.get(detail).status_code == 404


def test_bad_query_is_a_400_with_its_position(personas):
    response = personas.client("member").post(BASE, {"name": "x", "query": "priorty = high"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "Unknown field 'priorty' at 0: did you mean 'priority'?"
    assert body["details"][0]["field"] == "query" and body["details"][0]["position"] == 0
    view = _view(personas, owner=personas.member)
    response = personas.client("member").patch(f"{BASE}/{view.pk}", {"query": "label = nosuch"}, format="json")
    assert response.status_code == 400 and response.json()["details"][0]["position"] == 8
    assert SavedView.objects.get(pk=view.pk).query == "priority >= high"


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"query": "x"}, "name"),
        ({"name": "   ", "query": ""}, "name"),
        ({"name": "x", "display": "table"}, "display"),
        ({"name": "x", "position": -1}, "position"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_bad_fields_are_400s(personas, payload, field):
    response = personas.client("member").post(BASE, payload, format="json")
    assert response.status_code == 400
    assert field in {detail["field"] for detail in response.json()["details"]}


def test_names_are_unique_per_owner_and_among_shared(personas):
    _view(personas, owner=personas.member, name="Hot")
    member, admin = personas.client("member"), personas.client("admin")
    response = member.post(BASE, {"name": "hot"}, format="json")
    assert response.status_code == 400 and response.json()["details"][0]["field"] == "name"
    assert admin.post(BASE, {"name": "Hot"}, format="json").status_code == 201  # admin's own
    assert admin.post(BASE, {"name": "Hot", "shared": True}, format="json").status_code == 201
    assert admin.post(BASE, {"name": "HOT", "shared": True}, format="json").status_code == 400


def test_list_shows_shared_then_own_never_others(personas):
    shared = _view(personas, name="Team")
    mine = _view(personas, owner=personas.member, name="Mine")
    _view(personas, owner=personas.admin, name="Adam's")
    assert [v["id"] for v in personas.client("member").get(BASE).json()] == [shared.pk, mine.pk]
    assert [v["id"] for v in personas.client("viewer").get(BASE).json()] == [shared.pk]
    theirs = SavedView.objects.get(name="Adam's")
    assert personas.client("member").get(f"{BASE}/{theirs.pk}").status_code == 404


def test_role_matrix_for_personal_views(personas):
    assert personas.matrix("get", BASE) == {
        "anonymous": 401, "outsider": 404, "viewer": 200, "member": 200, "admin": 200, "owner": 200,
    }  # fmt: skip
    SavedView.objects.all().delete()
    statuses = personas.matrix("post", BASE, {"name": "Mine", "query": "assignee = me()"})
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 201, "admin": 201, "owner": 201}

    def own(role: str) -> str:
        user = personas.user(role) or personas.member
        view, _ = SavedView.objects.get_or_create(project=personas.project, owner=user, name="Own")
        return f"{BASE}/{view.pk}"

    statuses = personas.matrix("patch", own, {"name": "Own"})
    # A viewer's personal view can only exist from before a demotion: they may no longer change it.
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 200, "admin": 200, "owner": 200}
    assert personas.matrix("delete", own) == {
        "anonymous": 401, "outsider": 404, "viewer": 403, "member": 204, "admin": 204, "owner": 204,
    }  # fmt: skip


def test_role_matrix_for_shared_views(personas):
    statuses = personas.matrix("post", BASE, lambda role: {"name": f"Team {role}", "shared": True})
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 201, "owner": 201}
    view = _view(personas, name="Team")
    url = f"{BASE}/{view.pk}"
    assert personas.matrix("get", url) == {
        "anonymous": 401, "outsider": 404, "viewer": 200, "member": 200, "admin": 200, "owner": 200,
    }  # fmt: skip
    assert personas.matrix("patch", url, {"query": "type = bug"}) == {
        "anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 200, "owner": 200,
    }  # fmt: skip
    fresh = lambda: SavedView.objects.get_or_create(pk=view.pk, defaults={"project": personas.project, "name": "T"})  # noqa: E731
    assert personas.matrix("delete", url, fresh=fresh) == {
        "anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 204, "owner": 204,
    }  # fmt: skip


def test_sharing_a_personal_view_needs_admin(personas):
    mine = _view(personas, owner=personas.member, name="Mine")
    assert personas.client("member").patch(f"{BASE}/{mine.pk}", {"shared": True}, format="json").status_code == 403
    ours = _view(personas, owner=personas.admin, name="Ours")
    response = personas.client("admin").patch(f"{BASE}/{ours.pk}", {"shared": True}, format="json")
    assert response.status_code == 200 and response.json()["shared"] is True and response.json()["owner"] is None
    assert [v["name"] for v in personas.client("viewer").get(BASE).json()] == ["Ours"]


def test_api_key_needs_the_tickets_scope(personas):
    def client_with(scopes: list[str]) -> APIClient:
        raw = f"punt_{'y' * 40}{len(scopes)}{'-'.join(scopes)}"
        ApiKey.objects.create(
            user=personas.member, name="ci", prefix=raw[:10], hashed_key=hash_api_key(raw), scopes=scopes
        )
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=raw)
        return client

    chat_only = client_with(["chat:write"])
    assert chat_only.get(BASE).status_code == 403
    read_only = client_with(["tickets:read"])
    assert read_only.get(BASE).status_code == 200
    assert read_only.post(BASE, {"name": "x"}, format="json").status_code == 403
    assert client_with(["tickets:write"]).post(BASE, {"name": "x"}, format="json").status_code == 201


def test_counts_of_open_cards(personas):
    backend = LabelFactory(project=personas.project, name="backend")
    for priority in ("high", "urgent", "low"):
        ticket = TicketFactory(project=personas.project, priority=priority)
        ticket.labels.add(backend)
    TicketFactory(project=personas.project, priority="high", state=Ticket.State.CLOSED)
    hot = _view(personas, name="Hot", query="priority >= high")
    labelled = _view(personas, name="Backend", query="label = backend ORDER BY priority DESC", owner=personas.member)
    everything = _view(personas, name="All", query="")
    broken = _view(personas, name="Broken", query="label = gone")
    counts = {v["id"]: v["count"] for v in personas.client("member").get(f"{BASE}?counts=1").json()}
    assert counts == {hot.pk: 2, labelled.pk: 3, everything.pk: 3, broken.pk: None}
    response = personas.client("member").get(f"{BASE}?counts=maybe")
    assert response.status_code == 400 and response.json()["details"][0]["field"] == "counts"


def test_list_with_counts_costs_one_aggregate_plus_each_querys_lookups(personas, django_assert_num_queries):
    client = personas.client("member")
    TicketFactory(project=personas.project, priority="high")
    label = LabelFactory(project=personas.project, name="ops")

    def add_views(n: int) -> None:
        start = SavedView.objects.count()
        for i in range(start, start + n):
            _view(personas, owner=personas.member, name=f"V{i}", query=f"label = {label.name} OR priority = high")

    add_views(1)
    client.get(f"{BASE}?counts=1")
    # The project with the caller's role, the views, one label lookup per view, one aggregate.
    with django_assert_num_queries(1 + 1 + 1 + 1) as few:
        client.get(f"{BASE}?counts=1")
    add_views(4)
    with django_assert_num_queries(len(few.captured_queries) + 4):
        response = client.get(f"{BASE}?counts=1")
    assert [v["count"] for v in response.json()] == [1] * 5
    with django_assert_num_queries(len(few.captured_queries) - 2):  # without counts: no lookups, no aggregate
        client.get(BASE)


def test_view_cards_in_its_order_and_paged(personas, django_assert_max_num_queries):
    low = TicketFactory(project=personas.project, priority="low", title="low")
    urgent = TicketFactory(project=personas.project, priority="urgent", title="urgent")
    high = TicketFactory(project=personas.project, priority="high", title="high")
    view = _view(personas, owner=personas.member, query="priority >= high ORDER BY priority DESC")
    client = personas.client("member")
    response = client.get(f"{BASE}/{view.pk}/cards")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2 and [card["id"] for card in body["results"]] == [urgent.pk, high.pk]
    page = client.get(f"{BASE}/{view.pk}/cards?limit=1&offset=1").json()
    assert [card["id"] for card in page["results"]] == [high.pk] and page["previous"]
    plain = _view(personas, owner=personas.member, name="All", query="")
    assert [c["id"] for c in client.get(f"{BASE}/{plain.pk}/cards").json()["results"]] == [high.pk, urgent.pk, low.pk]
    with django_assert_max_num_queries(12) as few:
        client.get(f"{BASE}/{plain.pk}/cards")
    for i in range(15):
        TicketFactory(project=personas.project, title=f"more {i}")
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(f"{BASE}/{plain.pk}/cards")
    other = _view(personas, owner=personas.admin, name="Adam's")
    assert client.get(f"{BASE}/{other.pk}/cards").status_code == 404
    broken = _view(personas, owner=personas.member, name="Broken", query="label = gone")
    assert client.get(f"{BASE}/{broken.pk}/cards").status_code == 400


def test_admin_corrects_and_deletes_through_the_service(client, personas):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    view = _view(personas, owner=personas.member, name="Mine")
    assert client.get("/admin/tickets/savedview/?q=mine").status_code == 200
    change = f"/admin/tickets/savedview/{view.pk}/change/"
    assert client.get(change).status_code == 200
    form = {"name": "Mine", "query": "priorty = high", "display": "list", "position": "0"}
    response = client.post(change, form, follow=True)
    assert "Unknown field" in response.content.decode()
    assert SavedView.objects.get(pk=view.pk).query == "priority >= high"
    client.post(change, {**form, "query": "type = bug"})
    assert (SavedView.objects.get(pk=view.pk).query, SavedView.objects.get(pk=view.pk).display) == (
        "type = bug",
        "list",
    )
    client.post(f"/admin/tickets/savedview/{view.pk}/delete/", {"post": "yes"})
    assert not SavedView.objects.exists()
