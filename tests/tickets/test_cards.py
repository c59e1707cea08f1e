from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiKey, hash_api_key
from projects.models import Column, Project
from tests.factories import LabelFactory, ProjectFactory, SprintFactory, UserFactory
from tests.tickets.helpers import events_named, url
from tickets.models import Event, Ticket, Watcher

pytestmark = pytest.mark.django_db


def test_create_card_returns_the_whole_card(personas, columns, published):
    todo = columns[0]
    bug = LabelFactory(project=personas.project, name="bug", color="#EF4444")
    sprint = SprintFactory(project=personas.project, name="Sprint 1")
    response = personas.client("member").post(
        url(f"/columns/{todo.pk}/cards"),
        {
            "title": "  Fix the   login page ",
            "body": "It **breaks**.",
            "type": "bug",
            "priority": "high",
            "assignee": "adam",
            "labels": ["BUG"],
            "sprint_id": sprint.pk,
            "due_date": "2026-12-01",
            "estimate": 3,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    ticket = Ticket.objects.get()
    assert body == {
        "id": ticket.pk,
        "key": "BLOG-1",
        "number": 1,
        "title": "Fix the login page",
        "type": "bug",
        "status": "todo",
        "state": "opened",
        "column_id": todo.pk,
        "position": 1024,
        "priority": "high",
        "assignee": {"id": personas.admin.pk, "username": "adam", "name": "Adam", "avatar": None},
        "labels": [{"id": bug.pk, "name": "bug", "color": "#EF4444"}],
        "sprint": {"id": sprint.pk, "name": "Sprint 1"},
        "parent": None,
        "due_date": "2026-12-01",
        "estimate": 3,
        "checklist": {"done": 0, "total": 0},
        "created_at": body["created_at"],
        "updated_at": body["updated_at"],
        "closed_at": None,
        "custom_fields": {},
        "body": "It **breaks**.",
        "body_html": "<p>It <strong>breaks</strong>.</p>",
        "reporter": {"id": personas.member.pk, "username": "mary", "name": "Mary", "avatar": None},
        "subtasks": [],
        "watchers": [
            {"id": personas.admin.pk, "username": "adam", "name": "Adam", "avatar": None},
            {"id": personas.member.pk, "username": "mary", "name": "Mary", "avatar": None},
        ],
        "counts": {"comments": 0, "attachments": 0, "links": 0, "subtasks": 0, "watchers": 2},
        "watching": True,
    }
    assert [(e.kind, e.text) for e in ticket.events.all()] == [("action", "create"), ("action", "assign")]
    created = events_named(published, "board.card_created")
    assert len(created) == 1
    assert created[0]["project_id"] == personas.project.pk
    assert created[0]["payload"]["key"] == "BLOG-1"
    assigned = events_named(published, "notification.assigned")
    assert [call["user_ids"] for call in assigned] == [[personas.admin.pk]]


def test_numbers_are_sequential_and_keys_resolve_case_insensitively(personas, make_card):
    first, second = make_card("one"), make_card("two")
    assert (first.number, second.number, second.key) == (1, 2, "BLOG-2")
    client = personas.client("viewer")
    assert client.get(url("/cards/blog-2")).json()["id"] == second.pk
    assert client.get(url(f"/cards/{first.pk}")).json()["key"] == "BLOG-1"
    assert client.get(url("/cards/OTHER-2")).status_code == 404
    assert client.get(url("/cards/BLOG-99")).status_code == 404


def test_a_card_of_another_project_is_not_found_by_id(personas):
    other = ProjectFactory(key="OTHER")
    from tests.factories import TicketFactory

    foreign = TicketFactory(project=other)
    response = personas.client("owner").get(url(f"/cards/{foreign.pk}"))
    assert response.status_code == 404
    assert response.json() == {"error": "Card not found."}


def test_role_matrix_for_card_endpoints(personas, columns, make_card):
    card = make_card("target")
    todo = columns[0]
    assert personas.matrix("get", url("/cards")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    assert personas.matrix("get", url(f"/columns/{todo.pk}/cards")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    assert personas.matrix("post", url(f"/columns/{todo.pk}/cards"), {"title": "x"}) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 201,
        "admin": 201,
        "owner": 201,
    }
    assert personas.matrix("get", url(f"/cards/{card.pk}")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    for method in ("put", "patch"):
        assert personas.matrix(method, url(f"/cards/{card.pk}"), {"title": f"renamed by {method}"}) == {
            "anonymous": 401,
            "outsider": 404,
            "viewer": 403,
            "member": 200,
            "admin": 200,
            "owner": 200,
        }

    cards: dict[str, Ticket] = {}

    def fresh() -> None:
        cards["current"] = make_card("to delete")

    assert personas.matrix("delete", lambda role: url(f"/cards/{cards['current'].pk}"), fresh=fresh) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 204,
        "admin": 204,
        "owner": 204,
    }


def test_api_key_needs_the_tickets_scope(personas, columns, make_card):
    make_card()

    def client_with(scopes: list[str]) -> APIClient:
        raw = f"punt_{'x' * 40}{len(scopes)}{'-'.join(scopes)}"
        ApiKey.objects.create(
            user=personas.member, name="ci", prefix=raw[:10], hashed_key=hash_api_key(raw), scopes=scopes
        )
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=raw)
        return client

    chat_only = client_with(["chat:write"])
    response = chat_only.get(url("/cards"))
    assert response.status_code == 403
    assert response.json() == {"error": "This API key lacks the 'tickets:read' scope."}

    read_only = client_with(["tickets:read"])
    assert read_only.get(url("/cards")).status_code == 200
    assert read_only.post(url(f"/columns/{columns[0].pk}/cards"), {"title": "x"}, format="json").status_code == 403

    writer = client_with(["tickets:write"])
    assert writer.post(url(f"/columns/{columns[0].pk}/cards"), {"title": "x"}, format="json").status_code == 201


def test_archived_project_reads_but_refuses_writes(personas, columns, make_card):
    # Was a 404 for the cards of an archived project while the project itself answered 200;
    # now the one rule (projects.selectors.project_for): members read, writes are a 409.
    make_card()
    Project.objects.filter(pk=personas.project.pk).update(archived_at=timezone.now())
    owner = personas.client("owner")
    assert owner.get(url("/cards")).status_code == 200
    response = owner.post(url(f"/columns/{columns[0].pk}/cards"), {"title": "x"}, format="json")
    assert response.status_code == 409
    assert response.json() == {"error": "This project is archived and read-only; its owner can restore it."}
    assert personas.client("outsider").get(url("/cards")).status_code == 404


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"title": "x", "assignee": "nobody"}, "assignee", "Unknown user 'nobody'."),
        ({"title": "x", "assignee": "oscar"}, "assignee", "'oscar' is not a member of this project."),
        ({"title": "x", "labels": ["bug", "nope"]}, "labels", "Unknown label: nope."),
        ({"title": "x", "sprint_id": 999999}, "sprint_id", "Unknown sprint '999999'."),
        ({"title": "x", "parent": "BLOG-77"}, "parent", "Unknown parent ticket 'BLOG-77' in this project."),
        ({"title": ""}, "title", "This field may not be blank."),
        ({"title": "x" * 501}, "title", "Ensure this field has no more than 500 characters."),
        ({"title": "x", "priority": "whenever"}, "priority", '"whenever" is not a valid choice.'),
    ],
)
def test_bad_create_payload_is_a_400_naming_the_field_and_writes_nothing(personas, columns, payload, field, message):
    LabelFactory(project=personas.project, name="bug")
    UserFactory(username="oscar")
    response = personas.client("member").post(url(f"/columns/{columns[0].pk}/cards"), payload, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "Validation failed", "details": [{"field": field, "message": message}]}
    assert Ticket.objects.count() == 0
    assert Event.objects.count() == 0
    personas.project.refresh_from_db()
    assert personas.project.ticket_counter == 0


