"""Live PQL subscriptions on the project socket: subscribe, view.entered / view.left /
view.updated as tickets start and stop matching, errors, unsubscribe, and what an event costs."""

from __future__ import annotations

import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Membership
from punt.realtime import subscriptions
from tests.factories import LabelFactory, MembershipFactory, TicketFactory, UserFactory
from tests.realtime.conftest import TIMEOUT, api_key_for, jwt_for, nothing_more, ws_project
from tickets import live, pql
from tickets import services as ticket_services

pytestmark = pytest.mark.django_db(transaction=True)

URGENT = "assignee = me() AND priority >= high"


@pytest.fixture(autouse=True)
def _no_shared_facts():
    subscriptions.shared_facts.clear()
    yield
    subscriptions.shared_facts.clear()


@database_sync_to_async
def update(ticket: Any, by: Any, **changes: Any) -> None:
    ticket.refresh_from_db()
    ticket_services.ticket_update(ticket=ticket, by=by, **changes)


@database_sync_to_async
def make_ticket(personas: Any, **fields: Any) -> Any:
    return TicketFactory(project=personas.project, **fields)


async def subscribe(socket: Any, view_id: str, q: str) -> dict[str, Any]:
    await socket.send_json_to({"type": "subscribe", "id": view_id, "q": q})
    return await socket.receive_json_from(timeout=TIMEOUT)


async def next_view_message(socket: Any) -> dict[str, Any]:
    """The next view.* message, past the raw board.card_* events the socket also gets."""
    while True:
        message = await socket.receive_json_from(timeout=TIMEOUT)
        if message["type"].startswith("view."):
            return message


async def test_a_ticket_enters_updates_and_leaves_the_view(personas):
    ticket = await make_ticket(personas, priority="low", assignee=personas.member)
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    assert await subscribe(socket, "mine", URGENT) == {"type": "subscribed", "payload": {"id": "mine", "q": URGENT}}

    started = time.perf_counter()
    await update(ticket, personas.admin, priority="high")
    entered = await next_view_message(socket)
    elapsed = time.perf_counter() - started
    print(f"view.entered {elapsed * 1000:.0f} ms after the service call")
    assert elapsed < 1.0  # 250 ms is the goal; CI machines are slow and shared
    assert entered["type"] == "view.entered"
    assert entered["payload"]["id"] == "mine"
    assert entered["payload"]["ticket_id"] == ticket.pk
    assert entered["payload"]["number"] == ticket.number
    assert entered["payload"]["key"] == f"BLOG-{ticket.number}"
    assert entered["payload"]["card"]["priority"] == "high"
    assert entered["payload"]["card"]["id"] == ticket.pk

    await update(ticket, personas.admin, title="Still urgent")
    updated = await next_view_message(socket)
    assert updated["type"] == "view.updated"
    assert updated["payload"]["card"]["title"] == "Still urgent"

    await update(ticket, personas.admin, assignee=personas.admin.username)
    left = await next_view_message(socket)
    assert left["type"] == "view.left"
    assert left["payload"] == {"id": "mine", "ticket_id": ticket.pk, "number": ticket.number, "key": ticket.key}

    # No longer in the view: a change that keeps it out says nothing about the view.
    await update(ticket, personas.admin, title="Someone else's")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "board.card_updated"
    await nothing_more(socket)
    await socket.disconnect()


async def test_a_ticket_matching_at_subscribe_time_leaves_when_it_stops(personas):
    ticket = await make_ticket(personas, priority="urgent", assignee=personas.member)
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    await subscribe(socket, "mine", URGENT)

    await update(ticket, personas.admin, priority="medium")

    assert (await next_view_message(socket))["type"] == "view.left"
    await socket.disconnect()


async def test_created_moved_and_deleted_tickets(personas):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    await subscribe(socket, "doing", "status = in_progress")

    ticket = await database_sync_to_async(ticket_services.ticket_create)(
        project=personas.project, by=personas.admin, title="Write it", status="in_progress"
    )
    assert (await next_view_message(socket))["type"] == "view.entered"

    await update(ticket, personas.admin, status="done")  # a move
    moved = await next_view_message(socket)
    assert moved["type"] == "view.left"

    await update(ticket, personas.admin, status="in_progress")
    back = await next_view_message(socket)
    assert back["type"] == "view.entered"
    assert "from_column_id" not in back["payload"]["card"]

    await database_sync_to_async(ticket_services.ticket_delete)(ticket=ticket, by=personas.admin)
    gone = await next_view_message(socket)
    assert gone["type"] == "view.left"
    assert gone["payload"]["number"] == ticket.number
    await socket.disconnect()


