from __future__ import annotations

import itertools
from datetime import timedelta
from unittest import mock

from django.utils import timezone

from projects.models import Column, Membership, Sprint
from tests.factories import ProjectFactory, SprintFactory, TicketFactory, UserFactory
from tickets import services
from tickets.models import Event

Status = Sprint.Status


def sprints_url(personas, suffix: str = "") -> str:
    return f"/api/v1/projects/{personas.project.slug}/sprints{suffix}"


def column(personas, category: str) -> Column:
    return personas.project.columns.get(category=category)


READ_ROW = {"anonymous": 401, "outsider": 404, "viewer": 200, "member": 200, "admin": 200, "owner": 200}
WRITE_ROW = {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 200, "admin": 200, "owner": 200}


# --------------------------------------------------------------------------- role matrices


def test_list_matrix(personas):
    assert personas.matrix("GET", sprints_url(personas)) == READ_ROW


def test_create_matrix(personas):
    statuses = personas.matrix("POST", sprints_url(personas), lambda role: {"name": f"Sprint {role}"})
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 201, "admin": 201, "owner": 201}


def test_detail_matrix(personas):
    sprint = SprintFactory(project=personas.project)
    assert personas.matrix("GET", sprints_url(personas, f"/{sprint.pk}")) == READ_ROW


def test_update_matrix(personas):
    sprint = SprintFactory(project=personas.project)
    assert personas.matrix("PUT", sprints_url(personas, f"/{sprint.pk}"), {"goal": "Ship"}) == WRITE_ROW


def test_delete_matrix(personas):
    counter = itertools.count()
    current: dict[str, int] = {}

    def fresh() -> None:
        current["id"] = SprintFactory(project=personas.project, name=f"Tmp {next(counter)}").pk

    statuses = personas.matrix("DELETE", lambda role: sprints_url(personas, f"/{current['id']}"), fresh=fresh)
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 204, "admin": 204, "owner": 204}


def test_start_matrix(personas):
    sprint = SprintFactory(project=personas.project)

    def fresh() -> None:
        Sprint.objects.filter(pk=sprint.pk).update(status=Status.PLANNED, started_at=None)

    statuses = personas.matrix("POST", sprints_url(personas, f"/{sprint.pk}/start"), fresh=fresh)
    assert statuses == WRITE_ROW


def test_complete_matrix(personas):
    sprint = SprintFactory(project=personas.project)

    def fresh() -> None:
        Sprint.objects.filter(pk=sprint.pk).update(status=Status.ACTIVE, started_at=timezone.now())

    statuses = personas.matrix("POST", sprints_url(personas, f"/{sprint.pk}/complete"), {}, fresh=fresh)
    assert statuses == WRITE_ROW


def test_tickets_matrix(personas):
    sprint = SprintFactory(project=personas.project)
    assert personas.matrix("GET", sprints_url(personas, f"/{sprint.pk}/tickets")) == READ_ROW


def test_burndown_matrix(personas):
    sprint = SprintFactory(project=personas.project)
    assert personas.matrix("GET", sprints_url(personas, f"/{sprint.pk}/burndown")) == READ_ROW


# --------------------------------------------------------------------------- CRUD


def test_create_and_shape(personas, published):
    response = personas.client("member").post(
        sprints_url(personas),
        {"name": "Sprint 1", "goal": "Launch", "start_date": "2026-03-02", "end_date": "2026-03-13"},
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "project_id": personas.project.pk,
        "name": "Sprint 1",
        "goal": "Launch",
        "status": "planned",
        "start_date": "2026-03-02",
        "end_date": "2026-03-13",
        "started_at": None,
        "completed_at": None,
        "ticket_count": 0,
        "done_count": 0,
        "estimate_total": 0,
        "created_at": body["created_at"],
    }
    assert published.names == ["sprint.created"]


