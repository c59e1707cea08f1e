"""Deactivating an account closes its open sockets at once, like a refused token (4401)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tests.realtime.conftest import close_code, jwt_for, nothing_more, ws_project, ws_user

pytestmark = pytest.mark.django_db(transaction=True)


async def test_deactivated_users_sockets_are_closed(personas):
    @database_sync_to_async
    def make_site_admin() -> None:
        personas.owner.is_staff = True
        personas.owner.save(update_fields=["is_staff"])

    await make_site_admin()
    project_socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    user_socket = await ws_user(f"/api/v1/ws/user?token={jwt_for(personas.member)}")
    bystander = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.admin)}")

    @database_sync_to_async
    def deactivate() -> int:
        client = personas.client("owner")
        return client.put(f"/api/v1/users/{personas.member.pk}", {"is_active": False}, format="json").status_code

    assert await deactivate() == 200

    assert (await project_socket.receive_json_from(timeout=3))["type"] == "presence.join"  # adam, earlier
    assert await close_code(project_socket) == 4401
    assert await close_code(user_socket) == 4401
    # The others stay connected and see her leave.
    left = await bystander.receive_json_from(timeout=3)
    assert left["type"] == "presence.leave"
    assert left["payload"]["user_id"] == personas.member.pk
    await nothing_more(bystander)
    await bystander.disconnect()
