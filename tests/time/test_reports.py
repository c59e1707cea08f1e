from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from django.utils import timezone

from tests.factories import TicketFactory
from tests.time.conftest import as_user, error_shape, log, minutes_where
from tickets.models import TimeEntry

URL = "/api/v1/reports/time"


@pytest.fixture
def logged(board):
    """Time by mary and adam on BLOG and by mary on OPS, over a week of November 2025."""
    p = board.p
    log(p.member, board.blog1, 30, "2025-11-03")
    log(p.member, board.blog1, 45, "2025-11-04")
    log(p.member, board.blog2, 60, "2025-11-04")
    log(p.admin, board.blog1, 15, "2025-11-05")
    log(p.admin, board.blog3, 120, "2025-11-07")
    log(p.owner, board.blog2, 5, "2025-11-09")
    log(p.member, board.ops1, 50, "2025-11-04")
    log(board.ops_owner, board.ops1, 25, "2025-11-10")
    return board


def _report(user, query: str = "") -> dict:
    response = as_user(user).get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_totals_by_project_match_the_entries(logged):
    body = _report(logged.p.member, "group_by=project")
    assert body["group_by"] == "project"
    assert (body["from"], body["to"]) == (None, None)
    assert [(row["project"]["key"], row["minutes"], row["entries"]) for row in body["rows"]] == [
        ("BLOG", minutes_where(ticket__project__key="BLOG"), 6),
        ("OPS", minutes_where(ticket__project__key="OPS"), 2),
    ]
    assert body["rows"][0]["project"] == {"id": logged.p.project.pk, "key": "BLOG", "slug": "blog", "name": "Blog"}
    assert body["rows"][0]["hours"] == round(275 / 60, 2)
    assert body["total_minutes"] == minutes_where() == 350
    assert body["total_entries"] == TimeEntry.objects.count()


def test_totals_by_user_ticket_and_day(logged):
    member = logged.p.member
    by_user = _report(member, "group_by=user")["rows"]
    assert [(row["user"]["username"], row["minutes"]) for row in by_user] == [
        (name, minutes_where(user__username=name)) for name in ("adam", "mary", "olivia", "otto")
    ]
    assert by_user[1]["user"] == {"id": member.pk, "username": "mary", "name": "Mary"}

    by_ticket = _report(member, "group_by=ticket")["rows"]
    assert [(row["ticket"]["key"], row["minutes"], row["estimate"]) for row in by_ticket] == [
        ("BLOG-1", minutes_where(ticket=logged.blog1), 3),
        ("BLOG-2", minutes_where(ticket=logged.blog2), 5),
        ("BLOG-3", minutes_where(ticket=logged.blog3), None),
        ("OPS-1", minutes_where(ticket=logged.ops1), 2),
    ]
    assert by_ticket[0]["ticket"] == {
        "id": logged.blog1.pk,
        "key": "BLOG-1",
        "title": "Write the first post",
        "state": "opened",
    }

    by_day = _report(member, "group_by=day")["rows"]
    days = sorted(set(TimeEntry.objects.values_list("date", flat=True)))
    assert [(row["date"], row["minutes"]) for row in by_day] == [(d.isoformat(), minutes_where(date=d)) for d in days]
    assert by_day[1] == {"date": "2025-11-04", "minutes": 155, "hours": 2.58, "entries": 3}


def test_default_grouping_is_by_project(logged):
    assert _report(logged.p.member)["group_by"] == "project"


def test_range_and_filters(logged):
    member = logged.p.member
    body = _report(member, "group_by=day&from=2025-11-04&to=2025-11-07")
    assert (body["from"], body["to"]) == ("2025-11-04", "2025-11-07")
    assert [row["date"] for row in body["rows"]] == ["2025-11-04", "2025-11-05", "2025-11-07"]
    assert body["total_minutes"] == minutes_where(date__gte=date(2025, 11, 4), date__lte=date(2025, 11, 7))

    assert _report(member, "project=blog")["total_minutes"] == minutes_where(ticket__project__key="BLOG")
    assert _report(member, "user=adam")["total_minutes"] == minutes_where(user__username="adam")
    assert _report(member, f"user={member.pk}")["total_minutes"] == minutes_where(user=member)
    assert _report(member, "ticket=BLOG-2")["total_minutes"] == minutes_where(ticket=logged.blog2)
    assert _report(member, f"ticket={logged.ops1.pk}&group_by=user")["rows"][0]["minutes"] == 50
    combined = _report(member, "group_by=ticket&project=blog&user=mary&from=2025-11-04")
    assert [(row["ticket"]["key"], row["minutes"]) for row in combined["rows"]] == [("BLOG-1", 45), ("BLOG-2", 60)]
    assert _report(member, "user=nobody")["rows"] == []


def test_only_projects_the_caller_can_see(logged):
    p = logged.p
    # victor is a viewer of BLOG only: OPS time (even mary's) is not his to see.
    viewer = _report(p.viewer, "group_by=user")
    assert viewer["total_minutes"] == minutes_where(ticket__project__key="BLOG")
    assert [row["user"]["username"] for row in viewer["rows"]] == ["adam", "mary", "olivia"]
    assert _report(p.outsider) == {
        "group_by": "project",
        "from": None,
        "to": None,
        "total_minutes": 0,
        "total_hours": 0.0,
        "total_entries": 0,
        "rows": [],
    }
    assert _report(logged.site_admin)["total_minutes"] == minutes_where()
    assert _report(logged.ops_owner)["total_minutes"] == minutes_where(ticket__project__key="OPS")
    response = as_user(p.viewer).get(f"{URL}?project=ops")
    assert response.status_code == 404
    error_shape(response.json())


