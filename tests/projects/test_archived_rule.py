"""The one rule for archived projects, on every HTTP surface (projects.selectors.project_for):
visible read-only to members. Reads answer as for a live project; writes answer 409 (the
pages: the 403 page with the same message); outsiders get 404. Sockets and SSE streams:
tests/realtime/test_archived_rule.py.
"""

from __future__ import annotations

import pytest

from projects import services as project_services
from projects.models import Project
from tests.conftest import Personas
from tests.dialects.conftest import Mesh, key_client, mesh  # noqa: F401 (fixtures)
from tests.factories import TicketFactory
from tests.web.conftest import page_client

pytestmark = pytest.mark.django_db

ARCHIVED = {"error": "This project is archived and read-only; its owner can restore it."}
READERS = ("viewer", "member", "admin", "owner")


@pytest.fixture
def archived(personas: Personas) -> Project:
    TicketFactory(project=personas.project, title="Old work")
    return project_services.project_archive(project=personas.project, by=personas.owner)


def _reads(personas: Personas, url: str) -> dict[str, int]:
    return {role: personas.client(role).get(url).status_code for role in ("outsider", *READERS)}


def _every_reader_reads(personas: Personas, urls: list[str]) -> None:
    for url in urls:
        assert _reads(personas, url) == {"outsider": 404, **dict.fromkeys(READERS, 200)}, url


def _refused_as_archived(response) -> None:
    assert response.status_code == 409, response.content
    assert response.json() == ARCHIVED


def test_canonical_api_reads(personas: Personas, archived: Project):
    card = archived.tickets.get()
    base = "/api/v1/projects/blog"
    _every_reader_reads(
        personas,
        [
            base,
            f"{base}/cards",
            f"{base}/cards/{card.pk}",
            f"{base}/cards/BLOG-{card.number}",
            f"{base}/board",
            f"{base}/chat/messages",
            f"{base}/topics",
            f"{base}/columns",
            f"{base}/labels",
            f"{base}/sprints",
            f"{base}/members",
            "/api/v1/reports/estimates?project=blog",
        ],
    )
    assert personas.client("member").get("/api/v1/reports/time?project=blog").status_code == 200
    assert personas.client("outsider").get("/api/v1/reports/time?project=blog").status_code == 404


def test_canonical_api_writes_are_409(personas: Personas, archived: Project):
    card = archived.tickets.get()
    base = "/api/v1/projects/blog"
    member, admin = personas.client("member"), personas.client("admin")
    todo = archived.columns.order_by("order").first()
    _refused_as_archived(member.post(f"{base}/columns/{todo.pk}/cards", {"title": "x"}, format="json"))
    _refused_as_archived(member.patch(f"{base}/cards/{card.pk}", {"title": "changed"}, format="json"))
    _refused_as_archived(member.post(f"{base}/chat/messages", {"body": "hello"}, format="json"))
    _refused_as_archived(member.post(f"{base}/topics", {"title": "t", "body": "b"}, format="json"))
    _refused_as_archived(member.post(f"{base}/labels", {"name": "bug"}, format="json"))
    _refused_as_archived(member.post(f"{base}/sprints", {"name": "S1"}, format="json"))
    _refused_as_archived(admin.patch(base, {"name": "Renamed"}, format="json"))
    _refused_as_archived(admin.post(f"{base}/columns", {"name": "QA"}, format="json"))
    # Below the role needed, the role answers first (403), as on a live project.
    assert personas.client("viewer").post(f"{base}/chat/messages", {"body": "hi"}, format="json").status_code == 403
    assert personas.client("outsider").post(f"{base}/chat/messages", {"body": "hi"}, format="json").status_code == 404
    card.refresh_from_db()
    assert card.title == "Old work" and archived.tickets.count() == 1 and not archived.labels.exists()


def test_the_actions_meant_for_an_archived_project_still_work(personas: Personas, archived: Project):
    owner = personas.client("owner")
    assert owner.delete("/api/v1/projects/blog").json() == {"error": "This project is already archived."}
    assert personas.client("admin").post("/api/v1/projects/blog/restore").status_code == 403
    assert owner.post("/api/v1/projects/blog/restore").status_code == 200
    archived.refresh_from_db()
    assert archived.archived_at is None


def test_punt_dialect(personas: Personas, archived: Project):
    pid = archived.pk
    _every_reader_reads(
        personas, [f"/api/projects/{pid}", f"/api/projects/{pid}/tickets", "/api/projects/BLOG/columns"]
    )
    response = personas.client("member").post(f"/api/projects/{pid}/tickets", {"title": "x"}, format="json")
    assert response.status_code == 409 and "archived and read-only" in response.json()["error"]
    # Deleting for good is the owner's, archived or not.
    assert personas.client("owner").delete(f"/api/projects/{pid}").status_code == 200
    assert not Project.objects.filter(pk=pid).exists()


def test_github_dialect(personas: Personas, archived: Project):
    number = archived.tickets.get().number
    base = "/api/v3/projects/olivia/blog"
    _every_reader_reads(
        personas, [base, f"{base}/tickets", f"{base}/tickets/{number}", f"{base}/tickets/{number}/events"]
    )
    response = personas.client("member").post(f"{base}/tickets", {"title": "x"}, format="json")
    assert response.status_code == 409 and "archived and read-only" in response.json()["error"]


def test_agentsmesh_dialect(personas: Personas, mesh: Mesh, key_client):  # noqa: F811
    ticket = TicketFactory(project=mesh.project, title="Old work")
    project_services.project_archive(project=mesh.project, by=personas.owner)
    base = "/api/v1/ext/orgs/acme/tickets"
    for role in READERS:
        client = key_client(personas.user(role))
        listed = client.get(f"{base}?repository_id={mesh.project.pk}")
        assert listed.status_code == 200, role
        assert client.get(f"{base}/AM-{ticket.number}").status_code == 200, role
    outsider = key_client(personas.outsider)
    assert outsider.get(f"{base}?repository_id={mesh.project.pk}").status_code == 404
    assert outsider.get(f"{base}/AM-{ticket.number}").status_code == 404
    member = key_client(personas.member)
    response = member.post(base, {"title": "x", "type": "task", "repository_id": mesh.project.pk}, format="json")
    assert response.status_code == 409 and "archived and read-only" in response.json()["error"]
    response = member.put(f"{base}/AM-{ticket.number}", {"title": "changed"}, format="json")
    assert response.status_code == 409


def test_pages(personas: Personas, archived: Project):
    for role in READERS:
        assert page_client(personas, role).get("/projects/olivia/blog/").status_code == 200, role
    assert page_client(personas, "outsider").get("/projects/olivia/blog/").status_code == 404
    # Pages have no 409 page: a write is refused with the 403 page carrying the same message.
    response = page_client(personas, "member").post("/projects/olivia/blog/quick-add", {"title": "new"})
    assert response.status_code == 403 and ARCHIVED["error"] in response.content.decode()
    assert archived.tickets.count() == 1
