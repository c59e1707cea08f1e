"""PQL over ticket links: both readings (the ORM query and the Python test over load_facts) give
the same tickets, the link fields take keys of other projects the caller can see, and
autocomplete offers the fields and the two-word predicates."""

from __future__ import annotations

import pytest

from projects.models import Membership
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.tickets.helpers import url
from tickets import pql, services
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(personas, make_card, columns):
    """BLOG: A blocks B; E (closed) blocks C; DEMO-1 (open) blocks D; B duplicates A; C relates to D."""
    owner = UserFactory(username="dora")
    demo = ProjectFactory(owner_user=owner, name="Demo", key="DEMO")
    MembershipFactory(project=demo, user=personas.member, role=Membership.Role.MEMBER)
    outside = services.ticket_create(project=demo, by=owner, title="Outside")
    a, b, c, d = (make_card(title) for title in "ABCD")
    e = make_card("E", column=columns[2])
    by = personas.member
    services.relation_add(ticket=a, other=b, kind="blocks", by=by)
    services.relation_add(ticket=c, other=e, kind="is_blocked_by", by=by)
    services.relation_add(ticket=d, other=outside, kind="is_blocked_by", by=by)
    services.relation_add(ticket=b, other=a, kind="duplicates", by=by)
    services.relation_add(ticket=c, other=d, kind="relates_to", by=by)
    return {"A": a, "B": b, "C": c, "D": d, "E": e, "DEMO": outside}


def titles(personas, query: str, user=None) -> set[str]:
    scope = pql.project_scope(personas.project, user or personas.member)
    compiled = pql.compile_query(query, scope)
    tickets = Ticket.objects.filter(project=personas.project)
    by_orm = set(pql.apply(tickets, compiled).values_list("title", flat=True))
    facts = pql.load_facts(tickets.values_list("pk", flat=True))
    by_python = {ticket.title for ticket in tickets if compiled.test(facts[ticket.pk])}
    assert by_orm == by_python, query
    return by_orm


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("blocks = BLOG-2", {"A"}),
        ("blocked_by = BLOG-1", {"B"}),
        ("is_blocked_by = BLOG-1", {"B"}),
        ("blocked_by = 1", {"B"}),
        ("blocked_by = DEMO-1", {"D"}),
        ("blocked_by IN (BLOG-5, DEMO-1)", {"C", "D"}),
        ("blocked_by != BLOG-1", {"A", "C", "D", "E"}),
        ("blocks IS NOT EMPTY", {"A", "E"}),
        ("blocks IS EMPTY", {"B", "C", "D"}),
        ("duplicates = BLOG-1", {"B"}),
        ("duplicated_by = BLOG-2", {"A"}),
        ("relates = BLOG-4", {"C"}),
        ("relates_to = BLOG-3", {"D"}),
        ("is blocked", {"B", "D"}),
        ("Is Blocked AND NOT title = D", {"B"}),
        ("has blockers", {"B", "C", "D"}),
        ("is blocking", {"A", "E"}),
        ("has duplicates", {"A"}),
        ("NOT has blockers", {"A", "E"}),
        ("status != done AND is blocked OR has duplicates", {"A", "B", "D"}),
    ],
)
def test_link_queries(personas, linked, query, expected):
    assert titles(personas, query) == expected


def test_is_blocked_follows_the_blockers_state(personas, linked):
    assert titles(personas, "is blocked") == {"B", "D"}
    services.ticket_close(ticket=linked["A"], by=personas.member)
    assert titles(personas, "is blocked") == {"D"}


def test_keys_the_caller_cannot_see_are_unknown(personas, linked):
    # The admin of BLOG is not in DEMO.
    with pytest.raises(pql.PqlError) as refused:
        titles(personas, "blocked_by = DEMO-1", user=personas.admin)
    assert refused.value.details[0]["message"] == "Unknown ticket 'DEMO-1' at 13"
    with pytest.raises(pql.PqlError):
        titles(personas, "blocks = nonsense")


def test_the_card_list_takes_link_queries(personas, linked):
    response = personas.client("member").get(url("/cards"), {"q": "is blocked"})
    assert response.status_code == 200
    assert sorted(card["title"] for card in response.json()["results"]) == ["B", "D"]
    bad = personas.client("member").get(url("/cards"), {"q": "blocks = NOPE-1"})
    assert bad.status_code == 400


def test_autocomplete_offers_link_fields_and_predicates(personas):
    body = personas.client("member").get(url("/pql/complete"), {"q": ""}).json()
    offered = {suggestion["value"]: suggestion["kind"] for suggestion in body["suggestions"]}
    for name in ("blocks", "blocked_by", "duplicates", "duplicated_by", "relates"):
        assert offered[name] == "field"
    for words in ("is blocked", "is blocking", "has blockers", "has duplicates"):
        assert offered[words] == "keyword"
    narrowed = personas.client("member").get(url("/pql/complete"), {"q": "bloc"}).json()
    assert {s["value"] for s in narrowed["suggestions"]} == {"blocks", "blocked_by"}
