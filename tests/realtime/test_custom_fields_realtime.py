"""A custom field value change reaches the project's sockets like any ticket change (issue 21)."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from tests.realtime.conftest import TIMEOUT, jwt_for, ws_project
from tickets import services
from tickets.services import custom_fields

pytestmark = pytest.mark.django_db(transaction=True)


async def test_value_change_is_a_card_updated_event_with_the_values(personas):
    @database_sync_to_async
    def setup():
        custom_fields.custom_field_create(
            project=personas.project, by=personas.admin, name="Severity", type="select", options=["S1", "S2"]
        )
        column = personas.project.columns.order_by("order").first()
        return services.ticket_create(project=personas.project, by=personas.member, title="t", column=column)

    ticket = await setup()
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.viewer)}")
    await database_sync_to_async(services.ticket_update)(
        ticket=ticket, by=personas.member, custom_fields={"severity": "S2"}
    )
    for _ in range(5):
        message = await socket.receive_json_from(timeout=TIMEOUT)
        if message["type"] == "board.card_updated":
            break
    assert message["type"] == "board.card_updated"
    assert message["payload"]["id"] == ticket.pk
    assert message["payload"]["custom_fields"] == {"severity": "S2"}
    await socket.disconnect()
