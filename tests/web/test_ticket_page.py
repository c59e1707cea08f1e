from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from tests.conftest import Personas
from tests.factories import LabelFactory, TicketFactory
from tests.web.conftest import page_client, page_matrix
from tickets import services as ticket_services
from tickets.models import ChecklistItem, Event, Ticket, TimeEntry

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return ticket_services.ticket_create(
        project=personas.project,
        by=personas.owner,
        title="Broken feed",
        body="The **RSS** feed is empty. <script>x</script>",
    )


def test_ticket_page_role_matrix(personas: Personas, ticket: Ticket):
    assert page_matrix(personas, "get", f"{BASE}/tickets/{ticket.number}") == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_unknown_or_deleted_ticket_is_404(personas: Personas, ticket: Ticket):
    client = page_client(personas, "member")
    assert client.get(f"{BASE}/tickets/999").status_code == 404
    ticket_services.ticket_delete(ticket=ticket, by=personas.owner)
    assert client.get(f"{BASE}/tickets/{ticket.number}").status_code == 404


def test_ticket_page_renders_safe_markdown_fields_and_timeline(personas: Personas, ticket: Ticket):
    ticket_services.comment_create(ticket=ticket, by=personas.member, body="Seen it _too_", minutes=30)
    html = page_client(personas, "viewer").get(f"{BASE}/tickets/{ticket.number}").content.decode()
    assert "<strong>RSS</strong>" in html
    assert "<script>x</script>" not in html
    assert "<em>too</em>" in html
    assert "logged 30m" in html
    assert "created the ticket" in html
    # Viewers get no edit controls.
    assert 'id="ticket-edit"' not in html
    assert "Delete ticket" not in html


def test_ticket_as_modal_is_just_the_body(personas: Personas, ticket: Ticket):
    response = page_client(personas, "member").get(
        f"{BASE}/tickets/{ticket.number}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal-body"
    )
    html = response.content.decode()
    assert "<html" not in html
    assert 'hx-boost="true"' in html
    assert "Broken feed" in html


