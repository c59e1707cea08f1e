from __future__ import annotations

import csv
import io

from django.utils import timezone

from tests.factories import SprintFactory, TicketFactory
from tests.time.conftest import as_user, error_shape, log, minutes_where

URL = "/api/v1/reports/estimates"


def _estimates(user, query: str) -> dict:
    response = as_user(user).get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_estimate_against_time_spent_per_ticket(board):
    p = board.p
    log(p.member, board.blog1, 90, "2025-11-03")
    log(p.admin, board.blog1, 60, "2025-11-04")
    log(p.member, board.blog3, 30, "2025-11-04")
    TicketFactory(project=p.project, title="Neither estimated nor worked on")
    body = _estimates(p.viewer, "project=blog")
    assert body["project"] == {"id": p.project.pk, "key": "BLOG", "slug": "blog", "name": "Blog"}
    assert body["rows"] == [
        {
            "ticket": {"id": board.blog1.pk, "key": "BLOG-1", "title": "Write the first post", "state": "opened"},
            "estimate": 3,
            "spent_minutes": minutes_where(ticket=board.blog1),
            "spent_hours": 2.5,
        },
        {
            "ticket": {"id": board.blog2.pk, "key": "BLOG-2", "title": "Pick a theme", "state": "opened"},
            "estimate": 5,
            "spent_minutes": 0,
            "spent_hours": 0.0,
        },
        {
            "ticket": {"id": board.blog3.pk, "key": "BLOG-3", "title": "Unestimated", "state": "opened"},
            "estimate": None,
            "spent_minutes": 30,
            "spent_hours": 0.5,
        },
    ]
    assert body["total_estimate"] == 8
    assert body["total_spent_minutes"] == minutes_where(ticket__project=p.project) == 180
    assert body["minutes_per_point"] == round(150 / 8, 1)


def test_sprint_filter_and_deleted_tickets(board):
    sprint = SprintFactory(project=board.p.project)
    board.blog2.sprint = sprint
    board.blog2.save(update_fields=["sprint"])
    log(board.p.member, board.blog1, 30, "2025-11-03")
    assert [row["ticket"]["key"] for row in _estimates(board.p.member, f"project=blog&sprint={sprint.pk}")["rows"]] == [
        "BLOG-2"
    ]
    board.blog1.deleted_at = timezone.now()
    board.blog1.save(update_fields=["deleted_at"])
    body = _estimates(board.p.member, "project=blog")
    assert [row["ticket"]["key"] for row in body["rows"]] == ["BLOG-2"]
    assert body["minutes_per_point"] == 0.0


def test_estimates_role_matrix(board):
    statuses = board.p.matrix("get", f"{URL}?project=blog")
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 200, "member": 200, "admin": 200, "owner": 200}
    assert as_user(board.site_admin).get(f"{URL}?project=ops").status_code == 200


def test_estimates_bad_input(board):
    for query in ("", "project=blog&sprint=abc", "project=blog&sprint=0", "project=blog&sprint=99999999999999999999"):
        response = as_user(board.p.member).get(f"{URL}?{query}")
        assert response.status_code == 400, query
        error_shape(response.json(), details=True)
    response = as_user(board.p.member).get(f"{URL}?project=nope")
    assert response.status_code == 404
    error_shape(response.json())


def test_estimates_query_count_is_constant(board, django_assert_num_queries):
    client = as_user(board.p.member)
    with django_assert_num_queries(2):  # project + tickets with their spent time
        client.get(f"{URL}?project=blog")
    for n in range(10):
        log(board.p.member, TicketFactory(project=board.p.project, estimate=n + 1), 10, "2025-11-03")
    with django_assert_num_queries(2):
        client.get(f"{URL}?project=blog")


def test_estimates_csv(board):
    log(board.p.member, board.blog1, 90, "2025-11-03")
    response = as_user(board.p.member).get(f"{URL}?project=blog&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="estimates-BLOG.csv"'
    assert list(csv.reader(io.StringIO(response.content.decode()))) == [
        ["ticket_key", "title", "state", "estimate", "spent_minutes"],
        ["BLOG-1", "Write the first post", "opened", "3", "90"],
        ["BLOG-2", "Pick a theme", "opened", "5", "0"],
        ["Total", "", "", "8", "90"],
    ]
