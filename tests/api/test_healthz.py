from __future__ import annotations

from django.conf import settings

# tests/realtime/test_redis_outage.py stops a Redis of its own to see "down" and "degraded".
REDIS = "ok" if settings.REDIS_URL else "not_configured"


def test_healthz_checks_the_database_and_the_channel_layer(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "channel_layer": "ok", "redis": REDIS}


class _BrokenLayer:
    async def send(self, channel, message):
        raise ConnectionError("redis is down")

    async def receive(self, channel):
        raise AssertionError("never reached")


def test_healthz_is_503_when_the_channel_layer_is_down(client, db, monkeypatch):
    monkeypatch.setattr("punt.views.get_channel_layer", lambda: _BrokenLayer())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "channel_layer": "error", "redis": REDIS}


def test_healthz_is_503_when_the_database_is_down(client, db, monkeypatch):
    from django.db import connection

    def refuse(*args, **kwargs):
        raise ConnectionError("database is down")

    with monkeypatch.context() as patch:
        patch.setattr(connection, "cursor", refuse)
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "error", "channel_layer": "ok", "redis": REDIS}
