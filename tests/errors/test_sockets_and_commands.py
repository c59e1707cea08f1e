"""A refusal raised while a socket joins closes it with the mapped code; a command ends with the message."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management.base import BaseCommand, CommandError

from punt import errors
from punt.realtime import consumers
from tests.factories import ProjectFactory, UserFactory
from tests.realtime.conftest import close_code, jwt_for, ws_connect


@pytest.mark.parametrize(
    ("refusal", "code"),
    [
        (errors.NotFound(), 4403),  # a socket never tells "no such project" from "not yours"
        (errors.Forbidden(), 4403),
        (errors.Unauthenticated(), 4401),
        (errors.Conflict(), 4409),
        (errors.RateLimited(retry_after=3), 4429),
    ],
)
def test_close_codes(refusal, code):
    assert errors.close_code(refusal) == code


@pytest.mark.django_db(transaction=True)
async def test_a_domain_refusal_while_joining_closes_the_socket_with_its_code(monkeypatch):
    async def refuse(user: Any, slug: str) -> None:
        raise errors.Conflict("This project is archived and read-only; its owner can restore it.")

    monkeypatch.setattr(consumers, "_visible_project", refuse)
    user = await _user_with_project()
    communicator = await ws_connect(f"/api/v1/ws/blog?token={jwt_for(user)}")
    assert await close_code(communicator) == 4409  # not the consumer's own 4403: the mapped code
    await communicator.disconnect()


async def _user_with_project() -> Any:
    from channels.db import database_sync_to_async

    def make() -> Any:
        user = UserFactory()
        ProjectFactory(owner_user=user, key="BLOG")
        return user

    return await database_sync_to_async(make)()


class _Refusing(BaseCommand):
    @errors.command_errors
    def handle(self, *args: Any, **options: Any) -> None:
        raise errors.invalid("key", "Use 2-10 uppercase letters or digits, starting with a letter (e.g. PROJ).")


def test_a_command_ends_with_the_refusals_message():
    with pytest.raises(CommandError, match=r"^Use 2-10 uppercase letters or digits"):
        _Refusing().handle()
