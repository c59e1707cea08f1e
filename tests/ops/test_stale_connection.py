"""A connection kept between requests (DATABASE_CONN_MAX_AGE) or idle in the pool (DATABASE_POOL, the
default on PostgreSQL) that the server dropped (a PostgreSQL restart) is replaced before the next request
uses it, instead of failing it with a 500 (issue 16, item 11; issue 20, item 1).
"""

from __future__ import annotations

import psycopg
import pytest
from django.conf import settings
from django.db import close_old_connections, connection
from rest_framework.test import APIClient

from tests.factories import UserFactory


def test_connections_are_checked_before_reuse():
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.fixture
def kept_connection():
    """The connection kept between requests, as with DATABASE_POOL=0 DATABASE_CONN_MAX_AGE=60."""
    saved, options = connection.settings_dict["CONN_MAX_AGE"], connection.settings_dict["OPTIONS"]
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 60
    connection.settings_dict["OPTIONS"] = {key: value for key, value in options.items() if key != "pool"}
    try:
        yield connection
    finally:
        connection.close()
        connection.settings_dict["CONN_MAX_AGE"], connection.settings_dict["OPTIONS"] = saved, options


def terminate_from_elsewhere(backend_pid: int) -> None:
    """What a server restart does to the connection: its backend goes away."""
    params = connection.get_connection_params()
    with psycopg.connect(**{**params, "options": ""}, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [backend_pid])


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_request_after_the_server_dropped_the_kept_connection_succeeds(kept_connection):
    client = APIClient()
    client.force_authenticate(UserFactory(username="kept"))
    assert client.get("/api/v1/projects").status_code == 200
    close_old_connections()  # the end of that request, as the server runs it: the connection is kept
    with kept_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    close_old_connections()
    terminate_from_elsewhere(pid)
    close_old_connections()  # the next request's start

    response = client.get("/api/v1/projects")

    assert response.status_code == 200
    with kept_connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        assert cursor.fetchone()[0] != pid  # a new connection took its place


def terminate_every_other_backend() -> int:
    """What a server restart does to a pool: every connection to the database goes away."""
    params = connection.get_connection_params()
    params.pop("pool", None)
    with psycopg.connect(**{**params, "options": ""}, autocommit=True) as other:
        rows = other.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return len(rows)


@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_a_request_after_the_server_dropped_the_pooled_connections_succeeds():
    assert connection.pool is not None  # the default on PostgreSQL
    client = APIClient()
    client.force_authenticate(UserFactory(username="pooled"))
    assert client.get("/api/v1/projects").status_code == 200
    close_old_connections()  # the end of that request: the connection goes back to the pool
    assert connection.connection is None
    assert terminate_every_other_backend() >= 1

    for _ in range(3):  # every pooled connection is dead: each is checked and replaced, none fails a request
        assert client.get("/api/v1/projects").status_code == 200
        close_old_connections()
