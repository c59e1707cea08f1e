"""A connection kept between requests (DATABASE_CONN_MAX_AGE) that the server dropped (a PostgreSQL
restart) is replaced before the next request uses it, instead of failing it with a 500 (issue 16, item 11).
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
    """The connection kept between requests, as with DATABASE_CONN_MAX_AGE=60."""
    saved = connection.settings_dict["CONN_MAX_AGE"]
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = 60
    try:
        yield connection
    finally:
        connection.settings_dict["CONN_MAX_AGE"] = saved
        connection.close()


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
