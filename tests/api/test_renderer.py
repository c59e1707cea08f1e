"""The API's JSON renderer writes exactly what DRF's JSONRenderer writes, faster."""

from __future__ import annotations

import datetime
import decimal
import uuid

import pytest
from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from punt.api.renderers import FastJSONRenderer

SAMPLES = [
    {"pong": True},
    [],
    {"text": 'Grüße, 日本語, emoji 🎉, quotes " and \\ backslash, line\nbreak, tab\t'},
    {"separators": "\u2028 and \u2029 in a string"},
    {"at": datetime.datetime(2026, 11, 24, 15, 4, 5, 123456, tzinfo=datetime.UTC)},
    {"at": datetime.datetime(2026, 11, 24, 15, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))},
    {"naive": datetime.datetime(2026, 1, 2, 3, 4, 5), "day": datetime.date(2026, 2, 3), "time": datetime.time(4, 5)},
    {"estimate": decimal.Decimal("2.50"), "id": uuid.UUID("12345678-1234-5678-1234-567812345678")},
    {"lazy": gettext_lazy("Not found")},
    {1: "int keys", 2: [1, 2.5, -3, None, False]},
    {"huge": 2**70},
    {"tuple": (1, 2), "set": {3}},
    ReturnDict({"a": ReturnList([{"b": 1}], serializer=None)}, serializer=None),
    {"nested": {"deep": [{"x": [{"y": "z"}]}]}},
]


@pytest.mark.parametrize("data", SAMPLES)
def test_the_bytes_are_drfs(data):
    assert FastJSONRenderer().render(data) == JSONRenderer().render(data)


def test_nothing_renders_as_an_empty_body():
    assert FastJSONRenderer().render(None) == b""


def test_an_indented_response_is_indented_as_drf_does_it():
    data = {"a": [1, {"b": "c"}]}
    media_type = "application/json; indent=2"
    context = {"indent": None}
    assert FastJSONRenderer().render(data, media_type, context) == JSONRenderer().render(data, media_type, context)
    assert b"\n  " in FastJSONRenderer().render(data, media_type, context)


@pytest.mark.django_db
def test_api_responses_go_through_it(api_client, settings):
    assert settings.REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] == ["punt.api.renderers.FastJSONRenderer"]
    response = api_client.get("/api/v1/ping")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response.content == JSONRenderer().render(response.data)
