"""Issue 18 item 3, "edit in place": per-field saves, the Markdown preview, @/# suggestions,
close/reopen with Undo, delete + restore (Undo), and the full new-ticket form in the modal."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Membership
from tests.conftest import Personas
from tests.factories import LabelFactory, MembershipFactory, SprintFactory, TicketFactory, UserFactory
from tests.web.conftest import page_client, page_matrix
from tickets import services as ticket_services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"
PICKER = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "ticket-fields"}
MODAL = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "modal-body"}


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return ticket_services.ticket_create(
        project=personas.project, by=personas.owner, title="Broken feed", body="The feed", priority="medium"
    )


def queries(call) -> int:
    with CaptureQueriesContext(connection) as ctx:
        call()
    return len(ctx.captured_queries)


# --------------------------------------------------------------------------- one field at a time


def test_a_picker_changes_only_its_field_and_redraws_the_fields(personas: Personas, ticket: Ticket):
    label = LabelFactory(project=personas.project, name="backend")
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, labels=[label.pk], estimate=3)
    client = page_client(personas, "member")
    response = client.post(f"{BASE}/tickets/{ticket.number}/edit", {"priority": "urgent"}, **PICKER)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="ticket-fields"' in html and 'id="ticket-head"' in html and "<html" not in html
    ticket.refresh_from_db()
    # Only the priority changed: title, body, labels and estimate stay as they were.
    assert (ticket.priority, ticket.title, ticket.body, ticket.estimate) == ("urgent", "Broken feed", "The feed", 3)
    assert list(ticket.labels.values_list("name", flat=True)) == ["backend"]


def test_pickers_for_assignee_labels_sprint_due_and_points(personas: Personas, ticket: Ticket):
    labels = [LabelFactory(project=personas.project, name=n) for n in ("api", "ui")]
    sprint = SprintFactory(project=personas.project, name="Sprint 7")
    client = page_client(personas, "member")
    url = f"{BASE}/tickets/{ticket.number}/edit"
    assert client.post(url, {"assignee": "mary"}, **PICKER).status_code == 200
    assert client.post(url, {"labels-sent": "1", "labels": [labels[0].pk, labels[1].pk]}, **PICKER).status_code == 200
    assert client.post(url, {"sprint": sprint.pk}, **PICKER).status_code == 200
    assert client.post(url, {"due_date": "2027-01-31"}, **PICKER).status_code == 200
    assert client.post(url, {"estimate": "8"}, **PICKER).status_code == 200
    parent = TicketFactory(project=personas.project, title="Epic")
    assert client.post(url, {"parent": parent.number}, **PICKER).status_code == 200
    ticket.refresh_from_db()
    assert ticket.assignee == personas.member
    assert sorted(ticket.labels.values_list("name", flat=True)) == ["api", "ui"]
    assert ticket.sprint == sprint and str(ticket.due_date) == "2027-01-31" and ticket.estimate == 8
    assert ticket.parent == parent
    # Unticking every label sends none: `labels-sent` says the picker was there.
    assert client.post(url, {"labels-sent": "1"}, **PICKER).status_code == 200
    assert client.post(url, {"assignee": "", "estimate": "", "due_date": "", "parent": ""}, **PICKER).status_code == 200
    ticket.refresh_from_db()
    assert ticket.labels.count() == 0
    assert (ticket.assignee, ticket.estimate, ticket.due_date, ticket.parent) == (None, None, None, None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"estimate": "-1", "priority": "high"}, "Estimate (points): Ensure this value is greater than or equal to 0."),
        ({"assignee": "oscar", "priority": "high"}, "Assignee: Select a valid choice."),
        ({"priority": "meh"}, "Priority: Select a valid choice."),
        ({"due_date": "31/31/2027", "priority": "high"}, "Due date: Enter a valid date."),
        ({"title": "  ", "priority": "high"}, "Title: This field is required."),
        ({}, "Nothing to change"),
    ],
)
def test_bad_input_is_a_400_toast_and_nothing_is_half_written(personas: Personas, ticket: Ticket, data, message):
    response = page_client(personas, "member").post(f"{BASE}/tickets/{ticket.number}/edit", data, **PICKER)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)
    ticket.refresh_from_db()
    assert ticket.priority == "medium" and ticket.title == "Broken feed"


def test_a_service_refusal_is_a_400_too(personas: Personas, ticket: Ticket):
    other = TicketFactory(project=personas.project, title="Child")
    ticket_services.ticket_update(ticket=other, by=personas.owner, parent=ticket.pk)
    # A ticket cannot be its own child's child: the service refuses, the priority sent with it is not saved.
    response = page_client(personas, "member").post(
        f"{BASE}/tickets/{ticket.number}/edit", {"parent": other.number, "priority": "low"}, **PICKER
    )
    assert response.status_code == 400
    assert "parent" in response.json()["error"].lower()
    ticket.refresh_from_db()
    assert ticket.priority == "medium" and ticket.parent is None


def test_partial_edit_role_matrix(personas: Personas, ticket: Ticket):
    url = f"{BASE}/tickets/{ticket.number}/edit"
    assert page_matrix(personas, "post", url, {"priority": "low"}) == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 403,
        "member": 302,
        "admin": 302,
        "owner": 302,
    }
    assert page_matrix(personas, "post", url, {"priority": "high"}, **PICKER)["viewer"] == 403


def test_title_and_description_in_place_keep_the_other_fields(personas: Personas, ticket: Ticket):
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, assignee="mary", priority="high")
    response = page_client(personas, "member").post(
        f"{BASE}/tickets/{ticket.number}/edit", {"title": "Empty feed", "body": "Now **bold**"}, **MODAL
    )
    assert response.status_code == 200
    assert "<strong>bold</strong>" in response.content.decode()
    ticket.refresh_from_db()
    assert (ticket.title, ticket.assignee, ticket.priority) == ("Empty feed", personas.member, "high")


def test_plain_edit_form_without_script_still_works(personas: Personas, ticket: Ticket):
    client = page_client(personas, "member")
    page = client.get(f"{BASE}/tickets/{ticket.number}?edit=1").content.decode()
    form = page.split('id="ticket-edit"')[1].split(">")[0]
    assert "hidden" not in form
    response = client.post(f"{BASE}/tickets/{ticket.number}/edit", {"title": "No JS", "body": "x"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.title == "No JS"


def test_viewer_sees_no_pickers(personas: Personas, ticket: Ticket):
    html = page_client(personas, "viewer").get(f"{BASE}/tickets/{ticket.number}").content.decode()
    assert "data-field-form" not in html and "data-inplace" not in html and "Close ticket" not in html
    member = page_client(personas, "member").get(f"{BASE}/tickets/{ticket.number}").content.decode()
    assert member.count("data-field-form") == 8 and 'data-inplace="edit-title"' in member


def test_picker_query_count_does_not_grow(personas: Personas, ticket: Ticket):
    client = page_client(personas, "member")
    url = f"{BASE}/tickets/{ticket.number}/edit"
    flip = iter(["high", "low"] * 2)
    few = queries(lambda: client.post(url, {"priority": next(flip)}, **PICKER))
    for i in range(4):
        label = LabelFactory(project=personas.project)
        ticket.labels.add(label)
        MembershipFactory(project=personas.project, user=UserFactory(username=f"extra{i}"))
        SprintFactory(project=personas.project)
        ticket_services.comment_create(ticket=ticket, by=personas.member, body=f"note {i}")
    many = queries(lambda: client.post(url, {"priority": next(flip)}, **PICKER))
    assert many == few


# --------------------------------------------------------------------------- preview


def test_preview_renders_like_a_saved_description(personas: Personas, ticket: Ticket):
    client = page_client(personas, "member")
    text = f"**bold** <script>alert(1)</script> see #{ticket.number} and @mary"
    response = client.post(f"{BASE}/markdown-preview", {"text": text})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<strong>bold</strong>" in html and "<script>" not in html
    assert f'href="/projects/olivia/blog/tickets/{ticket.number}"' in html
    assert html == ticket_services.render_markdown(project=personas.project, by=personas.member, text=text)
    assert "Nothing to preview" in client.post(f"{BASE}/markdown-preview", {"text": ""}).content.decode()
    too_long = client.post(f"{BASE}/markdown-preview", {"text": "x" * 100_001})
    assert too_long.status_code == 400 and "at most" in too_long.json()["error"]


def test_preview_role_matrix_and_queries(personas: Personas, ticket: Ticket):
    assert page_matrix(personas, "post", f"{BASE}/markdown-preview", {"text": "hi"}) == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }
    client = page_client(personas, "member")
    one = queries(lambda: client.post(f"{BASE}/markdown-preview", {"text": "#1"}))
    many = queries(lambda: client.post(f"{BASE}/markdown-preview", {"text": " ".join(f"#{n}" for n in range(40))}))
    assert many == one


# --------------------------------------------------------------------------- @ and # suggestions


def test_people_suggestions_are_project_members(personas: Personas):
    client = page_client(personas, "member")
    items = client.get(f"{BASE}/autocomplete", {"kind": "people", "q": "ma"}).json()["items"]
    assert items == [{"value": "@mary", "label": "mary", "detail": personas.member.name}]
    # The outsider is not a member: never suggested.
    assert client.get(f"{BASE}/autocomplete", {"kind": "people", "q": "osc"}).json()["items"] == []
    everyone = client.get(f"{BASE}/autocomplete", {"kind": "people", "q": ""}).json()["items"]
    assert [i["label"] for i in everyone] == ["adam", "mary", "olivia", "victor"]


def test_ticket_suggestions_by_number_key_or_title(personas: Personas, ticket: Ticket):
    other = TicketFactory(project=personas.project, title="Logging is noisy")
    gone = TicketFactory(project=personas.project, title="Logging removed")
    ticket_services.ticket_delete(ticket=gone, by=personas.owner)
    client = page_client(personas, "member")

    def labels(q: str) -> list[str]:
        return [i["value"] for i in client.get(f"{BASE}/autocomplete", {"kind": "tickets", "q": q}).json()["items"]]

    assert labels(str(ticket.number)) == [f"BLOG-{ticket.number}"]
    assert labels(f"blog-{other.number}") == [f"BLOG-{other.number}"]
    assert labels("log") == [f"BLOG-{other.number}"]
    item = client.get(f"{BASE}/autocomplete", {"kind": "tickets", "q": "feed"}).json()["items"][0]
    assert item == {"value": f"BLOG-{ticket.number}", "label": f"BLOG-{ticket.number}", "detail": "Broken feed"}
    assert client.get(f"{BASE}/autocomplete", {"kind": "files"}).status_code == 400


def test_suggestions_role_matrix_and_fixed_queries(personas: Personas, ticket: Ticket):
    row = page_matrix(personas, "get", f"{BASE}/autocomplete", {"kind": "people", "q": "a"})
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 200, "member": 200, "admin": 200, "owner": 200}
    client = page_client(personas, "member")

    def both() -> None:
        client.get(f"{BASE}/autocomplete", {"kind": "people", "q": "e"})
        client.get(f"{BASE}/autocomplete", {"kind": "tickets", "q": "e"})

    few = queries(both)
    for i in range(12):
        MembershipFactory(project=personas.project, user=UserFactory(username=f"eve{i}"), role=Membership.Role.MEMBER)
        TicketFactory(project=personas.project, title=f"Entry {i}")
    assert queries(both) == few
    assert len(client.get(f"{BASE}/autocomplete", {"kind": "people", "q": "eve"}).json()["items"]) == 8


# --------------------------------------------------------------------------- close / reopen with Undo


def test_close_offers_undo_and_undo_reopens(personas: Personas, ticket: Ticket):
    client = page_client(personas, "member")
    url = f"{BASE}/tickets/{ticket.number}/close"
    response = client.post(url, **MODAL)
    assert response.status_code == 200
    undo = json.loads(response["HX-Trigger"])["punt:undo"]
    assert undo == {"text": f"BLOG-{ticket.number} closed.", "url": url, "data": {"reopen": "1"}}
    ticket.refresh_from_db()
    assert ticket.state == "closed"
    # The Undo button posts the same URL with the data it was given.
    again = client.post(url, undo["data"], HTTP_ACCEPT="application/json")
    assert again.status_code == 200 and again.json()["state"] == "opened"
    ticket.refresh_from_db()
    assert ticket.state == "opened"


def test_close_role_matrix(personas: Personas, ticket: Ticket):
    def reopen() -> None:
        fresh = Ticket.objects.get(pk=ticket.pk)
        ticket_services.ticket_reopen(ticket=fresh, by=personas.owner)

    row = {}
    for role in ("anonymous", "outsider", "viewer", "member", "admin", "owner"):
        reopen()
        row[role] = page_client(personas, role).post(f"{BASE}/tickets/{ticket.number}/close").status_code
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 302, "admin": 302, "owner": 302}


# --------------------------------------------------------------------------- delete, then Undo


def test_delete_in_the_modal_gives_a_restore_url_and_restore_brings_it_back(personas: Personas, ticket: Ticket):
    client = page_client(personas, "member")
    response = client.post(f"{BASE}/tickets/{ticket.number}/delete", **MODAL)
    assert response.status_code == 204
    deleted = json.loads(response["HX-Trigger"])["punt:deleted"]
    restore = f"{BASE}/tickets/{ticket.number}/restore"
    assert deleted == {"text": f"BLOG-{ticket.number} was deleted.", "restore": restore, "board": f"{BASE}/"}
    ticket.refresh_from_db()
    assert ticket.deleted_at is not None
    back = client.post(restore, HTTP_ACCEPT="application/json")
    assert back.status_code == 200
    assert back.json() == {"ok": True, "key": f"BLOG-{ticket.number}", "url": f"{BASE}/tickets/{ticket.number}"}
    ticket.refresh_from_db()
    assert ticket.deleted_at is None
    # Restoring a live ticket is a clear 400; an unknown one a 404.
    again = client.post(restore, HTTP_ACCEPT="application/json")
    assert again.status_code == 400 and again.json()["error"] == "This ticket is not deleted."
    assert client.post(f"{BASE}/tickets/999/restore").status_code == 404


def test_restore_is_for_admins_or_whoever_deleted_it(personas: Personas, ticket: Ticket):
    other_member = MembershipFactory(project=personas.project, user=UserFactory(username="moe")).user

    def delete_as_mary(role: str) -> str:
        fresh = Ticket.objects.get(pk=ticket.pk)
        if fresh.deleted_at is None:
            ticket_services.ticket_delete(ticket=fresh, by=personas.member)
        return f"{BASE}/tickets/{ticket.number}/restore"

    row = {}
    for role in ("anonymous", "outsider", "viewer", "admin", "owner", "member"):
        row[role] = page_client(personas, role).post(delete_as_mary(role)).status_code
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "admin": 302, "owner": 302, "member": 302}
    delete_as_mary("member")
    client = page_client(personas, "member")
    client.force_login(other_member)
    assert client.post(f"{BASE}/tickets/{ticket.number}/restore").status_code == 403
    assert Ticket.objects.get(pk=ticket.pk).deleted_at is not None


def test_plain_delete_still_redirects(personas: Personas, ticket: Ticket):
    response = page_client(personas, "member").post(f"{BASE}/tickets/{ticket.number}/delete")
    assert response.status_code == 302 and response["Location"] == f"{BASE}/"


# --------------------------------------------------------------------------- the full new-ticket form


def test_new_ticket_form_in_the_modal(personas: Personas):
    label = LabelFactory(project=personas.project, name="api")
    sprint = SprintFactory(project=personas.project, name="Sprint 3")
    column = personas.project.columns.order_by("order")[1]
    client = page_client(personas, "member")
    form = client.get(f"{BASE}/tickets/new", **MODAL)
    assert form.status_code == 200
    html = form.content.decode()
    assert "<html" not in html and "data-new-ticket" in html
    for name in ("title", "body", "type", "priority", "assignee", "labels", "sprint", "due_date", "estimate", "column"):
        assert f'name="{name}"' in html
    assert "data-markdown" in html and "Preview" in html and "autofocus" in html
    data = {
        "title": "Full form",
        "body": "Details @mary",
        "type": "bug",
        "priority": "urgent",
        "assignee": "mary",
        "labels": [label.pk],
        "sprint": sprint.pk,
        "due_date": "2027-02-01",
        "estimate": "5",
        "column": column.pk,
    }
    created = client.post(f"{BASE}/tickets/new", data, **MODAL)
    assert created.status_code == 204
    ticket = Ticket.objects.get(title="Full form")
    trigger = json.loads(created["HX-Trigger"])["punt:created"]
    assert trigger == {"text": f"{ticket.key} created.", "url": f"{BASE}/tickets/{ticket.number}"}
    assert (ticket.type, ticket.priority, ticket.assignee, ticket.column) == ("bug", "urgent", personas.member, column)
    assert list(ticket.labels.all()) == [label] and ticket.sprint == sprint and ticket.estimate == 5


def test_new_ticket_errors_come_back_in_the_modal_and_nothing_is_created(personas: Personas):
    client = page_client(personas, "member")
    before = Ticket.objects.count()
    response = client.post(f"{BASE}/tickets/new", {"title": "", "type": "task", "priority": "low"}, **MODAL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "errorlist" in html and "<html" not in html
    bad_estimate = {"title": "x", "type": "task", "priority": "low", "estimate": "-3"}
    bad = client.post(f"{BASE}/tickets/new", bad_estimate, **MODAL)
    assert "errorlist" in bad.content.decode()
    assert Ticket.objects.count() == before


def test_new_ticket_form_roles_and_queries(personas: Personas):
    row = page_matrix(personas, "get", f"{BASE}/tickets/new", **MODAL)
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 200, "admin": 200, "owner": 200}
    client = page_client(personas, "member")
    few = queries(lambda: client.get(f"{BASE}/tickets/new", **MODAL))
    for i in range(5):
        LabelFactory(project=personas.project)
        SprintFactory(project=personas.project)
        MembershipFactory(project=personas.project, user=UserFactory(username=f"new{i}"))
    assert queries(lambda: client.get(f"{BASE}/tickets/new", **MODAL)) == few


def test_board_c_shortcut_opens_the_full_form(personas: Personas):
    html = page_client(personas, "member").get(f"{BASE}/").content.decode()
    link = html.split("data-shortcut-new")[0].rsplit("<a", 1)[1]
    assert f'hx-get="{BASE}/tickets/new"' in link and 'hx-target="#modal-body"' in link
    # Not the filter form's outerHTML swap, which would replace the modal's body element itself.
    assert 'hx-swap="innerHTML"' in link
    assert html.count("data-shortcut-new") == 1
