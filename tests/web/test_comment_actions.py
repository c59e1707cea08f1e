"""Ticket page: authors edit and delete their comments; project admins delete anyone's."""

from __future__ import annotations

import pytest

from tests.conftest import ROLES, Personas
from tests.factories import ProjectFactory, TicketFactory
from tests.web.conftest import page_client
from tickets import services as ticket_services
from tickets.models import Event, Ticket, TimeEntry

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"


@pytest.fixture
def ticket(personas: Personas) -> Ticket:
    return ticket_services.ticket_create(project=personas.project, by=personas.owner, title="Broken feed")


def _comment(ticket: Ticket, by, body: str = "First!", minutes: int | None = None) -> Event:
    return ticket_services.comment_create(ticket=ticket, by=by, body=body, minutes=minutes)


def _url(ticket: Ticket, comment: Event) -> str:
    return f"{BASE}/tickets/{ticket.number}/comments/{comment.pk}"


def test_author_edits_a_comment_from_the_page(personas: Personas, ticket: Ticket):
    comment = _comment(ticket, personas.member, "Teh fix")
    client = page_client(personas, "member")
    html = client.get(f"{BASE}/tickets/{ticket.number}").content.decode()
    assert f'action="{_url(ticket, comment)}"' in html and ">Edit</summary>" in html

    response = client.post(_url(ticket, comment), {"body": "The **fix**"})
    assert response.status_code == 302 and response["Location"].endswith(f"#{comment.pk}")
    comment.refresh_from_db()
    assert comment.text == "The **fix**"
    assert "<strong>fix</strong>" in client.get(f"{BASE}/tickets/{ticket.number}").content.decode()


def test_edit_role_matrix_only_the_author(personas: Personas, ticket: Ticket):
    row = {}
    for role in ROLES:
        comment = _comment(ticket, personas.member)
        row[role] = page_client(personas, role).post(_url(ticket, comment), {"body": "rewritten"}).status_code
        comment.refresh_from_db()
        # A refusal is a redirect with a message for plain forms: the text must stay.
        assert (comment.text == "rewritten") == (role == "member"), role
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 302, "admin": 302, "owner": 302}


def test_delete_role_matrix_author_and_admins(personas: Personas, ticket: Ticket):
    deleted = {}
    row = {}
    for role in ROLES:
        comment = _comment(ticket, personas.member, minutes=15)
        row[role] = page_client(personas, role).post(_url(ticket, comment), {"delete": "1"}).status_code
        comment.refresh_from_db()
        deleted[role] = comment.deleted_at is not None
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 302, "admin": 302, "owner": 302}
    assert deleted == {
        "anonymous": False,
        "outsider": False,
        "viewer": False,
        "member": True,
        "admin": True,
        "owner": True,
    }
    # The time a deleted comment logged goes with it.
    assert TimeEntry.objects.count() == 3


def test_refusals_over_htmx_are_json_errors(personas: Personas, ticket: Ticket):
    comment = _comment(ticket, personas.owner, "Owner speaking")
    client = page_client(personas, "member")
    response = client.post(_url(ticket, comment), {"delete": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403 and "error" in response.json()
    response = client.post(_url(ticket, comment), {"body": "mine now"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    own = _comment(ticket, personas.member)
    response = client.post(_url(ticket, own), {"body": "   "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "error" in response.json()
    comment.refresh_from_db()
    own.refresh_from_db()
    assert comment.text == "Owner speaking" and own.text == "First!" and comment.deleted_at is None


def test_controls_follow_the_role(personas: Personas, ticket: Ticket):
    _comment(ticket, personas.member)
    page = f"{BASE}/tickets/{ticket.number}"
    assert ">Edit</summary>" not in page_client(personas, "admin").get(page).content.decode()
    assert ">Delete</button>" in page_client(personas, "admin").get(page).content.decode()
    owner_html = page_client(personas, "viewer").get(page).content.decode()
    assert "/comments/" not in owner_html


def test_comment_of_another_ticket_or_project_is_404(personas: Personas, ticket: Ticket):
    other_ticket = TicketFactory(project=personas.project)
    comment = _comment(other_ticket, personas.member)
    client = page_client(personas, "member")
    assert client.post(_url(ticket, comment), {"delete": "1"}).status_code == 404
    elsewhere = ProjectFactory(owner_user=personas.member, key="MINE", name="Mine")
    foreign = _comment(TicketFactory(project=elsewhere), personas.member)
    assert client.post(_url(ticket, foreign), {"delete": "1"}).status_code == 404
    assert client.post(f"{BASE}/tickets/{ticket.number}/comments/99999999", {"delete": "1"}).status_code == 404
    assert Event.objects.filter(kind=Event.Kind.COMMENT, deleted_at__isnull=False).count() == 0


def test_deleted_comment_leaves_the_timeline(personas: Personas, ticket: Ticket):
    comment = _comment(ticket, personas.member, "Regrettable remark")
    client = page_client(personas, "member")
    client.post(_url(ticket, comment), {"delete": "1"})
    assert "Regrettable remark" not in client.get(f"{BASE}/tickets/{ticket.number}").content.decode()
    assert client.post(_url(ticket, comment), {"body": "back"}).status_code == 404
