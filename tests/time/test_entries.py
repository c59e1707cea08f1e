from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_key_create
from projects.models import Project
from tests.factories import TicketFactory
from tests.time.conftest import as_user, error_shape, log
from tickets.models import Event, TimeEntry

URL = "/api/v1/time-entries"


# --------------------------------------------------------------------------- create


def test_log_time_role_matrix(board):
    statuses = board.p.matrix("post", URL, {"ticket": "BLOG-1", "minutes": 30, "date": "2025-11-03"})
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 201, "admin": 201, "owner": 201}
    assert sorted(TimeEntry.objects.values_list("user__username", flat=True)) == ["adam", "mary", "olivia"]


def test_log_time_by_key_or_id_with_defaults(board):
    entry = log(board.p.member, "blog-1", 90, note="  drafted the intro ")
    assert entry == {
        "id": entry["id"],
        "ticket": {"id": board.blog1.pk, "key": "BLOG-1", "title": "Write the first post"},
        "project": {"id": board.p.project.pk, "key": "BLOG", "slug": "blog", "name": "Blog"},
        "user": {"id": board.p.member.pk, "username": "mary", "name": "Mary", "avatar": None},
        "minutes": 90,
        "date": timezone.localdate().isoformat(),
        "note": "drafted the intro",
        "comment_id": None,
        "created_at": entry["created_at"],
    }
    by_id = as_user(board.p.member).post(URL, {"ticket": str(board.blog2.pk), "minutes": 15, "date": "2025-11-03"})
    assert by_id.status_code == 201
    assert by_id.json()["ticket"]["key"] == "BLOG-2"
    assert by_id.json()["date"] == "2025-11-03"
    assert by_id.json()["note"] == ""


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"ticket": "BLOG-1", "minutes": 0}, 400),
        ({"ticket": "BLOG-1", "minutes": -5}, 400),
        ({"ticket": "BLOG-1", "minutes": 24 * 60 + 1}, 400),
        ({"ticket": "BLOG-1", "minutes": "an hour"}, 400),
        ({"ticket": "BLOG-1"}, 400),
        ({"minutes": 30}, 400),
        ({"ticket": "BLOG-1", "minutes": 30, "date": "yesterday"}, 400),
        ({"ticket": "BLOG-1", "minutes": 30, "date": "2999-01-01"}, 400),
        ({"ticket": "BLOG-1", "minutes": 30, "note": "x" * 501}, 400),
        ({"ticket": "BLOG-999", "minutes": 30}, 404),
        ({"ticket": "NOPE-1", "minutes": 30}, 404),
        ({"ticket": "not a key", "minutes": 30}, 404),
        ({"ticket": "999999", "minutes": 30}, 404),
    ],
)
def test_log_time_rejects_bad_input_and_writes_nothing(board, body, code):
    response = as_user(board.p.member).post(URL, body)
    assert response.status_code == code, response.content
    error_shape(response.json(), details=code == 400)
    assert TimeEntry.objects.count() == 0


def test_a_whole_day_is_the_most_one_entry_holds(board):
    assert log(board.p.member, board.blog1, 24 * 60, "2025-11-03")["minutes"] == 1440


def test_outsiders_cannot_tell_a_private_ticket_exists(board):
    response = as_user(board.p.outsider).post(URL, {"ticket": "BLOG-1", "minutes": 30})
    missing = as_user(board.p.outsider).post(URL, {"ticket": "BLOG-999", "minutes": 30})
    assert response.status_code == missing.status_code == 404
    assert response.json() == missing.json()


def test_deleted_tickets_and_archived_projects_take_no_time(board):
    board.blog3.deleted_at = timezone.now()
    board.blog3.save(update_fields=["deleted_at"])
    assert as_user(board.p.member).post(URL, {"ticket": "BLOG-3", "minutes": 30}).status_code == 404
    Project.objects.filter(pk=board.p.project.pk).update(archived_at=timezone.now())
    response = as_user(board.p.member).post(URL, {"ticket": "BLOG-1", "minutes": 30})
    assert response.status_code == 409
    error_shape(response.json())
    assert TimeEntry.objects.count() == 0


