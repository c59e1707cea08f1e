from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from tests.conftest import ROLES, Personas
from tests.web.live import chromium


def page_client(personas: Personas, role: str) -> Client:
    """A browser-like client (session cookie, CSRF not enforced) signed in as `role`'s persona."""
    client = Client()
    user = personas.user(role)
    if user is not None:
        client.force_login(user)
    return client


def page_matrix(personas: Personas, method: str, url: str, data: dict | None = None, **extra) -> dict[str, int]:
    """One page request per role; the status codes as a dict, to compare the whole row at once."""
    row = {}
    for role in ROLES:
        client = page_client(personas, role)
        response = getattr(client, method.lower())(url, data or {}, **extra)
        row[role] = response.status_code
    return row


@pytest.fixture
def board_url(personas: Personas) -> str:
    return "/projects/olivia/blog/"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one browser-test module (they skip without /usr/bin/chromium)."""
    yield from chromium()
