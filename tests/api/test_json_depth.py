"""JSON nested past punt.json_input.MAX_DEPTH is a clear refusal on every surface that parses it.

Before: 1,000 levels raised RecursionError (a 500 on the API, a crashed WebSocket consumer).
"""

from __future__ import annotations

import base64
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from punt.json_input import MAX_DEPTH
from tests.factories import TicketFactory
from tests.realtime.conftest import TIMEOUT, _fresh_realtime_state, jwt_for, ws_project  # noqa: F401 (autouse)
from tests.webhooks.conftest import hmac_hex
from tests.webhooks.test_git_hooks import make_hook, path_of

TOO_DEEP = f"JSON nested deeper than {MAX_DEPTH} levels."
DEPTHS = [MAX_DEPTH + 1, 1_000, 100_000]


def nested(depth: int) -> str:
    """An object whose "name" holds lists nested so that the whole document is `depth` deep."""
    inner = depth - 1
    return '{"name": ' + "[" * inner + "]" * inner + "}"


@pytest.mark.django_db
@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/blog/labels",  # the API
        "/api/projects/BLOG/tickets",  # the PUNT dialect
        "/api/v3/projects/olivia/blog/tickets",  # the GitHub-style dialect
    ],
)
def test_api_and_dialects_answer_400(personas, path, depth):
    response = personas.client("member").post(path, nested(depth), content_type="application/json")

    assert response.status_code == 400, response.content[:300]
    assert response.json() == {"error": f"JSON parse error - {TOO_DEEP}"}


@pytest.mark.django_db
@pytest.mark.parametrize("depth", DEPTHS)
def test_sign_in_answers_400(depth):
    response = Client().post("/api/auth/callback/credentials", nested(depth), content_type="application/json")

    assert response.status_code == 400
    assert response.json() == {"error": f"JSON parse error - {TOO_DEEP}"}


@pytest.mark.django_db
def test_the_limit_itself_is_parsed(personas):
    response = personas.client("member").post(
        "/api/v1/projects/blog/labels", nested(MAX_DEPTH), content_type="application/json"
    )

    # Past the parser: the serializer says what is wrong with the name.
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "name"


@pytest.mark.django_db
@pytest.mark.parametrize("depth", DEPTHS)
def test_git_host_webhook_answers_400(personas, depth):
    hook = make_hook(personas)
    body = nested(depth).encode()
    response = Client().post(
        path_of(hook),
        data=body,
        content_type="application/json",
        HTTP_X_GITHUB_EVENT="push",
        HTTP_X_GITHUB_DELIVERY="deep-1",
        HTTP_X_HUB_SIGNATURE_256="sha256=" + hmac_hex(hook["secret"], body),
    )

    assert response.status_code == 400
    assert response.json() == {"error": TOO_DEEP}


@pytest.mark.django_db
@pytest.mark.parametrize("depth", DEPTHS)
def test_json_attachment_is_refused(personas, depth):
    card = TicketFactory(project=personas.project)
    response = personas.client("member").post(
        f"/api/v1/projects/blog/cards/{card.pk}/attachments",
        {"file": SimpleUploadedFile("deep.json", nested(depth).encode(), content_type="application/json")},
        format="multipart",
    )

    assert response.status_code == 400
    assert response.json() == {"error": "Validation failed", "details": [{"field": "file", "message": TOO_DEEP}]}


@pytest.mark.django_db
@pytest.mark.parametrize("depth", DEPTHS)
def test_list_cursor_is_refused(personas, depth):
    cursor = base64.urlsafe_b64encode(nested(depth).encode()).decode().rstrip("=")
    response = personas.client("member").get("/api/v1/projects/blog/cards", {"cursor": cursor})

    assert response.status_code == 400
    assert response.json() == {
        "error": "Validation failed",
        "details": [{"field": "cursor", "message": "Invalid cursor."}],
    }


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("depth", DEPTHS)
async def test_websocket_answers_an_error_frame_and_stays_open(personas, depth):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")

    await socket.send_to(text_data=nested(depth))
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "error", "payload": {"message": TOO_DEEP}}
    await socket.send_to(text_data=json.dumps({"type": "ping"}))
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    await socket.disconnect()
