from __future__ import annotations

from typing import Any

from rest_framework.test import APIClient

from accounts.services import api_key_create
from audit.models import AuditEntry


def as_user(user: Any, ip: str = "198.51.100.7") -> APIClient:
    client = APIClient(REMOTE_ADDR=ip)
    client.force_authenticate(user)
    return client


def with_key(user: Any, scopes: list[str]) -> APIClient:
    _key, raw = api_key_create(user=user, name=f"key {scopes}", scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


def the_entry(action: str) -> AuditEntry:
    """The one entry of `action` (fails if there are none or several)."""
    entries = list(AuditEntry.objects.filter(action=action))
    assert len(entries) == 1, f"{action}: {len(entries)} entries ({[str(e) for e in AuditEntry.objects.all()]})"
    return entries[0]
