from __future__ import annotations

import pytest
from django.utils import timezone

from tests.tickets.helpers import events_named, url
from tickets import services
from tickets.models import Event, TimeEntry, Watcher

pytestmark = pytest.mark.django_db


def test_role_matrix_list_and_create(personas, make_card):
    card = make_card()
    assert personas.matrix("get", url(f"/cards/{card.pk}/comments")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    assert personas.matrix("post", url(f"/cards/{card.pk}/comments"), {"body": "hi"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }


def test_edit_own_only(personas, make_card):
    card = make_card()
    comment = services.comment_create(ticket=card, by=personas.member, body="mine")
    assert personas.matrix("put", url(f"/comments/{comment.pk}"), {"body": "edited"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 403,
        "owner": 403,
    }
    comment.refresh_from_db()
    assert comment.text == "edited"
    # The seed-004 path under the card works too.
    response = personas.client("member").put(
        url(f"/cards/{card.pk}/comments/{comment.pk}"), {"body": "**again**"}, format="json"
    )
    assert response.json()["body_html"] == "<p><strong>again</strong></p>"


def test_delete_own_or_as_admin(personas, make_card):
    card = make_card()
    current: dict[str, Event] = {}

    def fresh() -> None:
        current["comment"] = services.comment_create(ticket=card, by=personas.member, body="x", minutes=10)

    assert personas.matrix("delete", lambda role: url(f"/comments/{current['comment'].pk}"), fresh=fresh) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 204,
        "admin": 204,
        "owner": 204,
    }
    # A member cannot delete someone else's comment.
    theirs = services.comment_create(ticket=card, by=personas.admin, body="admin's")
    assert personas.client("member").delete(url(f"/comments/{theirs.pk}")).status_code == 403
    deleted = Event.objects.filter(kind="comment", deleted_at__isnull=False)
    assert deleted.count() == 3  # soft: the rows stay
    assert TimeEntry.objects.filter(comment__in=deleted).count() == 0
    listing = personas.client("viewer").get(url(f"/cards/{card.pk}/comments")).json()
    # The three refused deletes left their comments; the deleted ones are gone from the list.
    assert [c["body"] for c in listing["results"]] == ["x", "x", "x", "admin's"]
    assert personas.client("member").put(url(f"/comments/{deleted.first().pk}"), {"body": "y"}).status_code == 404


def test_comment_logs_time_watches_and_publishes(personas, make_card, published):
    card = make_card(by=personas.admin)
    response = personas.client("member").post(
        url(f"/cards/{card.key}/comments"), {"body": "Did it, see #1", "minutes": 45}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    comment = Event.objects.get(pk=body["id"])
    assert body == {
        "id": comment.pk,
        "card_id": card.pk,
        "body": "Did it, see #1",
        "body_html": (
            '<p>Did it, see <a href="/projects/olivia/blog/tickets/1" rel="noopener noreferrer nofollow">#1</a></p>'
        ),
        "minutes": 45,
        "author": {"id": personas.member.pk, "username": "mary", "name": "Mary", "avatar": None},
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
    }
    entry = TimeEntry.objects.get()
    assert (entry.user, entry.minutes, entry.date, entry.comment_id) == (
        personas.member,
        45,
        timezone.localdate(),
        comment.pk,
    )
    assert Watcher.objects.filter(ticket=card, user=personas.member).exists()
    created = events_named(published, "comment.created")
    assert created[0]["payload"]["card"]["key"] == "BLOG-1"
    assert created[0]["payload"]["comment"]["id"] == comment.pk
    assert [c["user_ids"] for c in events_named(published, "notification.ticket")] == [[personas.admin.pk]]


def test_no_minutes_no_time_entry_and_bad_input(personas, make_card):
    card = make_card()
    client = personas.client("member")
    assert client.post(url(f"/cards/{card.pk}/comments"), {"body": "plain"}, format="json").status_code == 201
    assert TimeEntry.objects.count() == 0
    response = client.post(url(f"/cards/{card.pk}/comments"), {"body": "x", "minutes": -5}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "minutes"
    response = client.post(url(f"/cards/{card.pk}/comments"), {"body": "   "}, format="json")
    assert response.status_code == 400
    assert Event.objects.filter(kind="comment").count() == 1


def test_comment_markdown_is_sanitized(personas, make_card):
    card = make_card()
    response = personas.client("member").post(
        url(f"/cards/{card.pk}/comments"), {"body": "<script>alert(1)</script><b onclick=x>hi</b>"}, format="json"
    )
    assert response.json()["body_html"] == "<p><b>hi</b></p>"


def test_role_matrix_for_patch_on_the_card_path(personas, make_card):
    card = make_card()
    comment = services.comment_create(ticket=card, by=personas.admin, body="admin's")
    assert personas.matrix("patch", url(f"/cards/{card.key}/comments/{comment.pk}"), {"body": "edit"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 403,
    }
    other = make_card("other")
    assert (
        personas.client("admin").patch(url(f"/cards/{other.pk}/comments/{comment.pk}"), {"body": "x"}).status_code
        == 404
    )
