from __future__ import annotations

import csv
import io

import pytest
from django.utils import timezone

from tests.time.conftest import as_user, error_shape, log

URL = "/api/v1/reports/timesheet"
# ISO week 2025-W48 runs from Monday 24 to Sunday 30 November 2025.
WEEK_DAYS = [f"2025-11-{day}" for day in range(24, 31)]


@pytest.fixture
def week(board):
    p = board.p
    log(p.member, board.blog1, 15, "2025-11-23")  # Sunday of the week before
    log(p.member, board.blog1, 30, "2025-11-24")  # Monday
    log(p.member, board.blog1, 45, "2025-11-24")
    log(p.member, board.blog2, 60, "2025-11-26")  # Wednesday
    log(p.member, board.ops1, 20, "2025-11-30")  # Sunday
    log(p.member, board.blog2, 90, "2025-12-01")  # the next Monday
    log(p.admin, board.blog1, 240, "2025-11-25")  # someone else's
    return board


def _sheet(user, query: str) -> dict:
    response = as_user(user).get(f"{URL}?{query}")
    assert response.status_code == 200, response.content
    return response.json()


def test_the_week_runs_monday_to_sunday(week):
    sheet = _sheet(week.p.member, "week=2025-W48")
    assert (sheet["week"], sheet["start"], sheet["end"]) == ("2025-W48", "2025-11-24", "2025-11-30")
    assert (sheet["previous_week"], sheet["next_week"]) == ("2025-W47", "2025-W49")
    assert sheet["days"] == [
        {"date": day, "weekday": name, "minutes": minutes}
        for day, name, minutes in zip(
            WEEK_DAYS, ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"], [75, 0, 60, 0, 0, 0, 20], strict=True
        )
    ]
    assert sheet["rows"] == [
        {
            "ticket": {"id": week.blog1.pk, "key": "BLOG-1", "title": "Write the first post"},
            "minutes": [75, 0, 0, 0, 0, 0, 0],
            "total": 75,
        },
        {
            "ticket": {"id": week.blog2.pk, "key": "BLOG-2", "title": "Pick a theme"},
            "minutes": [0, 0, 60, 0, 0, 0, 0],
            "total": 60,
        },
        {
            "ticket": {"id": week.ops1.pk, "key": "OPS-1", "title": "Rotate the keys"},
            "minutes": [0, 0, 0, 0, 0, 0, 20],
            "total": 20,
        },
    ]
    assert sheet["total_minutes"] == 155


def test_sunday_and_the_next_monday_fall_in_different_weeks(week):
    member = week.p.member
    assert _sheet(member, "date=2025-11-30")["week"] == "2025-W48"  # a Sunday belongs to the week before it
    assert _sheet(member, "date=2025-11-30")["days"][6] == {"date": "2025-11-30", "weekday": "Sun", "minutes": 20}
    next_week = _sheet(member, "date=2025-12-01")
    assert (next_week["week"], next_week["start"], next_week["end"]) == ("2025-W49", "2025-12-01", "2025-12-07")
    assert next_week["days"][0]["minutes"] == 90 and next_week["total_minutes"] == 90
    before = _sheet(member, "week=2025-W47")
    assert before["days"][6] == {"date": "2025-11-23", "weekday": "Sun", "minutes": 15}
    assert before["total_minutes"] == 15
    # Any day of the week gives the same sheet.
    assert _sheet(member, "date=2025-11-27") == _sheet(member, "week=2025-W48")


def test_only_your_own_time(week):
    sheet = _sheet(week.p.admin, "week=2025-W48")
    assert sheet["total_minutes"] == 240
    assert [row["ticket"]["key"] for row in sheet["rows"]] == ["BLOG-1"]
    assert _sheet(week.p.viewer, "week=2025-W48")["total_minutes"] == 0


def test_default_is_this_week(board):
    today = timezone.localdate()
    entry = log(board.p.member, board.blog1, 25)
    sheet = _sheet(board.p.member, "")
    year, number, weekday = today.isocalendar()
    assert sheet["week"] == f"{year}-W{number:02d}"
    assert sheet["days"][weekday - 1] == {"date": entry["date"], "weekday": today.strftime("%a"), "minutes": 25}


def test_week_53_and_the_year_boundary(board):
    # 2026 has 53 ISO weeks (it starts on a Thursday); 2025 has 52.
    sheet = _sheet(board.p.member, "week=2026-W53")
    assert (sheet["start"], sheet["end"], sheet["next_week"]) == ("2026-12-28", "2027-01-03", "2027-W01")
    assert _sheet(board.p.member, "date=2025-12-31")["week"] == "2026-W01"
    assert _sheet(board.p.member, "date=2025-12-28")["week"] == "2025-W52"


def test_the_first_and_last_weeks_that_have_neighbours(board):
    first = _sheet(board.p.member, "week=0001-W02")
    assert (first["start"], first["previous_week"]) == ("0001-01-08", "0001-W01")
    last = _sheet(board.p.member, "date=9999-12-18")
    assert (last["end"], last["next_week"]) == ("9999-12-19", "9999-W51")


@pytest.mark.parametrize(
    "query",
    [
        "week=2025-W53",
        "week=2025-W00",
        "week=2025-48",
        "week=next",
        "date=someday",
        "week=2025-W48&date=2025-11-24",
        # The ends of the calendar: the previous or next week would not exist.
        "week=0001-W01",
        "date=0001-01-03",
        "week=9999-W52",
        "date=9999-12-31",
    ],
)
def test_bad_week_or_date(board, query):
    response = as_user(board.p.member).get(f"{URL}?{query}")
    assert response.status_code == 400, query
    error_shape(response.json(), details=True)


def test_timesheet_needs_a_signed_in_caller(board):
    assert as_user(None).get(URL).status_code == 401


def test_timesheet_is_one_query(week, django_assert_num_queries):
    with django_assert_num_queries(1):
        as_user(week.p.member).get(f"{URL}?week=2025-W48")


def test_timesheet_csv(week):
    response = as_user(week.p.member).get(f"{URL}?week=2025-W48&format=csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="timesheet-2025-W48.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        [
            "ticket",
            "title",
            "Mon 2025-11-24",
            "Tue 2025-11-25",
            "Wed 2025-11-26",
            "Thu 2025-11-27",
            "Fri 2025-11-28",
            "Sat 2025-11-29",
            "Sun 2025-11-30",
            "total",
        ],
        ["BLOG-1", "Write the first post", "75", "0", "0", "0", "0", "0", "0", "75"],
        ["BLOG-2", "Pick a theme", "0", "0", "60", "0", "0", "0", "0", "60"],
        ["OPS-1", "Rotate the keys", "0", "0", "0", "0", "0", "0", "20", "20"],
        ["Total", "", "75", "0", "60", "0", "0", "0", "20", "155"],
    ]
    by_accept = as_user(week.p.member).get(f"{URL}?week=2025-W48", HTTP_ACCEPT="text/csv")
    assert by_accept.content == response.content
