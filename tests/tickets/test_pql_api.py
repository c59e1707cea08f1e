"""PQL over HTTP: `?q=` on the card list and the board, and the cross-project search."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey, hash_api_key
from projects.models import Membership
from tests.factories import LabelFactory, MembershipFactory, ProjectFactory, UserFactory
from tickets import services

pytestmark = pytest.mark.django_db


def url(path: str = "") -> str:
    return f"/api/v1/projects/blog{path}"


@pytest.fixture
def tickets(personas, columns, make_card):
    backend = LabelFactory(project=personas.project, name="backend")
    login = make_card("Login fails", type="bug", priority="urgent", assignee=personas.member)
    login.labels.add(backend)
    export = make_card("Export to CSV", priority="high", column=columns[1])
    docs = make_card("Write the docs", priority="low", assignee=personas.admin, column=columns[2])
    return login, export, docs


def keys(response) -> list[str]:
    assert response.status_code == 200, response.json()
    body = response.json()
    return [card["key"] for card in body["results"]]


def test_q_filters_the_card_list(personas, tickets):
    client = personas.client("member")
    assert keys(client.get(url("/cards"), {"q": "priority >= high", "ordering": "number"})) == ["BLOG-1", "BLOG-2"]
    assert keys(client.get(url("/cards"), {"q": "assignee = me() OR label = backend"})) == ["BLOG-1"]
    assert keys(client.get(url("/cards"), {"q": "status != done ORDER BY priority DESC"})) == ["BLOG-1", "BLOG-2"]
    assert keys(client.get(url("/cards"), {"q": "ORDER BY priority"})) == ["BLOG-3", "BLOG-2", "BLOG-1"]
    # Plain words still search the title and body.
    assert keys(client.get(url("/cards"), {"q": "csv"})) == ["BLOG-2"]
    # With the fixed filters: both apply.
    assert keys(client.get(url("/cards"), {"q": "priority >= high", "type": "bug"})) == ["BLOG-1"]


def test_a_bad_query_is_a_400_with_its_position(personas, tickets):
    response = personas.client("member").get(url("/cards"), {"q": "priorty = high"})
    assert response.status_code == 400
    message = "Unknown field 'priorty' at 0: did you mean 'priority'?"
    body = response.json()
    assert body["error"] == message
    assert body["details"][0]["field"] == "q"
    assert body["details"][0]["message"] == message
    assert body["details"][0]["position"] == 0

    response = personas.client("member").get(url("/cards"), {"q": "assignee = nobody"})
    assert response.status_code == 400
    assert response.json()["error"] == "Unknown user 'nobody' at 11"

    response = personas.client("member").get(url("/cards"), {"q": "ORDER BY priority", "cursor": ""})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "cursor"


def test_q_filters_the_board(personas, tickets):
    response = personas.client("viewer").get(url("/board"), {"q": "priority >= high"})
    assert response.status_code == 200
    found = [card["key"] for column in response.json()["columns"] for card in column["cards"]]
    assert sorted(found) == ["BLOG-1", "BLOG-2"]
    assert personas.client("viewer").get(url("/board"), {"q": "(("}).status_code == 400


def test_the_list_with_a_query_reads_a_constant_number_of_queries(
    personas, tickets, make_card, django_assert_max_num_queries
):
    client = personas.client("member")
    query = {"q": "status != done AND priority >= low ORDER BY assignee, updated DESC"}
    with django_assert_max_num_queries(12) as few:
        assert len(keys(client.get(url("/cards"), query))) == 2
    for number in range(20):
        make_card(f"More {number}", priority="high")
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(keys(client.get(url("/cards"), query))) == 22


# --------------------------------------------------------------------------- cross-project search


@pytest.fixture
def two_projects(personas, tickets):
    """mary is a member of BLOG and of SHOP; oscar's SECRET project is not hers."""
    shop = ProjectFactory(owner_user=UserFactory(username="sam"), name="Shop", key="SHOP")
    MembershipFactory(project=shop, user=personas.member, role=Membership.Role.MEMBER)
    column = shop.columns.order_by("order").first()
    services.ticket_create(project=shop, by=shop.owner_user, title="Checkout login fails", column=column)
    secret = ProjectFactory(owner_user=personas.outsider, name="Secret", key="SEC")
    services.ticket_create(
        project=secret,
        by=personas.outsider,
        title="Secret login plan",
        column=secret.columns.order_by("order").first(),
    )
    return shop, secret