async def test_each_subscription_gets_its_own_messages(personas):
    bug = await database_sync_to_async(LabelFactory)(project=personas.project, name="bug")
    ticket = await make_ticket(personas)
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    await subscribe(socket, "bugs", "label = bug")
    await subscribe(socket, "high", "priority = high")

    await update(ticket, personas.admin, labels=[bug.pk])
    message = await next_view_message(socket)
    assert (message["type"], message["payload"]["id"]) == ("view.entered", "bugs")

    await update(ticket, personas.admin, priority="high")
    messages = [await next_view_message(socket), await next_view_message(socket)]
    assert {(m["type"], m["payload"]["id"]) for m in messages} == {("view.updated", "bugs"), ("view.entered", "high")}
    await socket.disconnect()


async def test_the_same_id_replaces_its_query(personas):
    ticket = await make_ticket(personas, priority="high")
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    await subscribe(socket, "board", "priority = low")
    assert (await subscribe(socket, "board", "priority = high"))["type"] == "subscribed"

    await update(ticket, personas.admin, title="Renamed")

    message = await next_view_message(socket)
    assert (message["type"], message["payload"]["id"]) == ("view.updated", "board")
    await nothing_more(socket)
    await socket.disconnect()


async def test_a_bad_query_is_an_error_with_its_position_and_the_socket_stays_open(personas):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")

    reply = await subscribe(socket, "oops", "priority >= hihg")

    assert reply["type"] == "error"
    assert reply["payload"]["id"] == "oops"
    assert "hihg" in reply["payload"]["message"]
    assert reply["payload"]["details"][0]["field"] == "q"
    assert reply["payload"]["details"][0]["position"] == 12
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}
    await socket.disconnect()


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"type": "subscribe", "q": "priority = high"}, "needs an id"),
        ({"type": "subscribe", "id": "x" * 65, "q": "priority = high"}, "needs an id"),
        ({"type": "subscribe", "id": 5, "q": "priority = high"}, "needs an id"),
        ({"type": "subscribe", "id": "a", "q": ["priority = high"]}, "'q' must be"),
        ({"type": "unsubscribe", "id": "never"}, "No subscription"),
    ],
)
async def test_malformed_requests_are_errors(personas, message, problem):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")

    await socket.send_json_to(message)

    reply = await socket.receive_json_from(timeout=TIMEOUT)
    assert reply["type"] == "error"
    assert problem in reply["payload"]["message"]
    await socket.disconnect()


async def test_too_many_subscriptions_on_one_socket(personas):
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    for index in range(subscriptions.MAX_VIEWS):
        assert (await subscribe(socket, f"v{index}", f"number = {index + 1}"))["type"] == "subscribed"

    reply = await subscribe(socket, "one-more", "priority = high")

    assert reply["type"] == "error"
    assert reply["payload"]["id"] == "one-more"
    await socket.disconnect()


async def test_unsubscribe_stops_the_messages(personas):
    ticket = await make_ticket(personas, priority="low")
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}")
    await subscribe(socket, "high", "priority = high")

    await socket.send_json_to({"type": "unsubscribe", "id": "high"})
    assert await socket.receive_json_from(timeout=TIMEOUT) == {"type": "unsubscribed", "payload": {"id": "high"}}
    await update(ticket, personas.admin, priority="high")

    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "board.card_updated"
    await nothing_more(socket)
    await socket.disconnect()


async def test_the_tab_that_made_the_change_gets_entered_and_left_but_not_updated(personas):
    ticket = await make_ticket(personas, priority="low")
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.member)}&tab_id=t1")
    await subscribe(socket, "high", "priority = high")

    await update(ticket, personas.member, priority="high", tab_id="t1")
    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "view.entered"
    await update(ticket, personas.member, title="Mine", tab_id="t1")
    await update(ticket, personas.member, priority="low", tab_id="t1")

    assert (await socket.receive_json_from(timeout=TIMEOUT))["type"] == "view.left"
    await nothing_more(socket)
    await socket.disconnect()


async def test_viewers_may_subscribe(personas):
    ticket = await make_ticket(personas, priority="low")
    socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(personas.viewer)}")
    await subscribe(socket, "high", "priority = high")

    await update(ticket, personas.admin, priority="high")

    assert (await next_view_message(socket))["type"] == "view.entered"
    await socket.disconnect()


async def test_an_api_key_without_tickets_read_may_not_subscribe(personas):
    key = await database_sync_to_async(api_key_for)(personas.member, scopes=["chat:read"])
    socket = await ws_project(f"/api/v1/ws/blog?api_key={key}")

    reply = await subscribe(socket, "high", "priority = high")

    assert reply["type"] == "error"
    assert "tickets:read" in reply["payload"]["message"]
    await socket.disconnect()


