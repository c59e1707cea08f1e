"""WarmDesk's API reference (seed 004), replayed against /api/v1/ the way its own client would:
a project whose URL slug is not its key (`myproject` holding card `MYPROJ-99`), and the status
codes of the document's "Response format" table."""

from __future__ import annotations

import pytest
import yaml
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts import services as account_services
from projects.models import Project
from tests.factories import ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

PROJECTS = "/api/v1/projects"
MY = f"{PROJECTS}/myproject"


def bearer(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")
    return client


@pytest.fixture
def alice():
    return UserFactory(username="alice")


@pytest.fixture
def myproject(alice) -> dict:
    response = bearer(alice).post(PROJECTS, {"name": "My project", "key": "MYPROJ", "slug": "myproject"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def first_card(client: APIClient) -> dict:
    columns = client.get(f"{MY}/columns").json()
    response = client.post(f"{MY}/columns/{columns[0]['id']}/cards", {"title": "Ship it"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# --------------------------------------------------------------------------- slug


def test_a_project_created_with_its_own_slug_holds_cards_keyed_by_its_key(alice, myproject):
    assert (myproject["key"], myproject["slug"]) == ("MYPROJ", "myproject")
    client = bearer(alice)
    card = first_card(client)
    assert card["key"] == "MYPROJ-1"
    assert client.get(f"{MY}/cards/MYPROJ-1").json()["id"] == card["id"]
    assert client.get(f"{MY}/cards/{card['id']}").json()["key"] == "MYPROJ-1"
    assert [p["slug"] for p in client.get(PROJECTS).json()] == ["myproject"]
    assert client.get(MY).json()["slug"] == "myproject"


def test_every_path_that_takes_a_slug_accepts_it(alice, myproject):
    client = bearer(alice)
    card = first_card(client)
    column_id = card["column_id"]
    reads = [
        MY,
        f"{MY}/columns",
        f"{MY}/columns/{column_id}/cards",
        f"{MY}/cards",
        f"{MY}/cards/deleted",
        f"{MY}/cards/MYPROJ-1",
        f"{MY}/cards/MYPROJ-1/comments",
        f"{MY}/cards/MYPROJ-1/checklist",
        f"{MY}/cards/MYPROJ-1/links",
        f"{MY}/cards/MYPROJ-1/events",
        f"{MY}/board",
        f"{MY}/members",
        f"{MY}/labels",
        f"{MY}/sprints",
        f"{MY}/chat/messages",
        f"{MY}/topics",
        f"{MY}/hooks",
        f"{MY}/git-hooks",
        f"{MY}/chat-webhooks",
        "/api/v1/reports/time?project=myproject",
        "/api/v1/reports/estimates?project=myproject",
    ]
    for url in reads:
        assert client.get(url).status_code == 200, url
    writes = [
        ("put", f"{MY}/cards/MYPROJ-1", {"title": "Ship it now"}, 200),
        ("patch", f"{MY}/cards/MYPROJ-1/move", {"column_id": column_id, "position": 0}, 200),
        ("post", f"{MY}/cards/MYPROJ-1/comments", {"body": "Done soon", "minutes": 30}, 201),
        ("post", f"{MY}/chat/messages", {"body": "hello"}, 201),
        ("post", f"{MY}/topics", {"title": "Launch"}, 201),
        ("post", f"{MY}/labels", {"name": "bug"}, 201),
        ("put", MY, {"name": "My project", "slug": "myproject", "key": "MYPROJ"}, 200),
    ]
    for method, url, body, expected in writes:
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == expected, (method, url, response.content)
    assert client.get("/api/v1/chat/unread").json()["projects"] == {"myproject": 0}
    report = client.get("/api/v1/reports/time?project=myproject").json()
    assert [row["project"]["slug"] for row in report["rows"]] == ["myproject"]


def test_the_documents_ticket_api_example_with_an_api_key(alice, myproject):
    # "curl -X PATCH ... https://warmdesk.example.com/api/v1/projects/myproject/ticket/MYPROJ-99"
    _key, raw = account_services.api_key_create(user=alice, name="ci", scopes=[])
    ci = APIClient()
    ci.credentials(HTTP_X_API_KEY=raw)
    created = ci.post(f"{MY}/ticket", {"title": "Security scan found CVE-2026-1234", "priority": "high"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["key"] == "MYPROJ-1"
    Project.objects.filter(slug="myproject").update(ticket_counter=98)
    assert ci.post(f"{MY}/ticket", {"title": "Deploy"}, format="json").json()["key"] == "MYPROJ-99"
    moved = ci.patch(
        f"{MY}/ticket/MYPROJ-99",
        {"column_name": "Done", "comment": "Deployment to production succeeded. Build #4242."},
        format="json",
    )
    assert moved.status_code == 200, moved.content
    assert moved.json()["status"] == "done"


def test_the_key_is_not_a_slug_once_a_slug_was_chosen(alice, myproject):
    client = bearer(alice)
    first_card(client)
    assert client.get(f"{PROJECTS}/myproj").status_code == 404
    assert client.get(f"{PROJECTS}/MYPROJ/board").status_code == 404
    # The key stays the card prefix only.
    assert client.get(f"{MY}/cards/MYPROJECT-1").status_code == 404
    # Slugs are lowercase: any case finds it.
    assert client.get(f"{PROJECTS}/MyProject").status_code == 200


def test_without_a_slug_it_is_the_lowercased_key(alice):
    response = bearer(alice).post(PROJECTS, {"name": "Blog", "key": "BLOG"}, format="json")
    assert response.json()["slug"] == "blog"
    response = bearer(alice).post(PROJECTS, {"name": "Docs", "key": "DOCS", "slug": ""}, format="json")
    assert response.json()["slug"] == "docs"


def test_a_chosen_slug_is_lowercased(alice):
    response = bearer(alice).post(PROJECTS, {"name": "Shop", "key": "SHOP", "slug": "  Web-Shop "}, format="json")
    assert response.status_code == 201
    assert response.json()["slug"] == "web-shop"


@pytest.mark.parametrize(
    "slug", ["my project", "-shop", "shop-", "my--shop", "my_shop", "my.shop", "ünï", "x" * 51, "user", "USER"]
)
def test_bad_slugs_are_a_400_naming_slug(alice, slug):
    response = bearer(alice).post(PROJECTS, {"name": "Shop", "key": "SHOP", "slug": slug}, format="json")
    assert response.status_code == 400, slug
    assert [d["field"] for d in response.json()["details"]] == ["slug"], slug
    assert not Project.objects.filter(key="SHOP").exists()


def test_a_slug_of_fifty_characters_is_accepted(alice):
    slug = "a" * 25 + "-" + "b" * 24
    response = bearer(alice).post(PROJECTS, {"name": "Long", "key": "LONG", "slug": slug}, format="json")
    assert response.status_code == 201
    assert bearer(alice).get(f"{PROJECTS}/{slug}").status_code == 200


def test_slugs_are_unique_site_wide(alice, myproject):
    bob = UserFactory(username="bob")
    response = bearer(bob).post(PROJECTS, {"name": "Mine", "key": "MINE", "slug": "MyProject"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"] == [
        {"field": "slug", "message": "The URL slug 'myproject' is already taken; choose another."}
    ]


def test_a_key_whose_lowercase_is_taken_asks_for_a_slug(alice):
    bob = UserFactory(username="bob")
    assert bearer(alice).post(PROJECTS, {"name": "A", "key": "ZED", "slug": "abc"}, format="json").status_code == 201
    refused = bearer(bob).post(PROJECTS, {"name": "B", "key": "ABC"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["details"] == [
        {"field": "slug", "message": "The URL slug 'abc' (the lowercased key) is taken; choose a slug."}
    ]
    chosen = bearer(bob).post(PROJECTS, {"name": "B", "key": "ABC", "slug": "abc-two"}, format="json")
    assert (chosen.status_code, chosen.json()["slug"]) == (201, "abc-two")


def test_the_slug_cannot_change(alice, myproject):
    client = bearer(alice)
    response = client.put(MY, {"slug": "yourproject"}, format="json")
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "slug"
    assert client.patch(MY, {"slug": "myproject", "name": "Renamed"}, format="json").status_code == 200
    assert Project.objects.get(key="MYPROJ").slug == "myproject"


def test_project_lookup_by_slug_is_one_query(alice, myproject, django_assert_max_num_queries):
    from projects.selectors import project_for

    with django_assert_max_num_queries(1):
        assert project_for(alice, slug="myproject").key == "MYPROJ"


# --------------------------------------------------------------------------- column delete


def test_column_delete_is_204_no_content(alice, myproject):
    # "204 No Content — successful delete"
    client = bearer(alice)
    columns = client.get(f"{MY}/columns").json()
    response = client.delete(f"{MY}/columns/{columns[1]['id']}")
    assert (response.status_code, response.content) == (204, b"")
    assert [c["name"] for c in client.get(f"{MY}/columns").json()] == ["To Do", "Done"]


def test_column_delete_is_documented_as_204(client):
    schema = yaml.safe_load(client.get("/api/schema/").content)
    responses = schema["paths"]["/api/v1/projects/{slug}/columns/{column_id}"]["delete"]["responses"]
    assert "204" in responses and "200" not in responses
    assert "content" not in responses["204"]


def test_other_projects_keep_their_lowercased_key_as_slug(alice):
    ProjectFactory(key="OLD", name="Old", owner_user=alice)
    assert bearer(alice).get(f"{PROJECTS}/old").json()["slug"] == "old"