def test_bad_update_leaves_nothing_half_written(personas, make_card):
    card = make_card("original", labels=[])
    LabelFactory(project=personas.project, name="bug")
    response = personas.client("member").put(
        url(f"/cards/{card.pk}"),
        {"title": "changed", "labels": ["bug"], "assignee": "adam", "sprint_id": 424242},
        format="json",
    )
    assert response.status_code == 400
    card.refresh_from_db()
    assert card.title == "original"
    assert card.assignee_id is None
    assert list(card.labels.all()) == []
    assert list(card.events.values_list("text", flat=True)) == ["create"]


def test_update_writes_one_update_event_with_old_and_new(personas, make_card, published):
    card = make_card("old title", body="old body")
    response = personas.client("admin").patch(
        url(f"/cards/{card.key}"), {"title": "new title", "body": "new body", "priority": "medium"}, format="json"
    )
    assert response.status_code == 200
    update = card.events.get(kind="update")
    assert update.data == {
        "old": {"title": "old title", "body": "old body"},
        "new": {"title": "new title", "body": "new body"},
    }
    assert update.author == personas.admin
    assert len(events_named(published, "board.card_updated")) == 1
    # mary (reporter) watches and did not make the change
    notified = events_named(published, "notification.ticket")
    assert [call["user_ids"] for call in notified] == [[personas.member.pk]]