def test_edit_through_the_service(personas: Personas, ticket: Ticket):
    label = LabelFactory(project=personas.project, name="feeds")
    response = page_client(personas, "member").post(
        f"{BASE}/tickets/{ticket.number}/edit",
        {
            "title": "Broken RSS feed",
            "type": "bug",
            "priority": "urgent",
            "body": "Now with *details*",
            "assignee": "mary",
            "labels": [str(label.pk)],
            "sprint": "",
            "estimate": "5",
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.title, ticket.type, ticket.priority, ticket.estimate) == ("Broken RSS feed", "bug", "urgent", 5)
    assert ticket.assignee == personas.member
    assert list(ticket.labels.values_list("name", flat=True)) == ["feeds"]
    assert "<em>details</em>" in ticket.body_html
    assert ticket.events.filter(kind=Event.Kind.UPDATE).exists()


def test_edit_with_errors_shows_the_form_again(personas: Personas, ticket: Ticket):
    response = page_client(personas, "member").post(
        f"{BASE}/tickets/{ticket.number}/edit",
        {"title": "ok", "type": "task", "priority": "low", "assignee": "oscar"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "errorlist" in html
    ticket.refresh_from_db()
    assert ticket.title == "Broken feed"


def test_write_actions_role_matrix(personas: Personas, ticket: Ticket):
    url = f"{BASE}/tickets/{ticket.number}"
    expected = {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 302, "admin": 302, "owner": 302}
    assert page_matrix(personas, "post", f"{url}/comment", {"body": "hi"}) == expected
    assert page_matrix(personas, "post", f"{url}/checklist", {"text": "step"}) == expected
    assert page_matrix(personas, "post", f"{url}/edit", {"title": "T", "type": "task", "priority": "low"}) == expected


def test_comment_with_time_logged(personas: Personas, ticket: Ticket):
    response = page_client(personas, "member").post(
        f"{BASE}/tickets/{ticket.number}/comment", {"body": "Fixed in @olivia's branch", "minutes": "45"}
    )
    assert response.status_code == 302
    comment = Event.objects.get(ticket=ticket, kind=Event.Kind.COMMENT)
    assert response["Location"].endswith(f"#{comment.pk}")
    assert TimeEntry.objects.get(ticket=ticket).minutes == 45


def test_empty_comment_is_refused_with_a_message(personas: Personas, ticket: Ticket):
    response = page_client(personas, "member").post(
        f"{BASE}/tickets/{ticket.number}/comment", {"body": ""}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="modal-body"
    )
    assert response.status_code == 400
    assert response.json()["error"]


def test_checklist_add_tick_and_remove(personas: Personas, ticket: Ticket):
    client = page_client(personas, "member")
    client.post(f"{BASE}/tickets/{ticket.number}/checklist", {"text": "Reproduce"})
    item = ChecklistItem.objects.get(ticket=ticket)
    client.post(f"{BASE}/tickets/{ticket.number}/checklist/{item.pk}", {"done": "1"})
    item.refresh_from_db()
    assert item.done
    html = client.get(f"{BASE}/tickets/{ticket.number}").content.decode()
    assert "1/1" in html
    client.post(f"{BASE}/tickets/{ticket.number}/checklist/{item.pk}", {"delete": "1"})
    assert not ChecklistItem.objects.filter(ticket=ticket).exists()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def test_attachment_upload_preview_and_private_download(personas: Personas, ticket: Ticket):
    client = page_client(personas, "member")
    upload = SimpleUploadedFile("shot.png", _png(), content_type="image/png")
    response = client.post(f"{BASE}/tickets/{ticket.number}/attachments", {"file": upload})
    assert response.status_code == 302
    attachment = ticket.attachments.get()
    html = client.get(f"{BASE}/tickets/{ticket.number}").content.decode()
    file_url = f"{BASE}/tickets/{ticket.number}/attachments/{attachment.pk}"
    assert f'<img src="{file_url}' in html
    download = client.get(file_url)
    assert download.status_code == 200
    assert download["Content-Type"].startswith("image/")
    assert page_client(personas, "outsider").get(file_url).status_code == 404
    assert page_client(personas, "viewer").get(file_url).status_code == 200


def test_watch_and_unwatch(personas: Personas, ticket: Ticket):
    client = page_client(personas, "viewer")
    client.post(f"{BASE}/tickets/{ticket.number}/watch", {"watch": "1"})
    assert ticket.watchers.filter(pk=personas.viewer.pk).exists()
    client.post(f"{BASE}/tickets/{ticket.number}/watch", {"watch": "0"})
    assert not ticket.watchers.filter(pk=personas.viewer.pk).exists()


def test_new_ticket_page_and_subtask(personas: Personas, ticket: Ticket):
    client = page_client(personas, "member")
    page = client.get(f"{BASE}/tickets/new?parent={ticket.number}")
    assert page.status_code == 200
    response = client.post(
        f"{BASE}/tickets/new",
        {"title": "Check the XML", "type": "subtask", "priority": "medium", "parent": str(ticket.number)},
    )
    assert response.status_code == 302
    child = Ticket.objects.get(title="Check the XML")
    assert child.parent == ticket
    html = client.get(f"{BASE}/tickets/{ticket.number}").content.decode()
    assert "Check the XML" in html
    assert page_client(personas, "viewer").get(f"{BASE}/tickets/new").status_code == 403


def test_delete_ticket(personas: Personas):
    ticket = TicketFactory(project=personas.project, title="Doomed")
    response = page_client(personas, "member").post(f"{BASE}/tickets/{ticket.number}/delete")
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.deleted_at is not None


def test_home_lists_my_projects_tickets_and_activity(personas: Personas, ticket: Ticket):
    ticket_services.ticket_update(ticket=ticket, by=personas.owner, assignee="mary")
    html = page_client(personas, "member").get("/").content.decode()
    assert "Blog" in html
    assert "Broken feed" in html
    assert "assigned" in html
    # The outsider sees none of it.
    outsider = page_client(personas, "outsider").get("/").content.decode()
    assert "Broken feed" not in outsider and "Blog" not in outsider


def test_new_project_page_calls_the_service(personas: Personas):
    client = page_client(personas, "member")
    response = client.post("/projects/", {"namespace": "mary", "name": "My Notes", "key": "NOTES"})
    assert response.status_code == 302
    assert response["Location"] == "/projects/mary/my-notes/"
    assert client.get(response["Location"]).status_code == 200
    again = client.post("/projects/", {"namespace": "mary", "name": "Other", "key": "NOTES"})
    assert again.status_code == 200
    assert "already used" in again.content.decode()


def test_new_project_page_takes_an_optional_url_slug(personas: Personas):
    from projects.models import Project

    client = page_client(personas, "member")
    assert 'name="slug"' in client.get("/projects/").content.decode()
    body = {"namespace": "mary", "name": "My project", "key": "MYPROJ", "slug": "myproject"}
    assert client.post("/projects/", body).status_code == 302
    assert Project.objects.get(key="MYPROJ").slug == "myproject"
    # The board page's socket and data attributes use it.
    board = client.get("/projects/mary/my-project/").content.decode()
    assert 'data-project-slug="myproject"' in board
    taken = client.post("/projects/", {**body, "name": "Other", "key": "OTHER"})
    assert taken.status_code == 200
    assert taken.context["form"].errors["slug"] == ["The URL slug 'myproject' is already taken; choose another."]
    bad = client.post("/projects/", {**body, "name": "Third", "key": "THIRD", "slug": "no spaces"})
    assert "slug" in bad.context["form"].errors
    assert client.post("/projects/", {**body, "name": "Fourth", "key": "FOURTH", "slug": ""}).status_code == 302
    assert Project.objects.get(key="FOURTH").slug == "fourth"


def test_edit_errors_in_the_modal_come_back_as_the_modal_body(personas: Personas, ticket: Ticket):
    response = page_client(personas, "member").post(
        f"{BASE}/tickets/{ticket.number}/edit",
        {"title": "ok", "type": "task", "priority": "low", "assignee": "oscar"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="modal-body",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "errorlist" in html
    assert 'id="ticket-edit"' in html and "hidden>" not in html.split('id="ticket-edit"')[1].split(">")[0]


def test_new_project_in_an_organization(personas: Personas):
    from projects.models import OrganizationMembership
    from tests.factories import OrganizationFactory

    org = OrganizationFactory(slug="acme")
    OrganizationMembership.objects.create(organization=org, user=personas.member, role="admin")
    other = OrganizationFactory(slug="other")
    OrganizationMembership.objects.create(organization=other, user=personas.member, role="member")
    client = page_client(personas, "member")
    page = client.get("/projects/").content.decode()
    assert '<option value="acme"' in page and '<option value="other"' not in page
    response = client.post("/projects/", {"namespace": "acme", "name": "Web Site", "key": "WEB"})
    assert response["Location"] == "/projects/acme/web-site/"


def test_error_pages_render_without_a_request():
    from django.template.loader import render_to_string

    assert "Something broke on our side" in render_to_string("500.html")


def test_notifications_on_home_open_and_mark_read(personas: Personas, ticket: Ticket):
    from notifications.models import Notification

    ticket_services.comment_create(ticket=ticket, by=personas.owner, body="@mary please look")
    client = page_client(personas, "member")
    html = client.get("/").content.decode()
    notification = Notification.objects.filter(recipient=personas.member).first()
    assert notification is not None, "the mention should notify mary"
    assert f"/notifications/{notification.pk}" in html
    response = client.get(f"/notifications/{notification.pk}")
    assert response.status_code == 302
    assert response["Location"].startswith("/projects/olivia/blog/tickets/")
    notification.refresh_from_db()
    assert notification.read_at is not None
    # Someone else's notification is a 404.
    assert page_client(personas, "viewer").get(f"/notifications/{notification.pk}").status_code == 404
    client.post("/notifications/read-all")
    assert not Notification.objects.filter(recipient=personas.member, read_at__isnull=True).exists()
