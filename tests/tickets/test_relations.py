from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey, hash_api_key
from projects.models import Membership
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.tickets.helpers import events_named, url
from tickets import services
from tickets.models import Event, Ticket, TicketRelation

pytestmark = pytest.mark.django_db


def rel_url(card: Ticket) -> str:
    return url(f"/cards/{card.key}/relations")


def link(client: APIClient, card: Ticket, kind: str, other: str, **extra: object):
    return client.post(rel_url(card), {"kind": kind, "ticket": other, **extra}, format="json")


@pytest.fixture
def other_project(personas):
    """DEMO: mary (member of BLOG) is a member; victor and oscar are not."""
    owner = UserFactory(username="dora")
    project = ProjectFactory(owner_user=owner, name="Demo", key="DEMO")
    MembershipFactory(project=project, user=personas.member, role=Membership.Role.MEMBER)
    return project


def test_role_matrix(personas, make_card):
    card = make_card()
    target = make_card("Other")
    assert personas.matrix("get", rel_url(card)) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    kinds = iter(["blocks", "duplicates", "relates_to"])
    assert personas.matrix(
        "post",
        rel_url(card),
        lambda role: {"kind": next(kinds) if role in ("member", "admin", "owner") else "blocks", "ticket": target.key},
    ) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }
    ids = list(TicketRelation.objects.order_by("id").values_list("id", flat=True))
    writers = iter(ids)

    def target_of(role: str) -> str:
        # Refused roles aim at the last link, which the owner removes in the end.
        pk = next(writers) if role in ("member", "admin", "owner") else ids[-1]
        return url(f"/cards/{card.key}/relations/{pk}")

    assert personas.matrix("delete", target_of) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 204,
        "admin": 204,
        "owner": 204,
    }
    assert not TicketRelation.objects.exists()


def test_api_key_needs_tickets_write(personas, make_card):
    card, other = make_card(), make_card("Other")

    def client_with(scopes: list[str]) -> APIClient:
        raw = f"punt_{'x' * 40}{len(scopes)}{'-'.join(scopes)}"
        ApiKey.objects.create(
            user=personas.member, name="ci", prefix=raw[:10], hashed_key=hash_api_key(raw), scopes=scopes
        )
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=raw)
        return client

    read_only = client_with(["tickets:read"])
    assert read_only.get(rel_url(card)).status_code == 200
    assert link(read_only, card, "blocks", other.key).status_code == 403
    assert link(client_with(["tickets:write"]), card, "blocks", other.key).status_code == 201


@pytest.mark.parametrize(
    ("kind", "stored", "forward", "inverse"),
    [
        ("blocks", "blocks", True, "is_blocked_by"),
        ("is_blocked_by", "blocks", False, "blocks"),
        ("duplicates", "duplicates", True, "is_duplicated_by"),
        ("is_duplicated_by", "duplicates", False, "duplicates"),
        ("relates_to", "relates_to", True, "relates_to"),
    ],
)
def test_each_kind_and_its_inverse(personas, make_card, kind, stored, forward, inverse):
    card, other = make_card("One"), make_card("Two")
    client = personas.client("member")
    response = link(client, card, kind, other.key.lower())
    assert response.status_code == 201, response.json()
    body = response.json()
    relation = TicketRelation.objects.get()
    assert (relation.kind, relation.source_id == card.pk) == (stored, forward)
    assert body == {
        "id": relation.pk,
        "kind": kind,
        "ticket": {
            "id": other.pk,
            "key": other.key,
            "title": "Two",
            "status": "todo",
            "column": {"id": other.column_id, "name": other.column.name},
            "state": "opened",
            "project": {"id": personas.project.pk, "key": "BLOG", "slug": "blog", "name": "Blog"},
            "html_url": f"/projects/olivia/blog/tickets/{other.number}",
        },
        "created_by": {"username": "mary"},
        "created_at": body["created_at"],
    }
    from_other = client.get(rel_url(other)).json()
    assert [(row["kind"], row["ticket"]["key"]) for row in from_other] == [(inverse, card.key)]
    assert client.get(rel_url(card)).json() == [body]


def test_bad_input(personas, make_card):
    card, other = make_card(), make_card("Other")
    client = personas.client("member")
    assert link(client, card, "blocks", card.key).json() == {
        "error": "Validation failed",
        "details": [{"field": "ticket", "message": "A ticket cannot be linked to itself."}],
    }
    assert link(client, card, "duplicates", card.key).status_code == 400
    response = link(client, card, "causes", other.key)
    assert response.status_code == 400 and response.json()["details"][0]["field"] == "kind"
    assert link(client, card, "blocks", "NOPE-1").json()["details"] == [
        {"field": "ticket", "message": "No ticket 'NOPE-1' that you can see."}
    ]
    assert link(client, card, "blocks", "garbage").status_code == 400
    assert link(client, card, "relates_to", other.key, close=True).json()["details"][0]["field"] == "close"
    assert link(client, card, "blocks", other.key).status_code == 201
    again = link(client, other, "is_blocked_by", card.key)
    assert again.json()["details"] == [{"field": "ticket", "message": f"{other.key} already is blocked by {card.key}."}]
    assert link(client, card, "relates_to", other.key).status_code == 201
    assert link(client, other, "relates_to", card.key).status_code == 400
    assert link(client, card, "duplicates", other.key).status_code == 201
    assert link(client, other, "duplicates", card.key).status_code == 400
    assert TicketRelation.objects.count() == 3
    assert client.delete(url(f"/cards/{card.key}/relations/999999")).status_code == 404


