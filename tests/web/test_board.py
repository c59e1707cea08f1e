from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Column
from tests.conftest import Personas
from tests.factories import LabelFactory, ProjectFactory, SprintFactory, TicketFactory
from tests.web.conftest import page_client, page_matrix
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

BOARD = "/projects/olivia/blog/"


def test_board_role_matrix(personas: Personas):
    assert page_matrix(personas, "get", BOARD) == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_board_also_answers_at_seed_003s_html_url_without_slash(personas: Personas):
    assert page_client(personas, "viewer").get("/projects/olivia/blog").status_code == 200


def test_outsider_cannot_tell_a_private_project_from_a_missing_one(personas: Personas):
    client = page_client(personas, "outsider")
    private = client.get(BOARD)
    missing = client.get("/projects/olivia/no-such-project/")
    assert private.status_code == missing.status_code == 404
    assert b"Blog" not in private.content
    # Identical pages apart from the per-response CSRF mask.
    strip = re.compile(rb'"X-CSRFToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"')
    assert strip.sub(b"", private.content) == strip.sub(b"", missing.content)


def test_anonymous_is_sent_to_login_with_next(personas: Personas):
    response = page_client(personas, "anonymous").get(BOARD)
    assert response["Location"] == f"/login/?next={BOARD}"


def test_board_shows_columns_cards_and_wip_counts(personas: Personas):
    todo = personas.project.columns.get(name="To Do")
    todo.wip_limit = 3
    todo.save()
    TicketFactory(project=personas.project, title="Write the first post")
    TicketFactory(project=personas.project, title="Pick a theme")
    response = page_client(personas, "viewer").get(BOARD)
    html = response.content.decode()
    assert "To Do" in html and "In Progress" in html and "Done" in html
    assert "Write the first post" in html and "BLOG-2" in html
    assert ">2/3<" in html
    # Viewers read only: no quick-add form, and the page tells the script not to enable dragging.
    assert 'data-can-write="0"' in html
    assert "quick-add" not in html


def test_member_gets_drag_and_quick_add(personas: Personas):
    html = page_client(personas, "member").get(BOARD).content.decode()
    assert 'data-can-write="1"' in html
    assert 'class="quick-add"' in html


def test_board_query_count_does_not_grow_with_cards(personas: Personas, django_assert_max_num_queries):
    project = personas.project
    label = LabelFactory(project=project, name="bug")
    client = page_client(personas, "member")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(BOARD).status_code == 200
        return len(ctx.captured_queries)

    ticket = TicketFactory(project=project, assignee=personas.member)
    ticket.labels.add(label)
    # The first board after a cache clear also works out the team's p85 cycle time for the aging
    # marks (insights.cycle.card_ages caches it for 10 minutes): count from the second one.
    count()
    few = count()
    for column in project.columns.all():
        for _ in range(5):
            t = TicketFactory(project=project, column=column, assignee=personas.admin)
            t.labels.add(label)
    many = count()
    assert many == few
    # 15: + the shown-on-card custom fields (web.cards.fields_on_cards); 16: + the aging marks' ages.
    assert few <= 16


def test_filters_are_kept_in_the_url(personas: Personas):
    project = personas.project
    bug = LabelFactory(project=project, name="bug")
    sprint = SprintFactory(project=project, name="Sprint 1")
    a = TicketFactory(project=project, title="Crash on save", type=Ticket.Type.BUG, assignee=personas.member)
    a.labels.add(bug)
    TicketFactory(project=project, title="Nice feature", type=Ticket.Type.FEATURE, priority="high", sprint=sprint)
    client = page_client(personas, "member")

    def titles(query: str) -> set[str]:
        html = client.get(BOARD + query).content.decode()
        return {t for t in ("Crash on save", "Nice feature") if t in html}

    assert titles("") == {"Crash on save", "Nice feature"}
    assert titles("?assignee=mary") == {"Crash on save"}
    assert titles("?assignee=me") == {"Crash on save"}
    assert titles("?assignee=none") == {"Nice feature"}
    assert titles(f"?label={bug.pk}") == {"Crash on save"}
    assert titles("?type=feature") == {"Nice feature"}
    assert titles("?priority=high") == {"Nice feature"}
    assert titles(f"?sprint={sprint.pk}") == {"Nice feature"}
    assert titles("?sprint=none") == {"Crash on save"}
    assert titles("?q=crash") == {"Crash on save"}
    assert titles("?q=BLOG-2") == {"Nice feature"}
    # The chosen filter is selected again when the page is drawn from the URL.
    assert 'value="bug" selected' in client.get(BOARD + "?type=bug").content.decode()


def test_htmx_board_refresh_returns_only_the_columns(personas: Personas):
    TicketFactory(project=personas.project, title="Live card")
    response = page_client(personas, "viewer").get(BOARD, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="board")
    html = response.content.decode()
    assert html.lstrip().startswith('<div class="board" id="board"')
    assert "Live card" in html
    assert "<html" not in html


def test_quick_add_role_matrix(personas: Personas):
    column = personas.project.columns.get(name="In Progress")
    row = page_matrix(personas, "post", BOARD + "quick-add", {"title": "From the board", "column": column.pk})
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 302, "admin": 302, "owner": 302}
    created = Ticket.objects.filter(project=personas.project, title="From the board")
    assert created.count() == 3
    assert {t.column_id for t in created} == {column.pk}