def test_api_keys_need_the_tickets_write_scope(board):
    def key_client(scopes: list[str]) -> APIClient:
        _key, raw = api_key_create(user=board.p.member, name=str(scopes), scopes=scopes)
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=raw)
        return client

    body = {"ticket": "BLOG-1", "minutes": 30}
    assert key_client(["tickets:read"]).post(URL, body).status_code == 403
    assert key_client(["chat:write"]).get(URL).status_code == 403
    assert key_client(["tickets:read"]).get(URL).status_code == 200
    assert key_client(["tickets:write"]).post(URL, body).status_code == 201


def test_logging_publishes_an_event_to_the_project(board, monkeypatch):
    from punt import events

    sent: list[tuple[str, dict, int | None]] = []
    monkeypatch.setattr(events, "publish", lambda event, payload, **kw: sent.append((event, payload, kw["project_id"])))
    entry = log(board.p.member, board.blog1, 30, "2025-11-03")
    assert sent == [
        (
            "time_entry.created",
            {
                "id": entry["id"],
                "ticket": {"id": board.blog1.pk, "key": "BLOG-1", "title": "Write the first post"},
                "user_id": board.p.member.pk,
                "minutes": 30,
                "date": "2025-11-03",
            },
            board.p.project.pk,
        )
    ]


# --------------------------------------------------------------------------- update and delete


def test_update_role_matrix(board):
    entry = log(board.p.member, board.blog1, 30, "2025-11-03")
    statuses = board.p.matrix("put", f"{URL}/{entry['id']}", {"minutes": 45})
    # Mary's own entry; project admins and the owner may fix anyone's; viewers see it, cannot change it.
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 200, "admin": 200, "owner": 200}
    assert TimeEntry.objects.get().minutes == 45


def test_members_change_only_their_own_entries(board):
    adams = log(board.p.admin, board.blog1, 30, "2025-11-03")
    response = as_user(board.p.member).put(f"{URL}/{adams['id']}", {"minutes": 1})
    assert response.status_code == 403
    error_shape(response.json())
    assert as_user(board.p.member).delete(f"{URL}/{adams['id']}").status_code == 403
    assert TimeEntry.objects.get().minutes == 30


def test_update_changes_given_fields_only(board):
    entry = log(board.p.member, board.blog1, 30, "2025-11-03", note="first go")
    response = as_user(board.p.member).put(f"{URL}/{entry['id']}", {"date": "2025-11-04"})
    assert response.status_code == 200
    assert (response.json()["minutes"], response.json()["date"], response.json()["note"]) == (
        30,
        "2025-11-04",
        "first go",
    )
    response = as_user(board.p.member).patch(f"{URL}/{entry['id']}", {"note": ""})
    assert response.json()["note"] == ""


@pytest.mark.parametrize(
    "change", [{"minutes": 0}, {"minutes": 1441}, {"date": "2999-01-01"}, {"note": "x" * 501}, {"minutes": None}]
)
def test_update_rejects_bad_input(board, change):
    entry = log(board.p.member, board.blog1, 30, "2025-11-03")
    response = as_user(board.p.member).put(f"{URL}/{entry['id']}", {"note": "kept?", **change})
    assert response.status_code == 400, change
    error_shape(response.json(), details=True)
    row = TimeEntry.objects.get()
    assert (row.minutes, row.note) == (30, "")


def test_a_demoted_member_can_no_longer_change_their_time(board):
    entry = log(board.p.member, board.blog1, 30, "2025-11-03")
    board.p.project.memberships.filter(user=board.p.member).update(role="viewer")
    assert as_user(board.p.member).put(f"{URL}/{entry['id']}", {"minutes": 10}).status_code == 403


def test_delete_role_matrix(board):
    ids: dict[str, int] = {}

    def fresh() -> None:
        TimeEntry.objects.all().delete()
        ids["entry"] = log(board.p.member, board.blog1, 30, "2025-11-03")["id"]

    statuses = board.p.matrix("delete", lambda role: f"{URL}/{ids['entry']}", fresh=fresh)
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 204, "admin": 204, "owner": 204}