def test_blocks_cycles_are_refused(personas, make_card):
    a, b, c = make_card("A"), make_card("B"), make_card("C")
    client = personas.client("member")
    assert link(client, a, "blocks", b.key).status_code == 201
    assert link(client, b, "blocks", c.key).status_code == 201
    response = link(client, c, "blocks", a.key)
    assert response.status_code == 400
    assert response.json()["details"] == [
        {
            "field": "ticket",
            "message": f"{c.key} cannot block {a.key}: {a.key} already blocks it, directly or through others.",
        }
    ]
    assert link(client, a, "is_blocked_by", c.key).status_code == 400
    assert link(client, b, "blocks", a.key).status_code == 400
    # Not a cycle: another path to the same ticket.
    assert link(client, a, "blocks", c.key).status_code == 201


def test_cross_project_links_and_visibility(personas, make_card, other_project):
    card = make_card()
    demo = services.ticket_create(project=other_project, by=personas.member, title="In demo")
    member = personas.client("member")
    response = link(member, card, "is_blocked_by", demo.key)
    assert response.status_code == 201
    assert response.json()["ticket"]["project"]["key"] == "DEMO"
    # The admin of BLOG is not in DEMO: cannot see the link nor link to DEMO's tickets.
    admin = personas.client("admin")
    assert admin.get(rel_url(card)).json() == []
    assert link(admin, card, "relates_to", demo.key).json()["details"] == [
        {"field": "ticket", "message": f"No ticket '{demo.key}' that you can see."}
    ]
    relation = TicketRelation.objects.get()
    assert admin.delete(url(f"/cards/{card.key}/relations/{relation.pk}")).status_code == 404
    # From DEMO's side, mary sees the inverse.
    demo_side = member.get(f"/api/v1/projects/demo/cards/{demo.key}/relations").json()
    assert [(row["kind"], row["ticket"]["key"]) for row in demo_side] == [("blocks", card.key)]
    # An outsider of BLOG gets 404 on BLOG's card, whatever the other side.
    assert personas.client("outsider").get(rel_url(card)).status_code == 404


def test_events_on_both_tickets_and_realtime(personas, make_card, other_project, published):
    card = make_card()
    demo = services.ticket_create(project=other_project, by=personas.member, title="In demo")
    published.clear()
    client = personas.client("member")
    relation_id = link(client, card, "blocks", demo.key).json()["id"]
    assert Event.objects.filter(ticket=card, text="relate").get().data == {
        "relation": {"kind": "blocks", "ticket": {"id": demo.pk, "key": demo.key}}
    }
    assert Event.objects.filter(ticket=demo, text="relate").get().data == {
        "relation": {"kind": "is_blocked_by", "ticket": {"id": card.pk, "key": card.key}}
    }
    linked = events_named(published, "board.card_linked")
    assert [(call["project_id"], call["payload"]) for call in linked] == [
        (
            personas.project.pk,
            {"id": card.pk, "key": card.key, "relation": {"id": relation_id, "kind": "blocks"}, "other_id": demo.pk},
        ),
        (
            other_project.pk,
            {
                "id": demo.pk,
                "key": demo.key,
                "relation": {"id": relation_id, "kind": "is_blocked_by"},
                "other_id": card.pk,
            },
        ),
    ]
    assert client.delete(url(f"/cards/{card.key}/relations/{relation_id}")).status_code == 204
    assert Event.objects.filter(text="unrelate").count() == 2
    assert Event.objects.filter(ticket=demo, text="unrelate").get().data["relation"]["kind"] == "is_blocked_by"
    assert [call["project_id"] for call in events_named(published, "board.card_unlinked")] == [
        personas.project.pk,
        other_project.pk,
    ]


def test_list_query_count_does_not_grow(personas, make_card, django_assert_max_num_queries):
    card = make_card()
    client = personas.client("member")
    for n in range(2):
        link(client, card, "relates_to", make_card(f"r{n}").key)
    with django_assert_max_num_queries(5):
        assert len(client.get(rel_url(card)).json()) == 2
    for n in range(8):
        link(client, card, "blocks", make_card(f"b{n}").key)
    with django_assert_max_num_queries(5):
        assert len(client.get(rel_url(card)).json()) == 10


def test_detail_include_relations_is_the_list_endpoint(
    personas, make_card, other_project, django_assert_max_num_queries
):
    card = make_card()
    demo = services.ticket_create(project=other_project, by=personas.member, title="In demo")
    member = personas.client("member")
    link(member, card, "blocks", make_card("Local").key)
    link(member, card, "relates_to", demo.key)
    for role, count in (("member", 2), ("viewer", 1)):
        client = personas.client(role)
        body = client.get(url(f"/cards/{card.key}?include=relations")).json()
        own = client.get(rel_url(card)).json()
        assert body["included"] == {"relations": {"count": count, "next": None, "previous": None, "results": own}}
    # The detail (8, with its custom field values) and two for the links of every kind, whatever
    # their number.
    with django_assert_max_num_queries(11):
        member.get(url(f"/cards/{card.key}?include=relations,links"))
    for n in range(5):
        link(member, card, "is_blocked_by", make_card(f"more {n}").key)
    with django_assert_max_num_queries(10):
        assert member.get(url(f"/cards/{card.key}?include=relations")).json()["included"]["relations"]["count"] == 7
