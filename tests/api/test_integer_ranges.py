"""Out-of-range integers are a 400 (or a 404 for an id in a path), never a database error.

Before: `wip_limit` 2^31 was a DataError on PostgreSQL and 2^63 an OverflowError on SQLite;
`?sprint=`, `?assignee=`, `?parent=` at 2^63 and 5,000 label ids were 500s on SQLite.
The sweep sends each boundary value to every integer input the OpenAPI schema lists (path,
query and JSON body), plus the inputs that carry ids inside strings; it runs on SQLite and
on PostgreSQL (DATABASE_URL) alike.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from punt.api.fields import MAX_IDS
from tests.factories import LabelFactory, SprintFactory, TicketFactory

pytestmark = pytest.mark.django_db

OUT_OF_RANGE = [2**31, 2**63, -(2**63) - 1]
# Bodies the operations accept, so an out-of-range value is the only thing wrong with them.
VALID_BODIES = {
    "/api/v1/projects/{slug}/columns": {"name": "Review"},
    "/api/v1/projects/{slug}/columns/{column_id}/cards": {"title": "Write"},
    "/api/v1/projects/{slug}/ticket": {"title": "Write"},
    "/api/projects/{project_id}/tickets": {"title": "Write"},
    "/api/v1/projects/{slug}/cards/{card_id}/comments": {"body": "Looks good"},
}


@pytest.fixture
def board(personas):
    personas.owner.is_staff = personas.owner.is_superuser = True
    personas.owner.save()
    ticket = TicketFactory(project=personas.project)
    LabelFactory(project=personas.project)
    SprintFactory(project=personas.project)
    column = personas.project.columns.first()
    return {
        "slug": "blog",
        "project_id": "BLOG",
        "owner": "olivia",
        "project": "blog",
        "column_id": str(column.pk),
        "card_id": f"BLOG-{ticket.number}",
        "key": f"BLOG-{ticket.number}",
        "number": str(ticket.number),
    }


def schema(client) -> dict[str, Any]:
    return yaml.safe_load(client.get("/api/schema/").content)


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = document["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def integer_inputs(document: dict[str, Any]) -> list[tuple[str, str, str, str, bool]]:
    """(method, path, where, name, is_list) for every integer parameter and JSON body field."""
    inputs = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if _resolve(document, parameter.get("schema", {})).get("type") == "integer":
                    inputs.append((method, path, parameter["in"], parameter["name"], False))
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if body is None:
                continue
            for name, field in _resolve(document, body["schema"]).get("properties", {}).items():
                field = _resolve(document, field)
                if field.get("readOnly"):
                    continue
                if field.get("type") == "integer":
                    inputs.append((method, path, "body", name, False))
                elif field.get("type") == "array" and _resolve(document, field["items"]).get("type") == "integer":
                    inputs.append((method, path, "body", name, True))
    return inputs


def url_of(path: str, values: dict[str, str]) -> str:
    # Kinds of object the board does not make (hooks, messages...) get id 1: a 404, still no 500.
    return re.sub(r"\{(\w+)\}", lambda match: values.get(match.group(1), "1"), path)


def assert_refused(response, *, allowed=(400, 404)) -> None:
    assert response.status_code in allowed, (response.status_code, response.content[:300])
    assert isinstance(response.json()["error"], str)


def test_the_sweep_finds_the_inputs_that_failed(personas):
    found = {(path, name) for _, path, _, name, _ in integer_inputs(schema(personas.client("owner")))}
    assert ("/api/v1/projects/{slug}/columns/{column_id}", "wip_limit") in found
    assert ("/api/v1/projects/{slug}/columns/{column_id}", "column_id") in found
    assert ("/api/v1/projects/{slug}/cards", "limit") in found
    assert len(found) > 60


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_every_integer_input_refuses_out_of_range_values(personas, board, value):
    client = personas.client("owner")  # also a site admin: every operation is open to them
    failures = []
    for method, path, where, name, is_list in integer_inputs(schema(client)):
        values = dict(board)
        body = dict(VALID_BODIES.get(path, {})) if method != "get" else None
        query = ""
        if where == "path":
            values[name] = str(value)
        elif where == "query":
            query = f"?{name}={value}"
        else:
            body = {**(body or {}), name: [value] if is_list else value}
        response = getattr(client, method)(url_of(path, values) + query, body, format="json")
        # 2^31 is a fine id (ids are 64-bit): only a 5xx, or a 4xx in another shape, is wrong.
        refused_badly = response.status_code >= 400 and not isinstance(response.json().get("error"), str)
        if response.status_code >= 500 or refused_badly:
            failures.append((method, path, name, response.status_code))
    assert failures == []


@pytest.mark.parametrize("value", OUT_OF_RANGE[1:])
@pytest.mark.parametrize(
    "url",
    ["/api/v1/projects/blog/cards", "/api/v1/projects/blog/board", "/api/projects/BLOG/tickets"],
)
@pytest.mark.parametrize("name", ["sprint", "assignee", "reporter", "parent"])
def test_card_filters_refuse_ids_past_64_bits(personas, board, url, name, value):
    response = personas.client("member").get(url, {name: str(abs(value))})

    assert response.status_code == 400
    [detail] = response.json()["details"]
    # The PUNT dialect names the fields its own way (sprintId).
    assert detail["field"] in (name, f"{name}Id")
    assert detail["message"] == f"'{abs(value)}' is not a valid id."


@pytest.mark.parametrize("value", OUT_OF_RANGE)
@pytest.mark.parametrize("method", ["post", "patch"])
def test_wip_limit_past_32_bits_is_400(personas, board, method, value):
    url = "/api/v1/projects/blog/columns" + ("" if method == "post" else f"/{board['column_id']}")
    response = getattr(personas.client("admin"), method)(url, {"name": "Review", "wip_limit": value}, format="json")

    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "wip_limit"


@pytest.mark.parametrize(
    ("url", "field"),
    [("/api/v1/projects/blog/ticket", "labels"), ("/api/projects/BLOG/tickets", "labelIds")],
)
def test_thousands_of_label_ids_are_400(personas, board, url, field):
    labels = [str(i) for i in range(1, 5_001)]
    response = personas.client("member").post(url, {"title": "Write", field: labels}, format="json")

    assert response.status_code == 400
    assert response.json() == {
        "error": "Validation failed",
        "details": [{"field": field, "message": f"Ensure this field has no more than {MAX_IDS} elements."}],
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"assignee": str(2**63)}, "assignee"),
        ({"parent": str(2**63)}, "parent"),
        ({"labels": [str(2**63)]}, "labels"),
        ({"sprint_id": 2**63}, "sprint_id"),
        ({"estimate": 2**31}, "estimate"),
    ],
)
def test_ids_and_numbers_in_card_bodies(personas, board, body, field):
    response = personas.client("member").post("/api/v1/projects/blog/ticket", {"title": "Write", **body}, format="json")

    assert_refused(response, allowed=(400,))
    assert response.json()["details"][0]["field"].startswith(field)


@pytest.mark.parametrize("value", OUT_OF_RANGE)
def test_ids_past_64_bits_in_paths_are_404(personas, board, value):
    response = personas.client("member").get(f"/api/v1/projects/blog/labels/{abs(value)}")

    assert_refused(response, allowed=(404,))