def test_assign_and_unassign_write_actions_and_watch(personas, make_card, published):
    card = make_card()
    client = personas.client("member")
    assert (
        client.patch(url(f"/cards/{card.pk}"), {"assignee": str(personas.admin.pk)}, format="json").status_code == 200
    )
    assert client.patch(url(f"/cards/{card.pk}"), {"assignee": None}, format="json").status_code == 200
    assert list(card.events.filter(kind="action").values_list("text", flat=True)) == ["create", "assign", "unassign"]
    assert Watcher.objects.filter(ticket=card, user=personas.admin).exists()
    assert [c["user_ids"] for c in events_named(published, "notification.assigned")] == [[personas.admin.pk]]


def test_setting_status_moves_to_first_column_of_that_category_and_closes(personas, columns, make_card):
    card = make_card()
    client = personas.client("member")
    response = client.patch(url(f"/cards/{card.pk}"), {"status": "done"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["state"], body["column_id"]) == ("done", "closed", columns[2].pk)
    assert body["closed_at"] is not None
    card.refresh_from_db()
    assert card.closed_by == personas.member
    assert list(card.events.filter(kind="action").values_list("text", flat=True)) == ["create", "move", "close"]

    response = client.patch(url(f"/cards/{card.pk}"), {"status": "in_review"}, format="json")
    body = response.json()
    review = Column.objects.get(project=personas.project, category="in_review")
    assert (body["status"], body["state"], body["column_id"], body["closed_at"]) == (
        "in_review",
        "opened",
        review.pk,
        None,
    )
    card.refresh_from_db()
    assert card.closed_by is None


def test_create_in_a_done_column_is_closed(personas, columns, make_card):
    card = make_card(column=columns[2])
    assert (card.state, card.closed_by) == ("closed", personas.member)


def test_subtasks_parent_in_same_project_and_no_cycles(personas, make_card):
    epic = make_card("epic")
    story = make_card("story", parent=epic.key)
    task = make_card("task", parent=str(story.pk))
    client = personas.client("member")

    response = client.patch(url(f"/cards/{epic.pk}"), {"parent": task.key}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"field": "parent", "message": "BLOG-3 cannot be the parent of BLOG-1: that makes a cycle."}
    ]
    response = client.patch(url(f"/cards/{epic.pk}"), {"parent": epic.key}, format="json")
    assert response.status_code == 400

    other = ProjectFactory(key="OTHER")
    from tests.factories import TicketFactory

    foreign = TicketFactory(project=other)
    response = client.patch(url(f"/cards/{task.pk}"), {"parent": str(foreign.pk)}, format="json")
    assert response.status_code == 400

    detail = client.get(url(f"/cards/{epic.pk}")).json()
    assert detail["subtasks"] == [
        {"id": story.pk, "key": "BLOG-2", "title": "story", "status": "todo", "state": "opened"}
    ]
    assert client.get(url(f"/cards/{task.pk}")).json()["parent"] == {"id": story.pk, "key": "BLOG-2", "title": "story"}
    assert client.patch(url(f"/cards/{task.pk}"), {"parent": None}, format="json").json()["parent"] is None


def test_markdown_body_is_sanitized_and_links_ticket_references(personas, make_card):
    target = make_card("target")
    response = personas.client("member").post(
        url(f"/columns/{personas.project.columns.first().pk}/cards"),
        {
            "title": "xss",
            "body": (
                "<script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)>"
                f" see #{target.number} and BLOG-{target.number}, not `BLOG-1` or #99"
            ),
        },
        format="json",
    )
    html = response.json()["body_html"]
    assert "<script" not in html and "alert(1)" not in html
    assert "javascript:" not in html and "onerror" not in html
    link = '<a href="/projects/olivia/blog/tickets/1" rel="noopener noreferrer nofollow">'
    assert f"{link}#1</a>" in html
    assert f"{link}BLOG-1</a>" in html
    assert "<code>BLOG-1</code>" in html
    assert "#99" in html and "tickets/99" not in html


