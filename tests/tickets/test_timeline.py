from __future__ import annotations

import pytest

from tests.factories import ProjectFactory, UserFactory
from tests.tickets.helpers import events_named, url
from tickets import services
from tickets.models import Event

pytestmark = pytest.mark.django_db


def test_role_matrix(personas, make_card):
    card = make_card()
    assert personas.matrix("get", url(f"/cards/{card.pk}/events")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_events_are_shaped_like_seed_003(personas, columns, make_card):
    card = make_card("Register a customer", body="old body")
    client = personas.client("member")
    client.patch(url(f"/cards/{card.pk}"), {"title": "new title"}, format="json")
    client.patch(url(f"/cards/{card.pk}/move"), {"column_id": columns[2].pk}, format="json")
    client.post(url(f"/cards/{card.pk}/comments"), {"body": "I agree with you."}, format="json")

    results = client.get(url(f"/cards/{card.key}/events")).json()["results"]
    mary = {"id": personas.member.pk, "username": "mary", "name": "Mary", "avatar": None}
    assert [(e["type"], e["text"]) for e in results] == [
        ("action", "create"),
        ("update", "{'old': {'title': 'Register a customer'}, 'new': {'title': 'new title'}}"),
        ("action", "move"),
        ("action", "close"),
        ("comment", "I agree with you."),
    ]
    update = results[1]
    assert update["data"] == {"old": {"title": "Register a customer"}, "new": {"title": "new title"}}
    assert set(update) == {"id", "type", "text", "html", "data", "minutes", "created_at", "last_updated_at", "author"}
    assert all(e["author"] == mary for e in results)


def test_mentions_of_members_notify_and_write_events(personas, make_card, published):
    UserFactory(username="stranger")
    card = make_card("Ping", body="cc @adam and @stranger, mail adam@example.com")
    mentions = list(card.events.filter(kind="mention").values_list("text", flat=True))
    assert mentions == ["@adam"]
    note = events_named(published, "notification.mention")
    assert [n["user_ids"] for n in note] == [[personas.admin.pk]]
    payload = note[0]["payload"]
    assert payload["ticket"] == {"id": card.pk, "key": "BLOG-1", "title": "Ping"}
    assert payload["actor"]["username"] == "mary"
    assert payload["excerpt"].startswith("Ping cc @adam")

    # Editing the body does not re-notify those already mentioned.
    published.clear()
    personas.client("member").patch(url(f"/cards/{card.pk}"), {"body": "cc @adam and @victor"}, format="json")
    assert [n["user_ids"] for n in events_named(published, "notification.mention")] == [[personas.viewer.pk]]


def test_ticket_references_cross_reference_both_timelines(personas, make_card):
    target = make_card("target")
    other_project = ProjectFactory(key="SECRET", owner_user=UserFactory(username="zed"))
    from tests.factories import TicketFactory

    hidden = TicketFactory(project=other_project)
    source = make_card(
        "source", body=f"relates to #{target.number}, dup of BLOG-{target.number}, see SECRET-{hidden.number}"
    )

    assert list(source.events.filter(kind="mention").values_list("text", flat=True)) == ["#1"]
    back = target.events.get(kind="mention")
    assert back.text == "BLOG-2"
    assert back.data["ticket"] == {"id": source.pk, "key": "BLOG-2", "title": "source"}
    assert back.data["cross_reference"] is True
    # mary cannot see SECRET: no event leaks into it and the text is not linked.
    assert not Event.objects.filter(ticket=hidden).exists()
    assert "SECRET-1</a>" not in source.body_html

    services.comment_create(ticket=target, by=personas.member, body="fixed together with BLOG-2")
    assert source.events.filter(kind="mention", text="BLOG-1").exists()


def test_events_query_count_does_not_grow(personas, make_card, django_assert_max_num_queries):
    card = make_card()
    client = personas.client("viewer")

    def grow(n: int) -> None:
        for i in range(n):
            author = UserFactory()
            from tests.factories import MembershipFactory

            MembershipFactory(project=personas.project, user=author)
            services.comment_create(ticket=card, by=author, body=f"comment {i} @adam", minutes=5)

    grow(2)
    with django_assert_max_num_queries(8) as small:
        assert client.get(url(f"/cards/{card.pk}/events")).status_code == 200
    grow(10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url(f"/cards/{card.pk}/events")).json()["count"] == 25
