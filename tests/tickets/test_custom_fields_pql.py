"""PQL over custom fields (issue 21): every type's operators, by name, quoted name and cf[...],
both readings of the plan (the ORM query and the Python test over load_facts) agreeing with the
expected tickets, errors with positions, and completion of names and options."""

from __future__ import annotations

import pytest

from tests.tickets.helpers import url
from tickets import pql
from tickets.pql import complete
from tickets.services import custom_fields as cf

pytestmark = pytest.mark.django_db


@pytest.fixture
def board(personas, make_card):
    """Five cards: a..e, with values of every type (c and e have none)."""
    project, admin = personas.project, personas.admin
    cf.custom_field_create(project=project, by=admin, name="Severity", type="select", options=["S1", "S2", "S3"])
    cf.custom_field_create(project=project, by=admin, name="Customer tier", type="text")
    cf.custom_field_create(project=project, by=admin, name="Hours", type="number", unit="h")
    cf.custom_field_create(project=project, by=admin, name="Promised", type="date")
    cf.custom_field_create(project=project, by=admin, name="Areas", type="multi_select", options=["api", "ui", "db"])
    cf.custom_field_create(project=project, by=admin, name="Owner", type="user")
    cf.custom_field_create(project=project, by=admin, name="Billable", type="checkbox")
    cf.custom_field_create(project=project, by=admin, name="Spec", type="url")
    cf.custom_field_create(project=project, by=admin, name="Priority", type="number")  # shadowed by the built-in
    values = {
        "a": {
            "severity": "S1",
            "customer_tier": "ACME Gold",
            "hours": 2,
            "promised": "2026-03-01",
            "areas": ["api", "ui"],
            "owner": "adam",
            "billable": True,
            "spec": "https://example.com/a",
            "priority": 7,
        },
        "b": {
            "severity": "S2",
            "customer_tier": "Initech",
            "hours": 10.5,
            "promised": "2026-04-01",
            "areas": ["db"],
            "owner": "mary",
            "billable": False,
        },
        "c": {},
        "d": {"severity": "S3", "customer_tier": "acme gold", "hours": 0, "areas": ["ui"]},
        "e": {},
    }
    return {title: make_card(title, custom_fields=fields).pk for title, fields in values.items()}


def found(personas, board, query: str) -> set[str]:
    """The titles the query finds, checked to be the same through the ORM and through facts."""
    scope = pql.project_scope(personas.project, personas.member)
    compiled = pql.compile_query(query, scope)
    by_orm = set(personas.project.tickets.filter(compiled.q()).values_list("title", flat=True))
    facts = pql.load_facts(board.values())
    names = {pk: title for title, pk in board.items()}
    by_facts = {names[pk] for pk, fact in facts.items() if compiled.test(fact)}
    assert by_orm == by_facts, query
    return by_orm


CASES = [
    # select
    ("Severity = S1", {"a"}),
    ("severity = s2", {"b"}),
    ("Severity != S1", {"b", "d"}),
    ("Severity IN (S1, S3)", {"a", "d"}),
    ("Severity NOT IN (S1)", {"b", "d"}),
    ("Severity IS EMPTY", {"c", "e"}),
    ("Severity IS NOT EMPTY", {"a", "b", "d"}),
    ("NOT Severity = S1", {"b", "c", "d", "e"}),
    # text, by quoted name and by key
    ('"Customer tier" = "acme gold"', {"a", "d"}),
    ("customer_tier ~ init", {"b"}),
    ('"Customer tier" !~ acme', {"b", "c", "e"}),
    ('"Customer tier" != Initech', {"a", "d"}),
    ('"Customer tier" IN (Initech, "ACME gold")', {"a", "b", "d"}),
    ("cf[customer_tier] IS EMPTY", {"c", "e"}),
    # number
    ("Hours >= 2", {"a", "b"}),
    ("cf[Hours] < 2", {"d"}),
    ("hours = 10.5", {"b"}),
    ("Hours != 0", {"a", "b"}),
    ("Hours IN (0, 2)", {"a", "d"}),
    # date
    ("Promised > 2026-03-01", {"b"}),
    ("Promised <= 2026-03-01", {"a"}),
    ("Promised IS EMPTY", {"c", "d", "e"}),
    # multi select: = holds the option
    ("Areas = ui", {"a", "d"}),
    ("Areas != ui", {"b"}),
    ("Areas IN (db, api)", {"a", "b"}),
    ("Areas NOT IN (ui)", {"b"}),
    # user, checkbox, url
    ("Owner = adam", {"a"}),
    ("Owner = me()", {"b"}),
    ("Owner != adam", {"b"}),
    ("Billable = true", {"a"}),
    ("Billable = no", {"b"}),
    ("Spec ~ example.com", {"a"}),
    # a built-in name wins; cf[...] reaches the custom field of that name
    ("priority = medium", {"a", "b", "c", "d", "e"}),
    ("cf[Priority] > 5", {"a"}),
    ('"cf[Customer tier]" ~ gold', {"a", "d"}),
    # combined with built-ins
    ("Severity IN (S1, S2) AND Hours > 5 OR title = e", {"b", "e"}),
]


@pytest.mark.parametrize(("query", "expected"), CASES)
def test_custom_field_conditions(personas, board, query, expected):
    assert found(personas, board, query) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("Severity = S9", "Unknown option 'S9' of Severity at 11"),
        ("Severity > S1", "'>' does not apply to Severity at 0"),
        ("Hours = many", "Expected a number for Hours but found 'many' at 8"),
        ("cf[Nope] = 1", "Unknown custom field 'cf[Nope]' at 0"),
        ("Billable = maybe", "Expected true or false for Billable at 11"),
        ("Owner = nobody", "Unknown user 'nobody' at 8"),
        ("Promised = someday", "Expected a date"),
        ("Hours > 1 ORDER BY Hours", "Cannot order by a custom field (Hours) at 19"),
    ],
)
def test_bad_conditions_are_400_with_positions(personas, board, query, message):
    response = personas.client("member").get(url("/cards"), {"q": query})
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)


def test_deleted_field_is_unknown_to_pql(personas, board):
    field = personas.project.custom_fields.get(key="severity")
    cf.custom_field_delete(field=field, by=personas.admin, confirm=True)
    response = personas.client("member").get(url("/cards"), {"q": "Severity = S1"})
    assert response.status_code == 400


def test_list_filter_through_the_api(personas, board):
    response = personas.client("viewer").get(url("/cards"), {"q": "Severity = S1 OR Areas = db"})
    assert response.status_code == 200
    assert sorted(card["title"] for card in response.json()["results"]) == ["a", "b"]


def test_completion_offers_custom_field_names_and_options(personas, board):
    project = personas.project
    fields = complete.complete("Sev", 3, project=project).as_json()["suggestions"]
    assert {
        "kind": "field",
        "value": "Severity",
        "label": "Severity",
        "detail": "custom field: single select",
    } in fields
    spaced = complete.complete("Custo", 5, project=project).as_json()["suggestions"]
    assert any(item["value"] == '"Customer tier"' for item in spaced)
    options = complete.complete("Severity = ", 11, project=project).as_json()["suggestions"]
    assert [item["value"] for item in options] == ["S1", "S2", "S3"]
    areas = complete.complete('"Areas" IN (a', 13, project=project).as_json()["suggestions"]
    assert [item["value"] for item in areas] == ["api"]
    operators = complete.complete("Hours ", 6, project=project).as_json()["suggestions"]
    assert [item["value"] for item in operators][:6] == ["=", "!=", ">", ">=", "<", "<="]
