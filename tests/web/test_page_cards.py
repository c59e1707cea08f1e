"""Pages draw cards from tickets.cards, the API's card: a field added there reaches every page."""

from __future__ import annotations

import datetime

import pytest
from pytest_django.asserts import assertInHTML

from projects.models import Column
from tests.conftest import Personas
from tests.factories import LabelFactory, SprintFactory, TicketFactory
from tests.web.conftest import page_client
from tickets.models import ChecklistItem, Ticket

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"
API = "/api/v1/projects/blog"


@pytest.fixture
def rich_tickets(personas: Personas) -> list[Ticket]:
    """Tickets with every part of a card filled in somewhere: labels, people with and without a
    picture, a sprint, a parent, a due date, an estimate, a checklist, a closed one."""
    project = personas.project
    personas.admin.avatar = "avatars/adam.webp"
    personas.admin.save(update_fields=["avatar"])
    todo, doing, done = project.columns.order_by("order")
    bug, ui = LabelFactory(project=project, name="bug"), LabelFactory(project=project, name="ui", color="#10B981")
    sprint = SprintFactory(project=project, name="Sprint 1")
    first = TicketFactory(
        project=project,
        title="Fix <the> login",
        type=Ticket.Type.BUG,
        priority=Ticket.Priority.HIGH,
        assignee=personas.admin,
        due_date=datetime.date(2026, 5, 7),
        estimate=3,
        sprint=sprint,
    )
    first.labels.add(ui, bug)
    ChecklistItem.objects.create(ticket=first, text="repro", order=0, done=True)
    second = TicketFactory(project=project, column=doing, title="Write docs", assignee=personas.member, parent=first)
    third = TicketFactory(project=project, column=done, title="Old news", state=Ticket.State.CLOSED)
    fourth = TicketFactory(project=project, column=todo, title="Later", estimate=2)
    return [first, second, third, fourth]


def _without_page_keys(page_card: dict, api_card: dict) -> dict:
    return {name: page_card[name] for name in api_card}


def test_board_cards_are_the_apis_cards(personas: Personas, rich_tickets: list[Ticket]):
    page = page_client(personas, "member").get(f"{BASE}/")
    board = personas.client("member").get(f"{API}/board").json()
    page_columns = [(column.pk, column.cards) for column in page.context["columns"]]
    api_columns = [(column["id"], column["cards"]) for column in board["columns"]]
    assert [pk for pk, _ in page_columns] == [pk for pk, _ in api_columns]
    for (_, page_cards), (_, api_cards) in zip(page_columns, api_columns, strict=True):
        pairs = zip(page_cards, api_cards, strict=True)
        assert [_without_page_keys(page_card, api_card) for page_card, api_card in pairs] == api_cards
    first = page.context["columns"][0].cards[0]
    assert {name: first[name] for name in ("url", "type_label", "priority_label", "due")} == {
        "url": f"{BASE}/tickets/1",
        "type_label": "Bug",
        "priority_label": "High",
        "due": datetime.date(2026, 5, 7),
    }


def test_board_draws_a_card_as_before(personas: Personas, rich_tickets: list[Ticket]):
    first, second, third, _ = rich_tickets
    html = page_client(personas, "viewer").get(f"{BASE}/").content.decode()
    url = f"{BASE}/tickets/1"
    assertInHTML(
        f"""<li class="ticket-card" data-id="{first.pk}" data-number="1" tabindex="0">
          <div class="meta"><span>BLOG-1</span><span class="pill type-bug">Bug</span>
            <span class="pill prio-high">High</span></div>
          <a class="title" href="{url}" hx-get="{url}" hx-target="#modal-body"
             hx-push-url="true">Fix &lt;the&gt; login</a>
          <div class="meta">
            <span class="label" style="--lc: #EF4444; --lt: #000">bug</span>
            <span class="label" style="--lc: #10B981; --lt: #000">ui</span>
            <span class="pill" title="Estimate">3 pt</span>
            <span title="Due">📅 May 7</span>
            <span class="avatar " title="Adam (@adam)"><img src="/media/avatars/adam.webp" alt="" loading="lazy"></span>
          </div>
        </li>""",
        html,
    )
    # Medium priority shows no pill; a person without a picture shows their initials.
    assertInHTML(
        f"""<li class="ticket-card" data-id="{second.pk}" data-number="2" tabindex="0">
          <div class="meta"><span>BLOG-2</span><span class="pill type-task">Task</span></div>
          <a class="title" href="{BASE}/tickets/2" hx-get="{BASE}/tickets/2" hx-target="#modal-body"
             hx-push-url="true">Write docs</a>
          <div class="meta"><span class="avatar " title="Mary (@mary)">MA</span></div>
        </li>""",
        html,
    )
    assert f'<li class="ticket-card closed" data-id="{third.pk}"' in html


def test_quick_add_draws_the_new_card_from_the_card_module(personas: Personas):
    response = page_client(personas, "member").post(f"{BASE}/quick-add", {"title": "Fresh"}, HTTP_HX_REQUEST="true")
    ticket = Ticket.objects.get(title="Fresh")
    card = personas.client("member").get(f"{API}/cards/{ticket.pk}").json()
    assert {name: response.context["card"][name] for name in ("id", "key", "title", "labels", "assignee")} == {
        name: card[name] for name in ("id", "key", "title", "labels", "assignee")
    }
    assert 'class="ticket-card card-flash"' in response.content.decode()


def test_backlog_cards_are_the_apis_cards_in_board_order(personas: Personas, rich_tickets: list[Ticket]):
    first, second, _closed, fourth = rich_tickets
    project = personas.project
    # Board order: by column, then rank (rank alone would give second, fifth, fourth).
    last = project.columns.order_by("-order").first()
    waiting = Column.objects.create(
        project=project, name="Waiting", category=Column.Category.TODO, order=last.order + 1
    )
    fifth = TicketFactory(project=project, column=waiting, title="Blocked")
    response = page_client(personas, "member").get(f"{BASE}/backlog")
    api_cards = {card["id"]: card for card in personas.client("member").get(f"{API}/cards?limit=100").json()["results"]}
    backlog = response.context["backlog_cards"]
    # The closed ticket is in no sprint and not open: not in the backlog.
    assert [card["id"] for card in backlog] == [fourth.pk, second.pk, fifth.pk]
    (sprint,) = response.context["sprints"]
    assert [card["id"] for card in sprint.cards] == [first.pk]
    assert sprint.points == 3
    for card in [*backlog, *sprint.cards]:
        api_card = api_cards[card["id"]]
        compact = {name: api_card[name] for name in card if name in api_card}
        assert _without_page_keys(card, compact) == compact
        assert set(card) - set(api_card) == {"url", "type_label", "priority_label", "due", "column_name", "chips"}
    assert [card["column_name"] for card in backlog] == ["To Do", "In Progress", "Waiting"]
    assertInHTML(
        f"""<li class="ticket-card" data-number="1" tabindex="0">
          <div class="meta"><span>BLOG-1</span><span class="pill type-bug">Bug</span><span class="pill">To Do</span>
            <span class="pill">3 pt</span>
            <span class="avatar " title="Adam (@adam)"><img src="/media/avatars/adam.webp" alt="" loading="lazy"></span>
          </div>
          <a class="title" href="{BASE}/tickets/1">Fix &lt;the&gt; login</a>
        </li>""",
        response.content.decode(),
    )