def test_soft_delete_then_admins_list_and_restore(personas, make_card, published):
    card = make_card("gone")
    client = personas.client("member")
    assert client.delete(url(f"/cards/{card.pk}")).status_code == 204
    assert client.get(url(f"/cards/{card.pk}")).status_code == 404
    assert client.get(url("/cards")).json()["count"] == 0
    card.refresh_from_db()
    assert (card.deleted_by, card.deleted_at is not None) == (personas.member, True)
    deleted = events_named(published, "board.card_deleted")
    assert deleted[0]["payload"] == {"id": card.pk, "key": "BLOG-1", "column_id": card.column_id}

    assert personas.matrix("get", url("/cards/deleted")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }
    listing = personas.client("admin").get(url("/cards/deleted")).json()
    assert [(c["key"], c["deleted_by"]["username"]) for c in listing["results"]] == [("BLOG-1", "mary")]

    def fresh() -> None:
        Ticket.objects.filter(pk=card.pk).update(deleted_at=timezone.now())

    # The member deleted it, so the member may restore it (Undo); admins restore any card.
    assert personas.matrix("post", url(f"/cards/{card.pk}/restore"), fresh=fresh) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    Ticket.objects.filter(pk=card.pk).update(deleted_at=timezone.now(), deleted_by=personas.admin)
    refused = client.post(url(f"/cards/{card.pk}/restore"))
    assert refused.status_code == 403
    assert refused.json()["error"] == "Only a project admin or whoever deleted it can restore this ticket."
    assert personas.client("admin").post(url(f"/cards/{card.pk}/restore")).status_code == 200
    assert client.get(url(f"/cards/{card.pk}")).status_code == 200
    assert personas.client("admin").post(url(f"/cards/{card.pk}/restore")).status_code == 404


def test_detail_query_count_does_not_grow(personas, make_card, django_assert_max_num_queries):
    from tests.factories import UserFactory as Users

    card = make_card("parent")
    client = personas.client("member")

    def grow(n: int) -> None:
        for i in range(n):
            label = LabelFactory(project=personas.project)
            card.labels.add(label)
            make_card(f"sub {i}", parent=card.pk)
            services_comment(card, i)
            Watcher.objects.get_or_create(ticket=card, user=Users())

    def services_comment(ticket: Ticket, i: int) -> None:
        from tickets.services import checklist_item_add, comment_create

        comment_create(ticket=ticket, by=personas.member, body=f"comment {i}")
        checklist_item_add(ticket=ticket, by=personas.member, text=f"item {i}")

    grow(2)
    with django_assert_max_num_queries(9) as small:
        assert client.get(url(f"/cards/{card.pk}")).status_code == 200
    grow(10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = client.get(url(f"/cards/{card.pk}")).json()
    assert body["counts"]["subtasks"] == 12
    assert body["checklist"] == {"done": 0, "total": 12}
    assert len(body["labels"]) == 12


def test_events_reach_the_project_group_on_commit_with_the_tab_id(
    personas, columns, django_capture_on_commit_callbacks
):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"project.{personas.project.pk}", channel)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = personas.client("member").post(
                url(f"/columns/{columns[0].pk}/cards"), {"title": "live"}, format="json", HTTP_X_TAB_ID="tab-7"
            )
        assert response.status_code == 201
        message = async_to_sync(layer.receive)(channel)
        assert (message["type"], message["event"], message["tab_id"], message["actor_id"]) == (
            "punt.event",
            "board.card_created",
            "tab-7",
            personas.member.pk,
        )
        assert message["payload"]["key"] == "BLOG-1"
        assert message["payload"]["column_id"] == columns[0].pk
    finally:
        async_to_sync(layer.group_discard)(f"project.{personas.project.pk}", channel)


def test_an_update_that_changes_nothing_writes_nothing(personas, make_card, published):
    card = make_card("same", priority="high", assignee="adam")
    published.clear()
    response = personas.client("member").put(
        url(f"/cards/{card.pk}"), {"title": "same", "priority": "high", "assignee": "adam"}, format="json"
    )
    assert response.status_code == 200
    assert list(card.events.values_list("text", flat=True)) == ["create", "assign"]
    assert published == []


def test_a_reference_at_the_start_of_a_line_is_not_a_heading(personas, make_card):
    make_card("target")
    card = make_card("source", body="#1 is related\n```\n#1 in code\n```\n# Heading")
    link = '<a href="/projects/olivia/blog/tickets/1" rel="noopener noreferrer nofollow">#1</a>'
    assert card.body_html == f"<p>{link} is related</p>\n<pre><code>#1 in code\n</code></pre>\n<h1>Heading</h1>"


def test_labels_by_id_by_name_and_numeric_names(personas, make_card):
    bug = LabelFactory(project=personas.project, name="bug")
    year = LabelFactory(project=personas.project, name="2024")
    card = make_card()
    response = personas.client("member").patch(
        url(f"/cards/{card.pk}"), {"labels": [bug.pk, "2024", "Bug"]}, format="json"
    )
    assert [label["name"] for label in response.json()["labels"]] == ["2024", "bug"]
    assert {label["id"] for label in response.json()["labels"]} == {bug.pk, year.pk}
    response = personas.client("member").patch(url(f"/cards/{card.pk}"), {"labels": ["99999", "x"]}, format="json")
    assert response.json()["details"] == [{"field": "labels", "message": "Unknown labels: 99999, x."}]