def test_dates_must_be_in_order(personas):
    member = personas.client("member")
    response = member.post(
        sprints_url(personas), {"name": "S", "start_date": "2026-03-10", "end_date": "2026-03-01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "end_date"
    sprint = SprintFactory(project=personas.project, start_date="2026-03-10")
    response = member.put(sprints_url(personas, f"/{sprint.pk}"), {"end_date": "2026-03-01"}, format="json")
    assert response.status_code == 400
    sprint.refresh_from_db()
    assert sprint.end_date is None
    assert member.post(sprints_url(personas), {"name": ""}, format="json").status_code == 400


def test_update_and_status_filter(personas, published):
    sprint = SprintFactory(project=personas.project, name="Old")
    SprintFactory(project=personas.project, status=Status.CLOSED)
    member = personas.client("member")
    response = member.put(sprints_url(personas, f"/{sprint.pk}"), {"name": "New", "goal": "G"}, format="json")
    assert (response.json()["name"], response.json()["goal"]) == ("New", "G")
    assert published.names == ["sprint.updated"]
    planned = member.get(sprints_url(personas) + "?status=planned").json()
    assert [s["id"] for s in planned] == [sprint.pk]
    assert member.get(sprints_url(personas) + "?status=nope").status_code == 400


def test_delete_sends_tickets_to_the_backlog_and_spares_the_active(personas):
    sprint = SprintFactory(project=personas.project)
    ticket = TicketFactory(project=personas.project, sprint=sprint)
    member = personas.client("member")
    assert member.delete(sprints_url(personas, f"/{sprint.pk}")).status_code == 204
    ticket.refresh_from_db()
    assert ticket.sprint is None
    active = SprintFactory(project=personas.project, status=Status.ACTIVE)
    response = member.delete(sprints_url(personas, f"/{active.pk}"))
    assert response.status_code == 409
    assert "active" in response.json()["error"]


def test_sprint_of_another_project_is_404(personas):
    foreign = SprintFactory(project=ProjectFactory(key="OTH"))
    assert personas.client("owner").get(sprints_url(personas, f"/{foreign.pk}")).status_code == 404
    assert personas.client("owner").post(sprints_url(personas, f"/{foreign.pk}/start")).status_code == 404


def test_list_query_count_does_not_grow(personas, django_assert_max_num_queries):
    client = personas.client("viewer")
    first = SprintFactory(project=personas.project)
    TicketFactory(project=personas.project, sprint=first, estimate=3)
    with django_assert_max_num_queries(4) as small:
        assert len(client.get(sprints_url(personas)).json()) == 1
    for _ in range(8):
        sprint = SprintFactory(project=personas.project)
        TicketFactory.create_batch(2, project=personas.project, sprint=sprint, estimate=2)
    with django_assert_max_num_queries(len(small.captured_queries)):
        body = client.get(sprints_url(personas)).json()
    assert len(body) == 9
    assert (body[0]["ticket_count"], body[0]["estimate_total"]) == (2, 4)


# --------------------------------------------------------------------------- start and complete


def test_start_sets_status_dates_and_event(personas, published):
    sprint = SprintFactory(project=personas.project)
    response = personas.client("member").post(sprints_url(personas, f"/{sprint.pk}/start"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "active"
    assert body["started_at"] is not None
    assert body["start_date"] == timezone.localdate().isoformat()
    assert published.names == ["sprint.started"]


def test_only_one_active_sprint(personas):
    first = SprintFactory(project=personas.project, name="First")
    second = SprintFactory(project=personas.project, name="Second")
    member = personas.client("member")
    assert member.post(sprints_url(personas, f"/{first.pk}/start")).status_code == 200
    response = member.post(sprints_url(personas, f"/{second.pk}/start"))
    assert response.status_code == 409
    assert response.json() == {"error": "Sprint 'First' is already active; complete it first."}
    # Restarting the active one is refused too, and other projects are independent.
    assert member.post(sprints_url(personas, f"/{first.pk}/start")).status_code == 409
    second.refresh_from_db()
    assert second.status == Status.PLANNED


def test_complete_moves_unfinished_tickets_to_a_planned_sprint(personas, published):
    sprint = SprintFactory(project=personas.project, status=Status.ACTIVE)
    upcoming = SprintFactory(project=personas.project)
    todo = TicketFactory(project=personas.project, sprint=sprint, column=column(personas, "todo"))
    doing = TicketFactory(project=personas.project, sprint=sprint, column=column(personas, "in_progress"))
    done = TicketFactory(project=personas.project, sprint=sprint, column=column(personas, "done"))
    gone = TicketFactory(project=personas.project, sprint=sprint, deleted_at=timezone.now())

    response = personas.client("member").post(
        sprints_url(personas, f"/{sprint.pk}/complete"), {"move_to_sprint_id": upcoming.pk}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["moved"], body["move_to_sprint_id"]) == (2, upcoming.pk)
    assert body["sprint"]["status"] == "closed"
    assert body["sprint"]["completed_at"] is not None
    for ticket, expected in ((todo, upcoming), (doing, upcoming), (done, sprint), (gone, sprint)):
        ticket.refresh_from_db()
        assert ticket.sprint_id == expected.pk
    assert Event.objects.filter(kind="update", ticket__in=[todo, doing]).count() == 2
    [call] = published.named("sprint.completed")
    assert sorted(call["payload"]["moved_ticket_ids"]) == sorted([todo.pk, doing.pk])


def test_complete_to_the_backlog(personas):
    sprint = SprintFactory(project=personas.project, status=Status.ACTIVE)
    ticket = TicketFactory(project=personas.project, sprint=sprint)
    response = personas.client("member").post(sprints_url(personas, f"/{sprint.pk}/complete"), {}, format="json")
    assert response.json()["moved"] == 1
    ticket.refresh_from_db()
    assert ticket.sprint is None
    # Completing frees the slot: another sprint can start.
    nxt = SprintFactory(project=personas.project)
    assert personas.client("member").post(sprints_url(personas, f"/{nxt.pk}/start")).status_code == 200


def test_complete_refusals_leave_everything_as_it_was(personas):
    sprint = SprintFactory(project=personas.project, status=Status.ACTIVE)
    ticket = TicketFactory(project=personas.project, sprint=sprint)
    closed = SprintFactory(project=personas.project, status=Status.CLOSED)
    foreign = SprintFactory(project=ProjectFactory(key="OTH"))
    member = personas.client("member")
    url = sprints_url(personas, f"/{sprint.pk}/complete")
    for target in (closed.pk, foreign.pk, sprint.pk, 999999):
        response = member.post(url, {"move_to_sprint_id": target}, format="json")
        assert response.status_code == 400, target
        assert response.json()["details"][0]["field"] == "move_to_sprint_id"
    ticket.refresh_from_db()
    sprint.refresh_from_db()
    assert (ticket.sprint_id, sprint.status) == (sprint.pk, Status.ACTIVE)
    planned = SprintFactory(project=personas.project)
    response = member.post(sprints_url(personas, f"/{planned.pk}/complete"), {}, format="json")
    assert response.status_code == 409
    assert "active" in response.json()["error"]


# --------------------------------------------------------------------------- tickets and burndown


def test_sprint_tickets_compact_and_query_count(personas, django_assert_max_num_queries):
    sprint = SprintFactory(project=personas.project)
    first = TicketFactory(project=personas.project, sprint=sprint, assignee=personas.member, estimate=3)
    TicketFactory(project=personas.project, deleted_at=timezone.now(), sprint=sprint)
    TicketFactory(project=personas.project)  # not in the sprint
    client = personas.client("viewer")
    url = sprints_url(personas, f"/{sprint.pk}/tickets")
    with django_assert_max_num_queries(5) as small:
        body = client.get(url).json()
    assert body == [
        {
            "id": first.pk,
            "key": f"BLOG-{first.number}",
            "number": first.number,
            "title": first.title,
            "type": "task",
            "status": "todo",
            "state": "opened",
            "priority": "medium",
            "column_id": first.column_id,
            "position": first.rank,
            "assignee": {"id": personas.member.pk, "username": "mary", "name": "Mary", "avatar": None},
            "estimate": 3,
            "due_date": None,
            "closed_at": None,
        }
    ]
    for _ in range(10):
        TicketFactory(project=personas.project, sprint=sprint, assignee=UserFactory())
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(url).json()) == 11


def test_burndown_figures(personas):
    # A ticket stops counting on the day of its completion, its last entry into done (the rule
    # insights' throughput and cycle time share): history made through the services, each step
    # at a chosen instant.
    today = timezone.localdate()
    now = timezone.now()
    project, owner = personas.project, personas.owner
    done, todo = column(personas, "done"), column(personas, "todo")
    sprint = SprintFactory(
        project=project,
        status=Status.ACTIVE,
        start_date=today - timedelta(days=3),
        end_date=today + timedelta(days=2),
    )

    def days_ago(n: int):
        return mock.patch("django.utils.timezone.now", return_value=now - timedelta(days=n))

    with days_ago(4):
        five, three = (
            services.ticket_create(project=project, by=owner, title=f"{n} points", sprint=sprint, estimate=n)
            for n in (5, 3)
        )
        services.ticket_create(project=project, by=owner, title="Two", sprint=sprint, estimate=2)
        services.ticket_create(project=project, by=owner, title="No estimate", sprint=sprint)
        gone = services.ticket_create(project=project, by=owner, title="Gone", sprint=sprint, estimate=8)
        services.ticket_create(project=project, by=owner, title="Elsewhere", estimate=13)  # not in the sprint
    with days_ago(2):
        services.ticket_move(ticket=five, column=done, by=owner)
    services.ticket_move(ticket=three, column=done, by=owner)
    services.ticket_delete(ticket=gone, by=owner)

    url = sprints_url(personas, f"/{sprint.pk}/burndown")
    body = personas.client("viewer").get(url).json()
    day = lambda n: (today + timedelta(days=n)).isoformat()  # noqa: E731
    assert body == {
        "sprint_id": sprint.pk,
        "start_date": day(-3),
        "end_date": day(2),
        "total_estimate": 10,
        "days": [
            {"date": day(-3), "remaining": 10, "ideal": 10.0},
            {"date": day(-2), "remaining": 5, "ideal": 8.0},
            {"date": day(-1), "remaining": 5, "ideal": 6.0},
            {"date": day(0), "remaining": 2, "ideal": 4.0},
            {"date": day(1), "remaining": None, "ideal": 2.0},
            {"date": day(2), "remaining": None, "ideal": 0.0},
        ],
    }
    # Reopened and done again today: the 5 points count until today, their last completion.
    services.ticket_move(ticket=five, column=todo, by=owner)
    services.ticket_move(ticket=five, column=done, by=owner)
    body = personas.client("viewer").get(url).json()
    assert [d["remaining"] for d in body["days"]] == [10, 10, 10, 2, None, None]
    # Reopened and left open: remaining every day.
    services.ticket_move(ticket=five, column=todo, by=owner)
    body = personas.client("viewer").get(url).json()
    assert [d["remaining"] for d in body["days"]] == [10, 10, 10, 7, None, None]


def test_burndown_without_dates_uses_started_at_and_today(personas):
    today = timezone.localdate()
    sprint = SprintFactory(
        project=personas.project, status=Status.ACTIVE, started_at=timezone.now() - timedelta(days=1)
    )
    TicketFactory(project=personas.project, sprint=sprint, estimate=4)
    body = personas.client("viewer").get(sprints_url(personas, f"/{sprint.pk}/burndown")).json()
    assert [(d["date"], d["remaining"], d["ideal"]) for d in body["days"]] == [
        ((today - timedelta(days=1)).isoformat(), 4, 4.0),
        (today.isoformat(), 4, 0.0),
    ]
    planned = SprintFactory(project=personas.project)
    body = personas.client("viewer").get(sprints_url(personas, f"/{planned.pk}/burndown")).json()
    assert (body["start_date"], body["days"]) == (None, [])


def test_sprint_writes_need_projects_scope(personas, api_key_client):
    sprint = SprintFactory(project=personas.project)
    client = api_key_client(personas.member, ["tickets:read", "tickets:write"])
    assert client.post(sprints_url(personas, f"/{sprint.pk}/start")).status_code == 403
    sprint.refresh_from_db()
    assert sprint.status == Status.PLANNED


def test_viewer_promoted_by_staff_flag_acts_as_admin(personas):
    # Site admins act as project admins even when their membership is lower.
    staff_viewer = UserFactory(is_staff=True)
    Membership.objects.create(project=personas.project, user=staff_viewer, role=Membership.Role.VIEWER)
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(staff_viewer)
    assert client.post(sprints_url(personas), {"name": "By staff"}, format="json").status_code == 201


def test_detail_and_burndown_query_counts_do_not_grow(personas, django_assert_max_num_queries):
    sprint = SprintFactory(project=personas.project, start_date=timezone.localdate() - timedelta(days=5))
    client = personas.client("viewer")
    urls = [sprints_url(personas, f"/{sprint.pk}"), sprints_url(personas, f"/{sprint.pk}/burndown")]
    baseline = {}
    for url in urls:
        with django_assert_max_num_queries(4) as captured:
            client.get(url)
        baseline[url] = len(captured.captured_queries)
    TicketFactory.create_batch(10, project=personas.project, sprint=sprint, estimate=1, closed_at=timezone.now())
    for url in urls:
        with django_assert_max_num_queries(baseline[url]):
            client.get(url)
    assert client.get(urls[0]).json()["ticket_count"] == 10
    assert client.get(urls[1]).json()["days"][0]["remaining"] == 10
