from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.models import ApiKey, hash_api_key


@dataclass
class Published:
    """Events the services published (captured before the on-commit hand-off)."""

    calls: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, event: str, payload: dict[str, Any], **kwargs: Any) -> None:
        self.calls.append({"event": event, "payload": payload, **kwargs})

    def named(self, event: str) -> list[dict[str, Any]]:
        return [call for call in self.calls if call["event"] == event]

    @property
    def names(self) -> list[str]:
        return [call["event"] for call in self.calls]


@pytest.fixture
def published(monkeypatch) -> Published:
    recorder = Published()
    for module in ("organizations", "projects", "members", "columns", "labels", "sprints"):
        monkeypatch.setattr(f"projects.services.{module}.publish", recorder)
    return recorder


@pytest.fixture
def api_key_client():
    """An APIClient authenticating with a fresh API key of `user` limited to `scopes`."""

    def make(user, scopes: list[str]) -> APIClient:
        raw = "punt_" + secrets.token_urlsafe(32)
        ApiKey.objects.create(user=user, name="test", prefix=raw[:12], hashed_key=hash_api_key(raw), scopes=scopes)
        client = APIClient()
        client.credentials(HTTP_X_API_KEY=raw)
        return client

    return make


def project_url(personas, suffix: str = "") -> str:
    return f"/api/v1/projects/{personas.project.slug}{suffix}"
