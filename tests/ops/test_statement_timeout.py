"""Statement timeouts: a statement running past PUNT_STATEMENT_TIMEOUT_MS is stopped, the request answers
503 in the API's error shape, and the connection serves the next request (issue 16, item 1).

PostgreSQL enforces the setting itself (statement_timeout on every connection); SQLite has a progress
handler that interrupts the statement. Backups, restores, exports and migrations run inside
punt.db.long_statements() with the long timeout.
"""

from __future__ import annotations

import time

import pytest
from django.db import OperationalError, connection
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path
from rest_framework.response import Response
from rest_framework.views import APIView

from punt import db


def endless_sql() -> str:
    """A statement that would run for minutes (until something stops it)."""
    if connection.vendor == "postgresql":
        return "SELECT pg_sleep(60)"
    return "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


# ~0.3-1 s of work on either database: past a 200 ms timeout, well inside a long one.
SECOND_OF_WORK = (
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500000) SELECT count(*) FROM c"
)


def run(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchall()


class SlowApiView(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        quick = request.GET.get("quick")
        return Response({"rows": run("SELECT 1" if quick else endless_sql())})


def slow_page(request):
    run(endless_sql())
    return HttpResponse("never")


urlpatterns = [path("api/test/slow", SlowApiView.as_view()), path("slow-page", slow_page)]


@pytest.fixture
def short_timeout(settings):
    """A 200 ms statement timeout, as a deployment would set it (a fresh PostgreSQL connection)."""
    settings.PUNT_STATEMENT_TIMEOUT_MS = 200
    settings.PUNT_LONG_STATEMENT_TIMEOUT_MS = 60_000
    if connection.vendor != "postgresql":
        yield
        return
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("options")
    options["options"] = "-c statement_timeout=200"
    reconnect()
    try:
        yield
    finally:
        options["options"] = saved
        reconnect()


def reconnect():
    """The next statement runs on a new connection made with the current OPTIONS: pooled
    connections were made with the options the pool started with, so the pool starts again."""
    connection.close()
    if connection.settings_dict["OPTIONS"].get("pool"):
        connection.close_pool()


@pytest.mark.django_db
def test_every_connection_has_the_default_timeout():
    if connection.vendor == "postgresql":
        assert run("SHOW statement_timeout") == [("5s",)]
    assert db.statement_timeout_ms() == 5000


@pytest.mark.django_db(transaction=True)
def test_a_statement_past_its_timeout_is_stopped_and_the_connection_still_works(short_timeout):
    started = time.monotonic()
    with pytest.raises(OperationalError) as raised:
        run(endless_sql())
    assert time.monotonic() - started < 3
    assert db.is_statement_timeout(raised.value)
    assert run("SELECT 1") == [(1,)]


@pytest.mark.django_db(transaction=True)
def test_long_statements_give_a_block_the_long_timeout_and_then_the_short_one_again(short_timeout):
    with pytest.raises(OperationalError):
        run(SECOND_OF_WORK)
    with db.long_statements():
        assert db.statement_timeout_ms() == 60_000
        assert run(SECOND_OF_WORK) == [(1_500_000,)]
    assert db.statement_timeout_ms() == 200
    with pytest.raises(OperationalError):
        run(SECOND_OF_WORK)


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF=__name__)
def test_the_api_answers_503_in_its_error_shape_and_the_next_request_succeeds(short_timeout, client):
    started = time.monotonic()
    response = client.get("/api/test/slow")
    assert time.monotonic() - started < 3
    assert response.status_code == 503
    assert response.json() == {
        "error": "The database took too long to answer this request. Try again, or ask for less."
    }
    assert client.get("/api/test/slow?quick=1").json() == {"rows": [[1]]}


@pytest.mark.django_db(transaction=True)
@override_settings(ROOT_URLCONF=__name__)
def test_a_page_answers_a_plain_503(short_timeout, client):
    response = client.get("/slow-page")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("text/plain")
    assert b"took too long" in response.content
