"""The ticket page's Relations section: grouped links with key, title and status; add by key
(with the key autocomplete), remove; the timeline's words; the query count does not grow."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Membership
from tests.conftest import Personas
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.web.conftest import page_client, page_matrix
from tickets import services as ticket_services
from tickets.models import Ticket, TicketRelation

pytestmark = pytest.mark.django_db
PAGE = "/projects/olivia/blog/tickets/"


def card(personas: Personas, title: str) -> Ticket:
    return ticket_services.ticket_create(project=personas.project, by=personas.member, title=title)


def test_section_groups_links_by_kind(personas: Personas):
    one, two, three = card(personas, "Main"), card(personas, "Blocker"), card(personas, "Copy")
    ticket_services.relation_add(ticket=one, other=two, kind="is_blocked_by", by=personas.member)
    ticket_services.relation_add(ticket=three, other=one, kind="duplicates", by=personas.member)
    html = page_client(personas, "viewer").get(f"{PAGE}{one.number}").content.decode()
    section = html[html.index('id="relations"') : html.index('id="git-links"')]
    assert "Is blocked by" in section and "Is duplicated by" in section
    assert section.index("Is blocked by") < section.index("Is duplicated by")
    assert f'href="{PAGE}{two.number}"' in section and "Blocker" in section and "To Do" in section
    assert "Copy" in section
    # A viewer gets no forms.
    assert "Link</button>" not in section and "Remove the link" not in section
    member = page_client(personas, "member").get(f"{PAGE}{one.number}").content.decode()
    assert "Link</button>" in member and 'data-ticket-keys="/projects/olivia/blog/autocomplete"' in member
    # The timeline says it on both tickets.
    assert f"linked it to {two.key} (is blocked by)" in member
    other = page_client(personas, "member").get(f"{PAGE}{two.number}").content.decode()
    assert f"linked it to {one.key} (blocks)" in other


def test_add_and_remove_role_matrix(personas: Personas):
    one, two = card(personas, "One"), card(personas, "Two")
    add = f"{PAGE}{one.number}/relations"
    row = page_matrix(personas, "post", add, {"kind": "relates_to", "ticket": two.key})
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 302, "admin": 302, "owner": 302}
    assert TicketRelation.objects.count() == 1  # the member's; the same link again is refused
    for role, kind in (("admin", "blocks"), ("owner", "duplicates")):
        assert page_client(personas, role).post(add, {"kind": kind, "ticket": two.key}).status_code == 302
    assert sorted(TicketRelation.objects.values_list("kind", flat=True)) == ["blocks", "duplicates", "relates_to"]
    links = iter(TicketRelation.objects.order_by("id").values_list("pk", flat=True))
    last = TicketRelation.objects.order_by("id").last()
    assert last is not None
    for role, expected in (("anonymous", 302), ("outsider", 404), ("viewer", 403)):
        response = page_client(personas, role).post(f"{PAGE}{one.number}/relations/{last.pk}/delete")
        assert response.status_code == expected, role
    for role in ("member", "admin", "owner"):
        response = page_client(personas, role).post(f"{PAGE}{one.number}/relations/{next(links)}/delete")
        assert response.status_code == 302, role
    assert not TicketRelation.objects.exists()


def test_refusals_are_messages(personas: Personas):
    one = card(personas, "One")
    client = page_client(personas, "member")
    response = client.post(f"{PAGE}{one.number}/relations", {"kind": "blocks", "ticket": one.key}, follow=True)
    assert "A ticket cannot be linked to itself." in response.content.decode()
    response = client.post(
        f"{PAGE}{one.number}/relations", {"kind": "blocks", "ticket": "NOPE-9"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 400 and response.json() == {"error": "No ticket 'NOPE-9' that you can see."}


def test_close_as_duplicate_from_the_page(personas: Personas):
    one, two = card(personas, "One"), card(personas, "Two")
    client = page_client(personas, "member")
    data = {"kind": "duplicates", "ticket": two.key, "close": "1"}
    assert client.post(f"{PAGE}{one.number}/relations", data).status_code == 302
    one.refresh_from_db()
    assert one.state == "closed"


def test_key_autocomplete_spans_visible_projects(personas: Personas):
    owner = UserFactory(username="dora")
    demo = ProjectFactory(owner_user=owner, name="Demo", key="DEMO")
    MembershipFactory(project=demo, user=personas.member, role=Membership.Role.MEMBER)
    ticket_services.ticket_create(project=demo, by=owner, title="Demo work")
    card(personas, "Blog work")
    url = "/projects/olivia/blog/autocomplete"
    member = page_client(personas, "member")
    assert member.get(url, {"kind": "keys", "q": "demo-"}).json() == {
        "items": [{"value": "DEMO-1", "label": "DEMO-1", "detail": "Demo work"}]
    }
    found = {item["value"] for item in member.get(url, {"kind": "keys", "q": "work"}).json()["items"]}
    assert found == {"BLOG-1", "DEMO-1"}
    # The admin of BLOG is not in DEMO.
    admin = page_client(personas, "admin")
    assert admin.get(url, {"kind": "keys", "q": "DEMO-1"}).json() == {"items": []}
    assert {i["value"] for i in admin.get(url, {"kind": "keys", "q": "work"}).json()["items"]} == {"BLOG-1"}


def test_page_query_count_does_not_grow_with_links(personas: Personas):
    main = card(personas, "Main")
    client = page_client(personas, "member")
    ticket_services.relation_add(ticket=main, other=card(personas, "first"), kind="blocks", by=personas.member)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"{PAGE}{main.number}").status_code == 200
    for n in range(6):
        kind = ("blocks", "is_blocked_by", "relates_to")[n % 3]
        ticket_services.relation_add(ticket=main, other=card(personas, f"more {n}"), kind=kind, by=personas.member)
    with CaptureQueriesContext(connection) as many:
        assert client.get(f"{PAGE}{main.number}").status_code == 200
    assert len(many) == len(few)


@pytest.mark.parametrize(
    ("kind", "heading", "other_heading"),
    [
        ("blocks", "Blocks", "Is blocked by"),
        ("is_blocked_by", "Is blocked by", "Blocks"),
        ("duplicates", "Duplicates", "Is duplicated by"),
        ("is_duplicated_by", "Is duplicated by", "Duplicates"),
        ("relates_to", "Relates to", "Relates to"),
    ],
)
def test_each_kind_added_on_the_page_shows_on_both_tickets(personas: Personas, kind, heading, other_heading):
    one, two = card(personas, "One"), card(personas, "Two")
    client = page_client(personas, "member")
    assert client.post(f"{PAGE}{one.number}/relations", {"kind": kind, "ticket": two.key}).status_code == 302
    for ticket, other, expected in ((one, two, heading), (two, one, other_heading)):
        html = client.get(f"{PAGE}{ticket.number}").content.decode()
        section = html[html.index('id="relations"') : html.index('id="git-links"')]
        assert re.findall(r'<h3 class="small muted">([^<]*)</h3>', section) == [expected], (kind, ticket.key)
        assert f'href="{PAGE}{other.number}"' in section, (kind, ticket.key)
