"""Linking two tickets of two projects reaches both projects' sockets, each with its own side."""

from __future__ import annotations

import pytest
from channels.db import database_sync_to_async

from projects.models import Membership
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.realtime.conftest import TIMEOUT, jwt_for, ws_project
from tickets import services

pytestmark = pytest.mark.django_db(transaction=True)


def _two_projects(personas):
    owner = UserFactory(username="dora")
    demo = ProjectFactory(owner_user=owner, name="Demo", key="DEMO")
    MembershipFactory(project=demo, user=personas.member, role=Membership.Role.MEMBER)
    blog_card = services.ticket_create(project=personas.project, by=personas.member, title="Blog side")
    demo_card = services.ticket_create(project=demo, by=owner, title="Demo side")
    return owner, blog_card, demo_card


async def _next_of(socket, event: str) -> dict:
    while True:
        message = await socket.receive_json_from(timeout=TIMEOUT)
        if message["type"] == event:
            return message["payload"]


async def test_link_and_unlink_reach_both_projects(personas):
    owner, blog_card, demo_card = await database_sync_to_async(_two_projects)(personas)
    blog = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.viewer)}")
    demo = await ws_project(f"/api/v1/ws/demo?token={jwt_for(owner)}")
    relation = await database_sync_to_async(services.relation_add)(
        ticket=blog_card, other=demo_card, kind="blocks", by=personas.member
    )
    assert await _next_of(blog, "board.card_linked") == {
        "id": blog_card.pk,
        "key": "BLOG-1",
        "relation": {"id": relation.pk, "kind": "blocks"},
        "other_id": demo_card.pk,
    }
    assert await _next_of(demo, "board.card_linked") == {
        "id": demo_card.pk,
        "key": "DEMO-1",
        "relation": {"id": relation.pk, "kind": "is_blocked_by"},
        "other_id": blog_card.pk,
    }
    relation_id = relation.pk  # None once deleted
    await database_sync_to_async(services.relation_remove)(relation=relation, by=personas.member)
    assert (await _next_of(blog, "board.card_unlinked"))["relation"] == {"id": relation_id, "kind": "blocks"}
    assert (await _next_of(demo, "board.card_unlinked"))["relation"] == {"id": relation_id, "kind": "is_blocked_by"}
    await blog.disconnect()
    await demo.disconnect()