async def test_an_api_key_with_tickets_read_may_subscribe(personas):
    key = await database_sync_to_async(api_key_for)(personas.member, scopes=["tickets:read"])
    socket = await ws_project(f"/api/v1/ws/blog?api_key={key}")

    assert (await subscribe(socket, "high", "priority = high"))["type"] == "subscribed"
    await socket.disconnect()


async def test_one_event_loads_facts_once_for_every_socket_and_query(personas, monkeypatch):
    """200 subscriptions with different queries on 10 sockets of 10 people: the event's ticket is
    loaded once in the process (three queries: with its custom field values), and each query is tested in memory."""
    loads: list[int] = []
    real_load = pql.load_facts

    def counted_load(ticket_ids):
        with CaptureQueriesContext(connection) as queries:
            facts = real_load(ticket_ids)
        loads.append(len(queries))
        return facts

    monkeypatch.setattr(pql, "load_facts", counted_load)

    @database_sync_to_async
    def people(count: int) -> list[Any]:
        return [
            MembershipFactory(project=personas.project, user=UserFactory(), role=Membership.Role.MEMBER).user
            for _ in range(count)
        ]

    ticket = await make_ticket(personas, priority="low", estimate=3)
    sockets = []
    for person in await people(10):
        socket = await ws_project(f"/api/v1/ws/blog?token={jwt_for(person)}")
        for index in range(subscriptions.MAX_VIEWS):
            # Different queries; half of them take the ticket in when it becomes high.
            q = f"priority = high AND estimate <= {index + 3}" if index % 2 else f"estimate > {index + 3}"
            assert (await subscribe(socket, f"v{index}", q))["type"] == "subscribed"
        sockets.append(socket)
    for socket in sockets:
        await nothing_more_than_presence(socket)

    await update(ticket, personas.admin, priority="high")

    for socket in sockets:
        entered = [await next_view_message(socket) for _ in range(subscriptions.MAX_VIEWS // 2)]
        assert {message["type"] for message in entered} == {"view.entered"}
        await nothing_more(socket)
    assert loads == [3]
    for socket in sockets:
        await socket.disconnect()


async def nothing_more_than_presence(socket: Any) -> None:
    """Drain the presence.join messages of the people who connected after this socket."""
    while not await socket.receive_nothing(timeout=0.2):
        message = await socket.receive_json_from(timeout=TIMEOUT)
        assert message["type"] == "presence.join", message


def test_a_thousand_views_cost_the_same_few_queries_per_event(personas, django_assert_max_num_queries):
    """tickets.live directly: one event against 1,000 compiled queries is the facts' three queries."""
    tickets = [TicketFactory(project=personas.project, estimate=n % 10) for n in range(5)]
    views = [
        live.open_view(f"v{n}", f"estimate >= {n % 10} OR number = {n}", project=personas.project, user=personas.member)
        for n in range(1000)
    ]
    target = tickets[0]
    target.estimate = 9
    target.save(update_fields=["estimate"])
    payload = {"id": target.pk, "key": target.key, "number": target.number}

    with django_assert_max_num_queries(3):
        facts = pql.load_facts([target.pk])[target.pk]
        out = live.changes(views, event="board.card_updated", payload=payload, facts=facts)

    kinds = {view.id: message["type"] for view, message in out}
    # It had estimate 0: it was in the views asking for estimate >= 0 or for its number.
    before = {f"v{n}" for n in range(1000) if n % 10 == 0 or n == target.number}
    assert len(kinds) == 1000
    assert {view_id for view_id, kind in kinds.items() if kind == "view.updated"} == before


def test_an_incomplete_view_reports_left_once(personas, monkeypatch):
    monkeypatch.setattr(live, "KNOWN_MAX", 2)
    tickets = [TicketFactory(project=personas.project, priority="high") for _ in range(3)]
    view = live.open_view("v", "priority = high", project=personas.project, user=personas.member)
    assert not view.complete
    outside = tickets[2] if tickets[2].pk not in view.matching else tickets[0]
    outside.priority = "low"
    outside.save(update_fields=["priority"])
    facts = pql.load_facts([outside.pk])[outside.pk]
    payload = {"id": outside.pk, "key": outside.key}

    first = live.changes([view], event="board.card_updated", payload=payload, facts=facts)
    again = live.changes([view], event="board.card_updated", payload=payload, facts=facts)

    assert [message["type"] for _view, message in first] == ["view.left"]
    assert again == []
