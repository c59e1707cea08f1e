from __future__ import annotations

import uuid

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from punt import db


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


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "channel_layer": _channel_layer_ok()}
    healthy = all(checks.values())
    body = {"status": "ok" if healthy else "error", **{k: "ok" if v else "error" for k, v in checks.items()}}
    return JsonResponse(body, status=200 if healthy else 503)


class Ping(APIView):
    """An authenticated no-op: the floor of the stack that benchmarks compare against."""

    api_scope = "projects"

    @extend_schema(
        tags=["system"],
        responses=inline_serializer("Pong", {"pong": serializers.BooleanField()}),
    )
    def get(self, request: Request) -> Response:
        return Response({"pong": True})
