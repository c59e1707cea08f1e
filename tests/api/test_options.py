"""`OPTIONS` on every API route answers without a server error, for a stranger and a member."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from projects.models import OrganizationMembership
from tests.factories import LabelFactory, OrganizationFactory, SprintFactory, TicketFactory
from tickets.models import ChecklistItem, Event

PARAM = re.compile(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)")


def _routes(patterns: list, prefix: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def api_routes() -> list[str]:
    """Every route under /api/ as written in the URLconf (path converters and regex groups)."""
    routes = {route.replace("^", "").replace("$", "") for route in _routes(get_resolver().url_patterns)}
    return sorted(route for route in routes if route.startswith("api/") and ".*" not in route)


@pytest.fixture
def world(personas):
    """Real objects for every kind of path parameter, in the personas' project."""
    project = personas.project
    org = OrganizationFactory(slug="acme")
    org.members.add(personas.member, through_defaults={"role": OrganizationMembership.Role.MEMBER})
    ticket = TicketFactory(project=project)
    item = ChecklistItem.objects.create(ticket=ticket, text="Write it")
    comment = Event.objects.create(ticket=ticket, kind=Event.Kind.COMMENT, author=personas.member, text="Looks good")
    values = {
        "slug": project.path,
        "project_id": str(project.pk),
        "project": project.path,
        "owner": personas.owner.username,
        "org": org.slug,
        "org_slug": org.slug,
        "username": personas.member.username,
        "user_id": str(personas.member.pk),
        "member_id": str(personas.member.pk),
        "column_id": str(project.columns.first().pk),
        "label_id": str(LabelFactory(project=project).pk),
        "sprint_id": str(SprintFactory(project=project).pk),
        "card_id": f"{project.key}-{ticket.number}",
        "ticket_id": f"{project.key}-{ticket.number}",
        "key": f"{project.key}-{ticket.number}",
        "number": str(ticket.number),
        "item_id": str(item.pk),
        "comment_id": str(comment.pk),
    }
    return values


def fill(route: str, values: dict[str, str]) -> str:
    # Kinds of object the fixture does not make (attachments, hooks, messages...) get id 1: a 404.
    return "/" + PARAM.sub(lambda m: values.get(m.group(1) or m.group(2), "1"), route)


def test_the_walk_covers_the_detail_views_that_failed(world):
    urls = {fill(route, world) for route in api_routes()}
    assert "/api/v1/orgs/acme" in urls
    assert "/api/v1/projects/blog/cards/BLOG-1" in urls
    assert any(re.fullmatch(r"/api/v1/projects/blog/cards/BLOG-1/checklist/\d+", url) for url in urls)
    assert len(urls) > 100


@pytest.mark.parametrize("role", ["anonymous", "member"])
def test_options_never_fails_on_any_api_route(world, personas, role):
    client = personas.client(role)
    failures = {}
    for route in api_routes():
        url = fill(route, world)
        response = client.options(url)
        if response.status_code >= 500:
            failures[url] = response.status_code
    assert failures == {}


def test_options_on_a_detail_view_names_the_allowed_methods(world, personas):
    response = personas.client("member").options("/api/v1/projects/blog/labels/" + world["label_id"])

    assert response.status_code == 200
    assert {"GET", "PATCH", "DELETE", "OPTIONS"} <= {m.strip() for m in response["Allow"].split(",")}
    assert response.json()["name"]
