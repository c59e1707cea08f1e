from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from tests.factories import PASSWORD


def login(client: APIClient | None = None, username: str = "alice", password: str = PASSWORD) -> dict[str, Any]:
    """Sign in through the API and return the token response."""
    response = (client or APIClient()).post("/api/v1/auth/login", {"username": username, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def bearer(access_token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access_token}")
    return client


def error_shape(body: dict[str, Any], *, details: bool = False) -> None:
    """The one error shape: {"error": str} plus a list of {"field", "message"} for validation."""
    assert isinstance(body.get("error"), str) and body["error"]
    if details:
        assert set(body) == {"error", "details"}
        assert body["details"] and all(set(d) == {"field", "message"} for d in body["details"])
    else:
        assert set(body) == {"error"}


class FailingEmailBackend:
    """An email backend whose server is down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        import smtplib

        raise smtplib.SMTPServerDisconnected("connection refused")
