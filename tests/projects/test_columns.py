from __future__ import annotations

import itertools

from projects.models import Column
from tests.factories import ProjectFactory, TicketFactory
from tickets.models import Event, Ticket


def columns_url(personas, suffix: str = "") -> str:
    return f"/api/v1/projects/{personas.project.slug}/columns{suffix}"


def board(personas) -> list[tuple[str, str]]:
    return list(personas.project.columns.order_by("order").values_list("name", "category"))


def col(personas, name: str) -> Column:
    return personas.project.columns.get(name=name)


# --------------------------------------------------------------------------- role matrices


def test_list_matrix(personas):
    assert personas.matrix("GET", columns_url(personas)) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_create_matrix(personas):
    statuses = personas.matrix("POST", columns_url(personas), lambda role: {"name": f"Col {role}"})
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 201, "owner": 201}


def test_update_matrix(personas):
    url = columns_url(personas, f"/{col(personas, 'To Do').pk}")
    statuses = personas.matrix("PUT", url, {"wip_limit": 5})
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 200, "owner": 200}


def test_delete_matrix(personas):
    counter = itertools.count()
    current: dict[str, int] = {}

    def fresh() -> None:
        current["id"] = Column.objects.create(project=personas.project, name=f"Tmp {next(counter)}", order=9).pk

    statuses = personas.matrix("DELETE", lambda role: columns_url(personas, f"/{current['id']}"), fresh=fresh)
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 204, "owner": 204}


def test_reorder_matrix(personas):
    ids = list(personas.project.columns.order_by("order").values_list("pk", flat=True))
    statuses = personas.matrix("PATCH", columns_url(personas, "/reorder"), {"order": ids[::-1]})
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 200, "owner": 200}


# --------------------------------------------------------------------------- list, create, update


def test_list_shape_and_query_count(personas, django_assert_max_num_queries):
    client = personas.client("viewer")
    todo = col(personas, "To Do")
    TicketFactory(project=personas.project, column=todo)
    with django_assert_max_num_queries(4) as small:
        body = client.get(columns_url(personas)).json()
    assert body[0] == {
        "id": todo.pk,
        "project_id": personas.project.pk,
        "name": "To Do",
        "order": 0,
        "category": "todo",
        "wip_limit": None,
        "ticket_count": 1,
        "created_at": body[0]["created_at"],
    }
    for n in range(10):
        column = Column.objects.create(project=personas.project, name=f"Extra {n}", order=10 + n)
        TicketFactory(project=personas.project, column=column)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(columns_url(personas)).json()) == 13


def test_a_board_without_columns_gets_the_defaults(personas):
    personas.project.columns.all().delete()
    body = personas.client("viewer").get(columns_url(personas)).json()
    assert [c["name"] for c in body] == ["To Do", "In Progress", "Done"]


def test_create_appends_with_category_and_wip(personas, published):
    response = personas.client("admin").post(
        columns_url(personas), {"name": "Review", "category": "in_review", "wip_limit": 3}, format="json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["order"], body["category"], body["wip_limit"], body["ticket_count"]) == (
        "Review",
        3,
        "in_review",
        3,
        0,
    )
    assert published.names == ["board.column_created"]
    assert published.calls[0]["payload"]["id"] == body["id"]


def test_create_refusals(personas):
    admin = personas.client("admin")
    duplicate = admin.post(columns_url(personas), {"name": "to do"}, format="json")
    assert duplicate.status_code == 400
    assert duplicate.json()["details"][0]["field"] == "name"
    assert admin.post(columns_url(personas), {"name": "X", "category": "later"}, format="json").status_code == 400
    assert admin.post(columns_url(personas), {"name": "X", "wip_limit": 0}, format="json").status_code == 400
    assert admin.post(columns_url(personas), {"name": ""}, format="json").status_code == 400
    assert len(board(personas)) == 3


def test_update_rename_category_and_clear_wip(personas, published):
    todo = col(personas, "To Do")
    admin = personas.client("admin")
    response = admin.put(columns_url(personas, f"/{todo.pk}"), {"name": "Ready", "wip_limit": 4}, format="json")
    assert (response.json()["name"], response.json()["wip_limit"]) == ("Ready", 4)
    response = admin.put(columns_url(personas, f"/{todo.pk}"), {"wip_limit": None}, format="json")
    assert (response.json()["name"], response.json()["wip_limit"]) == ("Ready", None)
    assert admin.put(columns_url(personas, f"/{todo.pk}"), {"name": "DONE"}, format="json").status_code == 400
    assert published.names == ["board.column_updated", "board.column_updated"]


def test_recategorising_to_done_closes_its_tickets(personas):
    doing = col(personas, "In Progress")
    ticket = TicketFactory(project=personas.project, column=doing)
    personas.client("admin").put(columns_url(personas, f"/{doing.pk}"), {"category": "done"}, format="json")
    ticket.refresh_from_db()
    assert (ticket.state, ticket.closed_at is not None, ticket.closed_by) == ("closed", True, personas.admin)
    personas.client("admin").put(columns_url(personas, f"/{doing.pk}"), {"category": "todo"}, format="json")
    ticket.refresh_from_db()
    assert (ticket.state, ticket.closed_at, ticket.closed_by) == ("opened", None, None)


def test_column_of_another_project_is_404(personas):
    other = ProjectFactory(key="OTH").columns.first()
    assert personas.client("owner").put(columns_url(personas, f"/{other.pk}"), {"name": "x"}).status_code == 404
    assert personas.client("owner").delete(columns_url(personas, f"/{other.pk}")).status_code == 404


# --------------------------------------------------------------------------- reorder