def test_report_needs_a_signed_in_caller(logged):
    response = as_user(None).get(URL)
    assert response.status_code == 401
    error_shape(response.json())


def test_deleted_tickets_drop_out_and_archived_projects_stay(logged):
    logged.blog3.deleted_at = timezone.now()
    logged.blog3.save(update_fields=["deleted_at"])
    assert _report(logged.p.member)["total_minutes"] == minutes_where() - 120
    logged.ops.archived_at = timezone.now()
    logged.ops.save(update_fields=["archived_at"])
    assert _report(logged.p.member, "project=ops")["total_minutes"] == 75


@pytest.mark.parametrize("query", ["group_by=week", "from=2025-13-01", "from=2025-11-05&to=2025-11-04", "to=tomorrow"])
def test_bad_report_parameters(logged, query):
    response = as_user(logged.p.member).get(f"{URL}?{query}")
    assert response.status_code == 400, query
    error_shape(response.json(), details=True)


def test_comments_that_log_time_show_up_in_reports(board):
    comments = "/api/v1/projects/blog/cards/BLOG-1/comments"
    response = as_user(board.p.member).post(comments, {"body": "Wrote 500 words", "minutes": 45})
    assert response.status_code == 201, response.content
    as_user(board.p.member).post(comments, {"body": "Just a remark"})
    log(board.p.member, board.blog1, 15, "2025-11-03")
    today = timezone.localdate().isoformat()
    body = _report(board.p.viewer, "group_by=day")
    assert body["total_minutes"] == 60
    assert {row["date"]: row["minutes"] for row in body["rows"]} == {"2025-11-03": 15, today: 45}
    assert _report(board.p.member, "group_by=ticket")["rows"][0]["minutes"] == 60
    # Deleting the comment takes its time out of the reports.
    comment_id = response.json()["id"]
    assert as_user(board.p.member).delete(f"{comments}/{comment_id}").status_code == 204
    assert _report(board.p.member)["total_minutes"] == 15


def test_report_is_one_query_whatever_the_size(logged, django_assert_num_queries):
    client = as_user(logged.p.member)
    for group_by in ("project", "user", "ticket", "day"):
        with django_assert_num_queries(1):
            client.get(f"{URL}?group_by={group_by}")
    for n in range(10):
        log(logged.p.member, TicketFactory(project=logged.p.project), 5 + n, date(2025, 10, 1 + n))
    for group_by in ("project", "user", "ticket", "day"):
        with django_assert_num_queries(1):
            client.get(f"{URL}?group_by={group_by}")
    with django_assert_num_queries(2):  # + the project lookup
        client.get(f"{URL}?group_by=ticket&project=blog")


# --------------------------------------------------------------------------- CSV


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="time-report-')
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_csv_export_by_project_and_ticket(logged):
    client = as_user(logged.p.member)
    rows = _csv(client.get(f"{URL}?format=csv"))
    assert rows == [
        ["project_key", "project_name", "minutes", "hours", "entries"],
        ["BLOG", "Blog", "275", "4.58", "6"],
        ["OPS", "Ops", "75", "1.25", "2"],
        ["Total", "", "350", "5.83", "8"],
    ]
    rows = _csv(client.get(f"{URL}?group_by=ticket&project=blog", HTTP_ACCEPT="text/csv"))
    assert rows == [
        ["ticket_key", "title", "estimate", "minutes", "hours", "entries"],
        ["BLOG-1", "Write the first post", "3", "90", "1.5", "3"],
        ["BLOG-2", "Pick a theme", "5", "65", "1.08", "2"],
        ["BLOG-3", "Unestimated", "", "120", "2.0", "1"],
        ["Total", "", "", "275", "4.58", "6"],
    ]


def test_csv_export_by_user_and_day(logged):
    client = as_user(logged.p.viewer)
    rows = _csv(client.get(f"{URL}?format=csv&group_by=user"))
    assert rows[0] == ["username", "name", "minutes", "hours", "entries"]
    assert rows[1:] == [
        ["adam", "Adam", "135", "2.25", "2"],
        ["mary", "Mary", "135", "2.25", "3"],
        ["olivia", "Olivia", "5", "0.08", "1"],
        ["Total", "", "275", "4.58", "6"],
    ]
    rows = _csv(client.get(f"{URL}?format=csv&group_by=day&to=2025-11-04"))
    assert rows == [
        ["date", "minutes", "hours", "entries"],
        ["2025-11-03", "30", "0.5", "1"],
        ["2025-11-04", "105", "1.75", "2"],
        ["Total", "135", "2.25", "3"],
    ]


def test_csv_cells_cannot_smuggle_formulas(board):
    evil = TicketFactory(project=board.p.project, title='=HYPERLINK("http://evil.example","click")')
    log(board.p.member, evil, 10, "2025-11-03")
    rows = list(
        csv.reader(io.StringIO(as_user(board.p.member).get(f"{URL}?format=csv&group_by=ticket").content.decode()))
    )
    assert rows[1][1] == '\'=HYPERLINK("http://evil.example","click")'


def test_csv_errors_stay_json(logged):
    response = as_user(logged.p.member).get(f"{URL}?format=csv&group_by=week")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    error_shape(response.json(), details=True)
    response = as_user(None).get(f"{URL}?format=csv")
    assert response.status_code == 401
    error_shape(response.json())
