from __future__ import annotations

import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.http import HttpRequest, HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from punt import db, redis_outage
from punt.realtime.backend import redis_client


def _database_ok() -> bool:
    try:
        return db.ping()
    except Exception:  # noqa: BLE001 - any failure means "not healthy", reported below
        return False


def _channel_layer_ok() -> bool:
    layer = get_channel_layer()
    if layer is None:
        return False
    channel = f"healthz.{uuid.uuid4().hex}"
    try:
        async_to_sync(layer.send)(channel, {"type": "healthz.ping"})
        message = async_to_sync(layer.receive)(channel)
    except Exception:  # noqa: BLE001
        return False
    return message.get("type") == "healthz.ping"


def _redis_state() -> str:
    """Redis as this process reaches it: ok, down, or not_configured (no REDIS_URL: the embedded
    layer and cache)."""
    client = redis_client()
    if client is None:
        return "not_configured"
    try:
        client.ping()
    except redis_outage.ERRORS as error:
        redis_outage.outage.failed(error, "healthz")
        return "down"
    redis_outage.outage.succeeded()
    return "ok"


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """200 "ok"; 200 "degraded" while Redis is down (the API still works: rate limits per process,
    no live events), so a load balancer keeps the process; 503 "error" when the database or a
    reachable channel layer fails."""
    redis_state = _redis_state()
    body = {"status": "ok", "database": "ok" if _database_ok() else "error"}
    if redis_state == "down":
        body["channel_layer"] = "down"  # it lives in Redis: not worth a second wait
    else:
        body["channel_layer"] = "ok" if _channel_layer_ok() else "error"
    body["redis"] = redis_state
    if "error" in body.values():
        body["status"] = "error"
        return JsonResponse(body, status=503)
    if redis_state == "down":
        body["status"] = "degraded"
    return JsonResponse(body)


class Ping(APIView):
    """An authenticated no-op: the floor of the stack that benchmarks compare against."""

    api_scope = "projects"

    @extend_schema(
        tags=["system"],
        responses=inline_serializer("Pong", {"pong": serializers.BooleanField()}),
    )
    def get(self, request: Request) -> Response:
        return Response({"pong": True})


@require_GET
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico whatever the page links: send them to the SVG icon."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