def search(client: APIClient, q: str):
    return client.get("/api/v1/search", {"q": q})


def test_search_covers_the_projects_the_caller_can_see(personas, two_projects):
    client = personas.client("member")
    response = search(client, "login ORDER BY key")
    assert keys(response) == ["BLOG-1", "SHOP-1"]
    first = response.json()["results"][0]
    assert first["project"] == {"id": personas.project.pk, "key": "BLOG", "slug": "blog", "name": "Blog"}
    assert first["title"] == "Login fails"
    assert keys(search(client, "login AND project = SHOP")) == ["SHOP-1"]
    # Another person's project is not searched, and naming it is an error, not an empty answer.
    response = search(client, "project = SEC")
    assert response.status_code == 400
    assert response.json()["error"] == "Unknown project 'SEC' at 10"
    # The outsider sees only their own project.
    assert keys(search(personas.client("outsider"), "login")) == ["SEC-1"]


def test_search_needs_a_query_and_a_user(personas, two_projects):
    response = search(personas.client("member"), "  ")
    assert response.status_code == 400
    assert response.json()["details"] == [{"field": "q", "message": "A query is required."}]
    assert search(personas.client("anonymous"), "login").status_code == 401


def test_search_needs_the_tickets_scope(personas, two_projects):
    def client_with(scopes: list[str]) -> APIClient:
        raw = f"punt_{'s' * 40}{'-'.join(scopes)}"
        ApiKey.objects.create(
            user=personas.member, name="ci", prefix=raw[:10], hashed_key=hash_api_key(raw), scopes=scopes
        )
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=raw)
        return client

    assert search(client_with(["chat:write"]), "login").status_code == 403
    assert keys(search(client_with(["tickets:read"]), "login ORDER BY key")) == ["BLOG-1", "SHOP-1"]


def test_search_reads_a_constant_number_of_queries(personas, two_projects, django_assert_max_num_queries):
    shop, _secret = two_projects
    client = personas.client("member")
    with django_assert_max_num_queries(12) as few:
        assert len(keys(search(client, "state = open"))) == 3  # BLOG-3 is done
    shop_column = shop.columns.order_by("order").first()
    blog_column = personas.project.columns.order_by("order").first()
    for number in range(15):
        services.ticket_create(project=shop, by=shop.owner_user, title=f"Shop {number}", column=shop_column)
        services.ticket_create(project=personas.project, by=personas.member, title=f"Blog {number}", column=blog_column)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(keys(search(client, "state = open"))) == 33


@pytest.mark.parametrize("path", ["/api/v1/search", "/api/v1/projects/blog/cards"])
def test_page_parameters_that_are_not_whole_numbers_are_a_400(personas, tickets, path):
    client = personas.client("member")
    for name, value in [("limit", "lots"), ("limit", "5.5"), ("offset", "²"), ("offset", "")]:
        response = client.get(path, {"q": "login", name: value})
        assert response.status_code == 400, (name, value)
        assert response.json()["details"][0]["field"] == name
    # Whole numbers keep their meaning, odd ones included: 0 and below are the default limit, the first row.
    for params in [{"limit": "0"}, {"limit": "-3", "offset": "-1"}, {"limit": " 2 ", "offset": "0"}]:
        assert client.get(path, {"q": "login", **params}).status_code == 200, params
