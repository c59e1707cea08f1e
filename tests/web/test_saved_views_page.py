"""Saved views on the board and the backlog pages: the switcher, ?view= narrowing the cards, "Save view"."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import Personas
from tests.factories import LabelFactory, TicketFactory
from tests.web.conftest import page_client, page_matrix
from tickets.models import SavedView

pytestmark = pytest.mark.django_db

BOARD = "/projects/olivia/blog/"
BACKLOG = "/projects/olivia/blog/backlog"
SAVE = "/projects/olivia/blog/views"


def _views(html: str) -> list[str]:
    switcher = re.search(r'<select name="view".*?</select>', html, re.S)
    return re.findall(r'<option value="[0-9]+" >([^<]+)</option>', switcher.group(0)) if switcher else []


def _numbers(html: str) -> set[int]:
    return {int(n) for n in re.findall(r'data-number="([0-9]+)"', html)}


@pytest.fixture
def cards(personas: Personas):
    backend = LabelFactory(project=personas.project, name="backend")
    hot = TicketFactory(project=personas.project, title="Hot", priority="urgent")
    hot.labels.add(backend)
    cold = TicketFactory(project=personas.project, title="Cold", priority="low")
    return hot, cold


def _view(personas: Personas, *, owner=None, name="Hot ones", query="priority >= high") -> SavedView:
    return SavedView.objects.create(project=personas.project, owner=owner, name=name, query=query)


def test_switcher_lists_shared_and_own_views_with_counts(personas: Personas, cards):
    _view(personas, name="Team hot")
    _view(personas, owner=personas.member, name="My backend", query="label = backend")
    _view(personas, owner=personas.admin, name="Adam's secret")
    html = page_client(personas, "member").get(BOARD).content.decode()
    assert _views(html) == ["Team hot (shared) · 1 open", "My backend · 1 open"]
    viewer = page_client(personas, "viewer").get(BACKLOG).content.decode()
    assert _views(viewer) == ["Team hot (shared) · 1 open"]


def test_view_narrows_the_board_its_fragments_and_the_backlog(personas: Personas, cards):
    hot, cold = cards
    view = _view(personas, owner=personas.member)
    client = page_client(personas, "member")
    assert _numbers(client.get(BOARD).content.decode()) == {hot.number, cold.number}
    html = client.get(f"{BOARD}?view={view.pk}").content.decode()
    assert _numbers(html) == {hot.number}
    assert f'<option value="{view.pk}" selected>' in html
    # The live feed asks for one card under the board's query string: the view hides `cold`.
    assert client.get(f"{BOARD}cards/{cold.number}?view={view.pk}").status_code == 204
    assert client.get(f"{BOARD}cards/{hot.number}?view={view.pk}").status_code == 200
    assert _numbers(client.get(f"{BACKLOG}?view={view.pk}").content.decode()) == {hot.number}
    # Someone else's personal view does not exist for this user.
    theirs = _view(personas, owner=personas.admin, name="Theirs")
    assert client.get(f"{BOARD}?view={theirs.pk}").status_code == 404
    assert client.get(f"{BOARD}?view=x").status_code == 404


def test_a_view_whose_query_broke_shows_nothing_and_says_why(personas: Personas, cards):
    view = _view(personas, owner=personas.member, query="label = gone")
    html = page_client(personas, "member").get(f"{BOARD}?view={view.pk}").content.decode()
    assert _numbers(html) == set()
    assert "no longer works: Unknown label" in html
    # Chosen in the switcher, the board is redrawn by htmx: the reason comes along (oob), and
    # goes when another view is chosen.
    redraw = page_client(personas, "member").get(
        f"{BOARD}?view={view.pk}", headers={"HX-Request": "true", "HX-Target": "board"}
    )
    assert 'id="view-error" class="error small" role="alert" hx-swap-oob="true">' in redraw.content.decode()
    assert "no longer works: Unknown label" in redraw.content.decode()
    cleared = (
        page_client(personas, "member")
        .get(BOARD, headers={"HX-Request": "true", "HX-Target": "board"})
        .content.decode()
    )
    assert 'id="view-error" class="error small" role="alert" hx-swap-oob="true" hidden>' in cleared


def test_save_view_saves_the_search_text(personas: Personas, cards):
    client = page_client(personas, "member")
    response = client.post(SAVE, {"name": "Hot", "q": "priority >= high"})
    view = SavedView.objects.get()
    assert (view.name, view.query, view.owner, view.shared) == ("Hot", "priority >= high", personas.member, False)
    assert response.status_code == 302 and response["Location"] == f"{BOARD}?view={view.pk}"
    # htmx follows HX-Redirect; a member's "shared" is ignored (personal view).
    response = client.post(SAVE, {"name": "Mine", "q": "Hot", "shared": "1"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Redirect"].startswith(f"{BOARD}?view=")
    assert SavedView.objects.get(name="Mine").owner == personas.member
    page_client(personas, "admin").post(SAVE, {"name": "Team", "q": "", "shared": "1"})
    assert SavedView.objects.get(name="Team").shared


def test_save_view_refuses_a_bad_query_with_the_reason(personas: Personas):
    client = page_client(personas, "member")
    response = client.post(SAVE, {"name": "Bad", "q": "priorty = high"}, follow=True)
    assert not SavedView.objects.exists()
    assert "The view was not saved: Unknown field &#x27;priorty&#x27; at 0" in response.content.decode()


def test_save_form_only_for_writers_and_save_needs_the_member_role(personas: Personas):
    assert 'action="/projects/olivia/blog/views"' in page_client(personas, "member").get(BOARD).content.decode()
    assert 'action="/projects/olivia/blog/views"' not in page_client(personas, "viewer").get(BOARD).content.decode()
    # Only admins may share: only they get the choice.
    assert 'name="shared"' in page_client(personas, "admin").get(BOARD).content.decode()
    assert 'name="shared"' not in page_client(personas, "member").get(BOARD).content.decode()
    statuses = page_matrix(personas, "post", SAVE, {"name": "V", "q": ""})
    assert statuses == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 302, "admin": 302, "owner": 302}


def test_board_query_count_does_not_grow_with_cards(personas: Personas, cards):
    view = _view(personas, owner=personas.member, query="label = backend OR priority >= high")
    _view(personas, name="Team")
    client = page_client(personas, "member")

    def count(url: str) -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    # The first board after a cache clear also works out the team's p85 cycle time for the aging
    # marks (insights.cycle.card_ages caches it for 10 minutes): count from the second one.
    count(f"{BOARD}?view={view.pk}")
    few = count(f"{BOARD}?view={view.pk}")
    few_backlog = count(f"{BACKLOG}?view={view.pk}")
    for _ in range(10):
        TicketFactory(project=personas.project, priority="urgent").labels.add(*personas.project.labels.all())
    assert count(f"{BOARD}?view={view.pk}") == few
    assert count(f"{BACKLOG}?view={view.pk}") == few_backlog
