"""A ticket in one request: GET /cards/<id>?include=comments,events,checklist,attachments,links.

The detail is read through tickets.cards and plain rows (tickets.detail); its JSON is held here
to what the DRF serializers wrote (selectors.ticket_detail + serializers.card_detail), and each
included part to what the part's own list endpoint answers, byte for byte.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import ApiKey, User, hash_api_key
from tests.factories import LabelFactory
from tests.tickets.helpers import url
from tickets import api, detail, selectors, services
from tickets import serializers as s
from tickets.models import Event

pytestmark = pytest.mark.django_db

NAMES = ("comments", "events", "checklist", "attachments", "links")


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def rich(personas, columns, make_card):
    """A ticket with something in every part: comments (one with minutes, one deleted, authors
    with and without an avatar), checklist items (one done), an image and a text attachment,
    git links, a sub-task, watchers, labels."""
    User.objects.filter(pk=personas.admin.pk).update(avatar="avatars/adam.webp", display_name="Adam A.")
    personas.admin.refresh_from_db()
    bug = LabelFactory(project=personas.project, name="bug", color="#EF4444")
    ticket = make_card("Detail in one request", body="**bold**", assignee="adam", labels=[bug.pk])
    make_card("A sub-task", type="subtask", parent=ticket.pk)
    services.comment_create(ticket=ticket, by=personas.admin, body="First, *with* Markdown", minutes=30)
    gone = services.comment_create(ticket=ticket, by=personas.member, body="To delete")
    services.comment_create(ticket=ticket, by=personas.member, body="Third")
    services.comment_delete(comment=gone, by=personas.member)
    services.checklist_item_add(ticket=ticket, by=personas.member, text="one", done=True)
    services.checklist_item_add(ticket=ticket, by=personas.member, text="two")
    services.attachment_add(
        ticket=ticket, by=personas.member, upload=SimpleUploadedFile("p.png", _png(), content_type="image/png")
    )
    services.attachment_add(
        ticket=ticket, by=personas.admin, upload=SimpleUploadedFile("t.txt", b"hi", content_type="text/plain")
    )
    services.git_link_add(ticket=ticket, url="https://github.com/acme/blog/commit/abc123", by=personas.member)
    services.git_link_add(
        ticket=ticket, url="https://github.com/acme/blog/pull/7", kind="pull_request", state="open", by=None
    )
    services.ticket_watch(ticket=ticket, user=personas.viewer)
    return ticket


def _rendered(response, data) -> bytes:
    """`data` as the API's renderer writes it for `response`'s request."""
    return response.accepted_renderer.render(data, response.accepted_media_type, response.renderer_context)


def test_detail_without_include_is_the_drf_detail_byte_for_byte(personas, rich):
    for role in ("viewer", "member", "admin"):
        client = personas.client(role)
        response = client.get(url(f"/cards/{rich.key}"))
        assert response.status_code == 200
        reference = s.card_detail(
            selectors.ticket_detail(project=personas.project, card_id=rich.pk), user_id=personas.user(role).pk
        )
        assert response.content == _rendered(response, reference)
        assert "included" not in response.json()
    body = personas.client("viewer").get(url(f"/cards/{rich.pk}")).json()
    assert body["watching"] is True
    assert body["counts"] == {"comments": 2, "attachments": 2, "links": 2, "subtasks": 1, "watchers": 3}


def test_writes_answer_the_drf_detail(personas, rich):
    client = personas.client("member")
    response = client.patch(url(f"/cards/{rich.key}"), {"title": "Renamed"}, format="json")
    assert response.status_code == 200
    reference = s.card_detail(
        selectors.ticket_detail(project=personas.project, card_id=rich.pk), user_id=personas.member.pk
    )
    assert response.content == _rendered(response, reference)


@pytest.mark.parametrize("name", NAMES)
def test_each_part_is_its_endpoints_first_page(personas, rich, name):
    client = personas.client("viewer")
    response = client.get(url(f"/cards/{rich.key}?include={name}"))
    assert response.status_code == 200
    body = response.json()
    assert list(body["included"]) == [name]
    part = body["included"][name]
    own = client.get(url(f"/cards/{rich.key}/{name}"))
    if name in detail.PAGINATED:
        assert _rendered(response, part) == own.content
    else:
        assert _rendered(response, part["results"]) == own.content
        assert part == {"count": len(own.json()), "next": None, "previous": None, "results": own.json()}
    assert part["results"], name
    without = client.get(url(f"/cards/{rich.key}")).json()
    assert {key: value for key, value in body.items() if key != "included"} == without


def test_several_parts_in_one_request(personas, rich):
    client = personas.client("member")
    body = client.get(url(f"/cards/{rich.pk}?include=links,comments&include=checklist")).json()
    assert list(body["included"]) == ["comments", "checklist", "links"]
    assert [c["body"] for c in body["included"]["comments"]["results"]] == ["First, *with* Markdown", "Third"]
    assert body["included"]["comments"]["results"][0]["minutes"] == 30
    assert body["included"]["comments"]["results"][0]["author"]["avatar"]
    assert [i["done"] for i in body["included"]["checklist"]["results"]] == [True, False]
    everything = client.get(url(f"/cards/{rich.pk}?include={','.join(NAMES)}")).json()
    assert list(everything["included"]) == list(NAMES)
    attachments = everything["included"]["attachments"]["results"]
    assert [(a["is_image"], a["thumbnail_url"] is not None) for a in attachments] == [(True, True), (False, False)]


def test_unknown_include_is_a_400_naming_it(personas, rich):
    response = personas.client("viewer").get(url(f"/cards/{rich.pk}?include=comments,nope,Events"))
    assert response.status_code == 400
    body = response.json()
    assert "'nope'" in body["error"] and "'Events'" in body["error"]
    assert body["details"][0]["field"] == "include"
    assert personas.client("viewer").get(url(f"/cards/{rich.pk}?include=")).json().get("included") is None


def test_roles_as_the_detail(personas, rich):
    expected = {"anonymous": 401, "outsider": 404, "viewer": 200, "member": 200, "admin": 200, "owner": 200}
    assert personas.matrix("get", url(f"/cards/{rich.key}?include={','.join(NAMES)}")) == expected
    assert personas.matrix("get", url(f"/cards/{rich.key}?include=nope")) == {
        **expected,
        **dict.fromkeys(("viewer", "member", "admin", "owner"), 400),
    }
    assert personas.client("member").get(url("/cards/999999?include=comments")).status_code == 404


def test_api_key_needs_tickets_read(personas, rich):
    def client_with(scopes: list[str]) -> APIClient:
        raw = f"punt_{'y' * 40}{len(scopes)}{'-'.join(scopes)}"
        ApiKey.objects.create(
            user=personas.viewer, name="ci", prefix=raw[:10], hashed_key=hash_api_key(raw), scopes=scopes
        )
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=raw)
        return client

    path = url(f"/cards/{rich.key}?include=comments,attachments")
    response = client_with(["chat:write"]).get(path)
    assert response.status_code == 403
    assert response.json() == {"error": "This API key lacks the 'tickets:read' scope."}
    reader = client_with(["tickets:read"])
    body = reader.get(path).json()
    assert body["included"]["comments"] == reader.get(url(f"/cards/{rich.key}/comments")).json()
    assert body["included"]["attachments"]["results"] == reader.get(url(f"/cards/{rich.key}/attachments")).json()


def test_a_second_page_links_to_the_comments_endpoint(personas, make_card):
    ticket = make_card()
    Event.objects.bulk_create(
        Event(ticket=ticket, kind=Event.Kind.COMMENT, author=personas.member, text=f"c{i}", html=f"<p>c{i}</p>")
        for i in range(detail.PAGE + 5)
    )
    client = personas.client("viewer")
    response = client.get(url(f"/cards/{ticket.key}?include=comments,events"))
    comments = response.json()["included"]["comments"]
    own = client.get(url(f"/cards/{ticket.key}/comments"))
    assert _rendered(response, comments) == own.content
    assert comments["count"] == detail.PAGE + 5 and len(comments["results"]) == detail.PAGE
    assert comments["next"] == own.json()["next"] and comments["next"].endswith("?limit=100&offset=100")
    assert client.get(comments["next"]).json()["results"][-1]["body"] == f"c{detail.PAGE + 4}"
    events = response.json()["included"]["events"]
    assert _rendered(response, events) == client.get(url(f"/cards/{ticket.key}/events")).content
    assert api.EventPagination.default_limit == detail.PAGE


@pytest.mark.parametrize("comments", [1, 60])
def test_query_count_does_not_grow_with_comments(personas, make_card, django_assert_max_num_queries, comments):
    ticket = make_card()
    services.checklist_item_add(ticket=ticket, by=personas.member, text="one")
    Event.objects.bulk_create(
        Event(ticket=ticket, kind=Event.Kind.COMMENT, author=personas.member, text=f"c{i}", html=f"<p>c{i}</p>")
        for i in range(comments)
    )
    client = personas.client("viewer")
    client.get(url(f"/cards/{ticket.key}"))  # warm the session and the project lookup caches alike
    # 13: the card's custom field values are one statement of their own (issue 21).
    with django_assert_max_num_queries(13):
        response = client.get(url(f"/cards/{ticket.key}?include={','.join(NAMES)}"))
    assert len(response.json()["included"]["comments"]["results"]) == comments


def test_detail_and_comments_use_few_queries(personas, make_card, django_assert_max_num_queries):
    ticket = make_card()
    for i in range(60):
        Event.objects.create(ticket=ticket, kind=Event.Kind.COMMENT, author=personas.member, text=f"c{i}")
    client = personas.client("viewer")
    client.get(url(f"/cards/{ticket.key}"))
    with django_assert_max_num_queries(9):  # 9: with the custom field values' statement (issue 21)
        client.get(url(f"/cards/{ticket.key}?include=comments"))