def test_get_one_entry(board):
    entry = log(board.p.member, board.blog1, 30, "2025-11-03")
    assert as_user(board.p.viewer).get(f"{URL}/{entry['id']}").json() == entry
    assert as_user(board.p.outsider).get(f"{URL}/{entry['id']}").status_code == 404
    assert as_user(board.p.member).get(f"{URL}/999999").status_code == 404


def test_entries_of_comments_keep_the_comment_in_step(board):
    comments = f"/api/v1/projects/blog/cards/{board.blog1.pk}/comments"
    comment = as_user(board.p.member).post(comments, {"body": "Fixed the intro", "minutes": 40})
    assert comment.status_code == 201, comment.content
    entry = TimeEntry.objects.get()
    assert entry.comment_id == comment.json()["id"]

    response = as_user(board.p.member).put(f"{URL}/{entry.pk}", {"minutes": 25})
    assert response.status_code == 200
    assert response.json()["comment_id"] == entry.comment_id
    assert Event.objects.get(pk=entry.comment_id).minutes == 25

    assert as_user(board.p.member).delete(f"{URL}/{entry.pk}").status_code == 204
    event = Event.objects.get(pk=entry.comment_id)
    assert event.minutes is None and event.deleted_at is None  # the comment itself stays


# --------------------------------------------------------------------------- list


def test_list_shows_only_your_own_entries(board):
    mine = [log(board.p.member, board.blog1, 30, "2025-11-03"), log(board.p.member, board.ops1, 20, "2025-11-05")]
    log(board.p.admin, board.blog1, 60, "2025-11-03")
    response = as_user(board.p.member).get(URL)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert body["results"] == [mine[1], mine[0]]  # newest day first


def test_list_filters(board):
    a = log(board.p.member, board.blog1, 30, "2025-11-03")
    b = log(board.p.member, board.blog2, 20, "2025-11-04")
    c = log(board.p.member, board.ops1, 10, "2025-11-05")
    client = as_user(board.p.member)

    def ids(query: str) -> list[int]:
        response = client.get(f"{URL}?{query}")
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["results"]]

    assert ids("from=2025-11-04") == [c["id"], b["id"]]
    assert ids("to=2025-11-04") == [b["id"], a["id"]]
    assert ids("from=2025-11-04&to=2025-11-04") == [b["id"]]
    assert ids("project=ops") == [c["id"]]
    assert ids("ticket=BLOG-2") == [b["id"]]
    assert ids(f"ticket={a['ticket']['id']}") == [a["id"]]
    assert ids("limit=1&offset=1") == [b["id"]]
    for bad in ("from=soon", "from=2025-11-05&to=2025-11-01"):
        response = client.get(f"{URL}?{bad}")
        assert response.status_code == 400
        error_shape(response.json(), details=True)
    # A project you cannot see is a 404, as everywhere else.
    assert as_user(board.p.viewer).get(f"{URL}?project=ops").status_code == 404


def test_list_query_count_is_constant(board, django_assert_num_queries):
    client = as_user(board.p.member)
    log(board.p.member, board.blog1, 30, "2025-11-03")
    with django_assert_num_queries(2):  # count + page (tickets, projects and users joined)
        client.get(URL)
    day = date(2025, 10, 1)
    for n in range(15):
        log(board.p.member, TicketFactory(project=board.p.project), 10 + n, day + timedelta(days=n))
    with django_assert_num_queries(2):
        response = client.get(URL)
    assert response.json()["count"] == 16


def test_ids_past_64_bits_are_just_not_found(board):
    huge = "9" * 25
    client = as_user(board.p.member)
    assert client.post(URL, {"ticket": huge, "minutes": 30}).status_code == 404
    assert client.get(f"{URL}/{huge}").status_code == 404
    assert client.put(f"{URL}/{huge}", {"minutes": 5}).status_code == 404
    assert client.get(f"{URL}?ticket={huge}").json()["count"] == 0
    assert client.get(f"/api/v1/reports/time?user={huge}").json()["rows"] == []