def test_reorder(personas, published):
    todo, doing, done = (col(personas, n) for n in ("To Do", "In Progress", "Done"))
    response = personas.client("admin").patch(
        columns_url(personas, "/reorder"), {"order": [done.pk, todo.pk, doing.pk]}, format="json"
    )
    assert response.status_code == 200
    assert [(c["name"], c["order"]) for c in response.json()] == [("Done", 0), ("To Do", 1), ("In Progress", 2)]
    assert published.calls[0]["event"] == "board.columns_reordered"
    assert published.calls[0]["payload"]["order"] == [done.pk, todo.pk, doing.pk]


def test_reorder_must_list_every_column_once(personas):
    todo, doing, done = (col(personas, n) for n in ("To Do", "In Progress", "Done"))
    foreign = ProjectFactory(key="OTH").columns.first()
    admin = personas.client("admin")
    for order in (
        [todo.pk, doing.pk],
        [todo.pk, doing.pk, done.pk, done.pk],
        [todo.pk, doing.pk, foreign.pk],
        [todo.pk, doing.pk, done.pk, foreign.pk],
        [],
        ["x"],
    ):
        response = admin.patch(columns_url(personas, "/reorder"), {"order": order}, format="json")
        assert response.status_code == 400, order
        assert response.json()["details"][0]["field"].startswith("order")
    assert board(personas) == [("To Do", "todo"), ("In Progress", "in_progress"), ("Done", "done")]


# --------------------------------------------------------------------------- delete


def test_delete_empty_column_closes_the_gap(personas, published):
    doing = col(personas, "In Progress")
    response = personas.client("admin").delete(columns_url(personas, f"/{doing.pk}"))
    # Seed 004: "204 No Content — successful delete" (was 200 with {"moved", "target_column_id"}).
    assert (response.status_code, response.content) == (204, b"")
    assert list(personas.project.columns.values_list("name", "order")) == [("To Do", 0), ("Done", 1)]
    assert published.names == ["board.column_deleted"]


def test_delete_column_with_tickets_needs_a_target(personas):
    todo = col(personas, "To Do")
    TicketFactory(project=personas.project, column=todo)
    response = personas.client("admin").delete(columns_url(personas, f"/{todo.pk}"))
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "target_column_id"
    assert "1 ticket" in response.json()["details"][0]["message"]
    assert Column.objects.filter(pk=todo.pk).exists()


def test_delete_moves_tickets_to_the_end_of_the_target_in_order(personas, published):
    todo, doing = col(personas, "To Do"), col(personas, "In Progress")
    existing = [TicketFactory(project=personas.project, column=doing) for _ in range(2)]
    moving = [TicketFactory(project=personas.project, column=todo) for _ in range(3)]
    # Shuffle ranks so the order to keep is not the creation order.
    for ticket, rank in zip(moving, (3000, 1000, 2000), strict=True):
        Ticket.objects.filter(pk=ticket.pk).update(rank=rank)
    expected_moving = [moving[1].pk, moving[2].pk, moving[0].pk]

    response = personas.client("admin").delete(columns_url(personas, f"/{todo.pk}?target={doing.pk}"))
    assert (response.status_code, response.content) == (204, b"")
    in_doing = list(Ticket.objects.filter(column=doing).order_by("rank", "id").values_list("pk", flat=True))
    assert in_doing == [t.pk for t in existing] + expected_moving
    ranks = list(Ticket.objects.filter(column=doing).order_by("rank").values_list("rank", flat=True))
    assert len(set(ranks)) == len(ranks)
    assert Event.objects.filter(kind="action", text="move", ticket_id__in=expected_moving).count() == 3
    [call] = published.named("board.column_deleted")
    assert call["payload"]["moved_ticket_ids"] == expected_moving
    assert call["payload"]["target_column_id"] == doing.pk


def test_delete_target_in_json_body_and_done_target_closes(personas):
    todo, done = col(personas, "To Do"), col(personas, "Done")
    ticket = TicketFactory(project=personas.project, column=todo)
    response = personas.client("owner").delete(
        columns_url(personas, f"/{todo.pk}"), {"target_column_id": done.pk}, format="json"
    )
    assert response.status_code == 204
    ticket.refresh_from_db()
    assert (ticket.column_id, ticket.state) == (done.pk, "closed")


def test_delete_moves_soft_deleted_tickets_without_needing_a_target(personas):
    from django.utils import timezone

    todo = col(personas, "To Do")
    ghost = TicketFactory(project=personas.project, column=todo, deleted_at=timezone.now())
    assert personas.client("admin").delete(columns_url(personas, f"/{todo.pk}")).status_code == 204
    ghost.refresh_from_db()
    assert ghost.column == col(personas, "In Progress")


def test_delete_bad_targets(personas):
    todo = col(personas, "To Do")
    TicketFactory(project=personas.project, column=todo)
    foreign = ProjectFactory(key="OTH").columns.first()
    admin = personas.client("admin")
    for target in (todo.pk, foreign.pk, 999999, "abc"):
        response = admin.delete(columns_url(personas, f"/{todo.pk}?target={target}"))
        assert response.status_code == 400, target
        assert response.json()["details"][0]["field"] == "target_column_id"
    assert Ticket.objects.filter(column=todo).count() == 1


def test_the_last_column_stays(personas):
    admin = personas.client("admin")
    for name in ("To Do", "In Progress"):
        assert admin.delete(columns_url(personas, f"/{col(personas, name).pk}")).status_code == 204
    response = admin.delete(columns_url(personas, f"/{col(personas, 'Done').pk}"))
    assert response.status_code == 409
    assert response.json() == {"error": "A board keeps at least one column."}


def test_column_writes_need_projects_scope(personas, api_key_client):
    client = api_key_client(personas.owner, ["tickets:write"])
    assert client.post(columns_url(personas), {"name": "Nope"}, format="json").status_code == 403
    assert len(board(personas)) == 3
