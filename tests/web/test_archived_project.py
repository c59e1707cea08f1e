"""An archived project on the pages: read-only for its members, restorable by its owner."""

from __future__ import annotations

import pytest

from projects import services as project_services
from projects.models import Project
from tests.conftest import ROLES, Personas
from tests.factories import TicketFactory
from tests.web.conftest import page_client, page_matrix

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"


@pytest.fixture
def archived(personas: Personas) -> Project:
    return project_services.project_archive(project=personas.project, by=personas.owner)


def test_every_read_page_works_and_shows_the_banner(personas: Personas, archived: Project):
    ticket = TicketFactory(project=personas.project, title="Old work")
    for url in (f"{BASE}/", f"{BASE}/backlog", f"{BASE}/chat", f"{BASE}/tickets/{ticket.number}"):
        row = page_matrix(personas, "get", url)
        assert row == {"anonymous": 302, "outsider": 404, "viewer": 200, "member": 200, "admin": 200, "owner": 200}
        html = page_client(personas, "member").get(url).content.decode()
        assert 'id="archived"' in html and "Its owner can restore it." in html, url
        assert "Restore project" in page_client(personas, "owner").get(url).content.decode()


def test_no_write_controls_and_writes_are_refused(personas: Personas, archived: Project):
    ticket = TicketFactory(project=personas.project, title="Old work")
    html = page_client(personas, "owner").get(f"{BASE}/tickets/{ticket.number}").content.decode()
    # Every page links /static/css/edit.css: look for the ticket's edit address, the in-place
    # editor's form and the pickers (all post there), not the bare word.
    assert f"/tickets/{ticket.number}/edit" not in html and "?edit=1" not in html
    assert 'name="minutes"' not in html and "Delete ticket" not in html
    assert f"/tickets/{ticket.number}/close" not in html and "/autocomplete" not in html
    assert "/watch" not in html
    writes = [
        (f"{BASE}/quick-add", {"title": "new"}),
        (f"{BASE}/chat", {"body": "hello"}),
        (f"{BASE}/tickets/{ticket.number}/comment", {"body": "hi"}),
        (f"{BASE}/tickets/{ticket.number}/edit", {"title": "changed", "type": "task", "priority": "low"}),
        (f"{BASE}/settings", {"action": "label_add", "name": "x"}),
        (f"{BASE}/archive", {}),
        (f"{BASE}/tickets/{ticket.number}/watch", {"watch": "1"}),
    ]
    watchers_before = list(ticket.watchers.values_list("pk", flat=True))
    for url, data in writes:
        row = page_matrix(personas, "post", url, data)
        assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 403, "admin": 403, "owner": 403}, url
    ticket.refresh_from_db()
    assert ticket.title == "Old work"
    assert list(ticket.watchers.values_list("pk", flat=True)) == watchers_before
    assert personas.project.tickets.count() == 1 and not personas.project.labels.exists()
    assert "archived and read-only" in page_client(personas, "owner").post(f"{BASE}/quick-add").content.decode()


def test_only_the_owner_restores(personas: Personas, archived: Project):
    row = {}
    for role in ROLES:
        row[role] = page_client(personas, role).post(f"{BASE}/restore").status_code
        if role != "owner":
            archived.refresh_from_db()
            assert archived.archived_at is not None, role
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 403, "admin": 403, "owner": 302}
    archived.refresh_from_db()
    assert archived.archived_at is None
    html = page_client(personas, "owner").get(f"{BASE}/").content.decode()
    assert 'id="archived"' not in html and "quick-add" in html


def test_restoring_a_live_project_is_a_message_not_an_error(personas: Personas):
    response = page_client(personas, "owner").post(f"{BASE}/restore", follow=True)
    assert response.status_code == 200 and "This project is not archived." in response.content.decode()


def test_owner_archives_from_settings_and_finds_it_in_the_project_list(personas: Personas):
    client = page_client(personas, "owner")
    assert "Archive project" in client.get(f"{BASE}/settings").content.decode()
    assert "Archive project" not in page_client(personas, "admin").get(f"{BASE}/settings").content.decode()
    assert page_client(personas, "admin").post(f"{BASE}/archive").status_code == 403
    personas.project.refresh_from_db()
    assert personas.project.archived_at is None

    assert client.post(f"{BASE}/archive").status_code == 302
    personas.project.refresh_from_db()
    assert personas.project.archived_at is not None
    html = client.get("/projects/").content.decode()
    assert 'id="archived-projects"' in html and f'action="{BASE}/restore"' in html
    member_html = page_client(personas, "member").get("/projects/").content.decode()
    assert 'id="archived-projects"' in member_html and f'action="{BASE}/restore"' not in member_html
    assert 'id="archived-projects"' not in page_client(personas, "outsider").get("/projects/").content.decode()
    client.post(f"{BASE}/restore")
    personas.project.refresh_from_db()
    assert personas.project.archived_at is None