def test_quick_add_over_htmx_returns_the_new_card(personas: Personas):
    response = page_client(personas, "member").post(
        BOARD + "quick-add", {"title": "Card via htmx"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.lstrip().startswith('<li class="ticket-card')
    assert "Card via htmx" in html and "BLOG-1" in html


def _move(client, number: int, column: Column, **extra):
    return client.post(f"{BOARD}tickets/{number}/move", {"column": column.pk, **extra}, HTTP_ACCEPT="application/json")


def test_move_between_columns_calls_the_service(personas: Personas):
    project = personas.project
    doing = project.columns.get(name="In Progress")
    done = project.columns.get(name="Done")
    first = TicketFactory(project=project, column=doing)
    second = TicketFactory(project=project, column=doing)
    card = TicketFactory(project=project)
    response = _move(page_client(personas, "member"), card.number, doing, after=first.pk, before=second.pk)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["ok"] is True
    assert body["counts"][str(doing.pk)] == 3
    ordered = list(Ticket.objects.filter(column=doing).order_by("rank").values_list("pk", flat=True))
    assert ordered == [first.pk, card.pk, second.pk]
    # Into "Done" closes it, like every other way of moving a ticket.
    assert _move(page_client(personas, "member"), card.number, done).status_code == 200
    card.refresh_from_db()
    assert card.state == "closed"
    assert card.events.filter(kind="action", text="move").count() == 2


def test_move_role_matrix(personas: Personas):
    doing = personas.project.columns.get(name="In Progress")
    card = TicketFactory(project=personas.project)
    url = f"{BOARD}tickets/{card.number}/move"
    row = page_matrix(personas, "post", url, {"column": doing.pk}, HTTP_ACCEPT="application/json")
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 200, "admin": 200, "owner": 200}


def test_move_refused_by_wip_limit_says_why(personas: Personas):
    project = personas.project
    doing = project.columns.get(name="In Progress")
    doing.wip_limit = 1
    doing.save()
    TicketFactory(project=project, column=doing)
    card = TicketFactory(project=project)
    response = _move(page_client(personas, "member"), card.number, doing)
    assert response.status_code == 409
    assert "WIP limit" in response.json()["error"]
    assert "force" not in response.json()["error"]
    card.refresh_from_db()
    assert card.column.name == "To Do"


def test_move_to_a_column_of_another_project_is_refused(personas: Personas):
    other = ProjectFactory(owner_user=personas.member, key="OTHER")
    card = TicketFactory(project=personas.project)
    response = _move(page_client(personas, "member"), card.number, other.columns.first())
    assert response.status_code == 400


def test_org_namespace_board(personas: Personas):
    from tests.factories import OrganizationFactory

    org = OrganizationFactory(slug="acme")
    project = ProjectFactory(owner_user=None, organization=org, name="Site", created_by=personas.member, key="SITE")
    assert page_client(personas, "member").get("/projects/acme/site/").status_code == 200
    assert page_client(personas, "member").get("/projects/ACME/Site/").status_code == 200
    assert page_client(personas, "outsider").get("/projects/acme/site/").status_code == 404
    assert project.namespace == "acme"


def test_archived_project_board_is_read_only_and_hidden_from_outsiders(personas: Personas):
    from projects import services as project_services

    project_services.project_archive(project=personas.project, by=personas.owner)
    # Members still read it (as through the API); outsiders still cannot tell it exists.
    assert page_client(personas, "owner").get(BOARD).status_code == 200
    assert page_client(personas, "outsider").get(BOARD).status_code == 404
    html = page_client(personas, "member").get(BOARD).content.decode()
    assert "read-only" in html and "quick-add" not in html
    assert page_client(personas, "member").post(BOARD + "quick-add", {"title": "nope"}).status_code == 403


def test_site_admin_sees_any_board(personas: Personas):
    from tests.factories import UserFactory

    staff = UserFactory(username="root", is_staff=True)
    from django.test import Client

    client = Client()
    client.force_login(staff)
    assert client.get(BOARD).status_code == 200


def test_viewer_gets_a_friendly_403_page_for_writes(personas: Personas):
    response = page_client(personas, "viewer").post(BOARD + "quick-add", {"title": "nope"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "You cannot do that here" in html
    assert "member role" in html


def test_move_form_on_the_ticket_page(personas: Personas):
    project = personas.project
    done = project.columns.get(name="Done")
    card = TicketFactory(project=project)
    client = page_client(personas, "member")
    html = client.get(f"{BOARD}tickets/{card.number}").content.decode()
    assert f'action="{BOARD}tickets/{card.number}/move"' in html
    response = client.post(f"{BOARD}tickets/{card.number}/move", {"column": done.pk}, follow=True)
    assert response.redirect_chain[-1][0] == f"/projects/olivia/blog/tickets/{card.number}"
    assert "moved to Done" in response.content.decode()
    card.refresh_from_db()
    assert card.column == done


def test_refused_move_from_the_modal_is_a_json_error(personas: Personas):
    doing = personas.project.columns.get(name="In Progress")
    doing.wip_limit = 1
    doing.save()
    TicketFactory(project=personas.project, column=doing)
    card = TicketFactory(project=personas.project)
    response = page_client(personas, "member").post(
        f"{BOARD}tickets/{card.number}/move", {"column": doing.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 409
    assert "WIP limit" in response.json()["error"]
