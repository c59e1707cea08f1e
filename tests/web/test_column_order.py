"""Project settings: reorder the board's columns (↑/↓ buttons, or a drag that posts the same form)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Personas
from tests.web.conftest import page_client, page_matrix

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"


def _names(personas: Personas) -> list[str]:
    return list(personas.project.columns.order_by("order", "id").values_list("name", flat=True))


def _ids(personas: Personas) -> list[int]:
    return list(personas.project.columns.order_by("order", "id").values_list("pk", flat=True))


def test_buttons_carry_the_swapped_order(personas: Personas):
    assert _names(personas) == ["To Do", "In Progress", "Done"]
    todo, doing, done = _ids(personas)
    html = page_client(personas, "admin").get(f"{BASE}/settings").content.decode()
    assert 'id="column-order"' in html and "settings.js" in html
    # The first column has no ↑, the last no ↓.
    assert 'aria-label="Move To Do left"' not in html and 'aria-label="Move Done right"' not in html
    forms = re.findall(r'<form method="post" class="inline">(.*?)</form>', html, re.S)
    orders = [[int(v) for v in re.findall(r'name="order" value="(\d+)"', f)] for f in forms if "columns_reorder" in f]
    # To Do ↓, In Progress ↑ and ↓, Done ↑: each posts the whole order with one pair swapped.
    assert orders == [[doing, todo, done], [doing, todo, done], [todo, done, doing], [todo, done, doing]]


def test_reorder_through_the_page_and_the_board_follows(personas: Personas):
    todo, doing, done = _ids(personas)
    client = page_client(personas, "admin")
    response = client.post(f"{BASE}/settings", {"action": "columns_reorder", "order": [done, todo, doing]})
    assert response.status_code == 302 and response["Location"].endswith("#column")
    assert _names(personas) == ["Done", "To Do", "In Progress"]
    board = client.get(f"{BASE}/").content.decode()
    assert board.index(">Done<") < board.index(">To Do<") < board.index(">In Progress<")


def test_reorder_role_matrix(personas: Personas):
    todo, doing, done = _ids(personas)
    row = page_matrix(personas, "post", f"{BASE}/settings", {"action": "columns_reorder", "order": [done, doing, todo]})
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 403, "admin": 302, "owner": 302}
    assert _names(personas) == ["Done", "In Progress", "To Do"]


@pytest.mark.parametrize(
    "bad",
    [
        lambda ids: ids[:2],  # a column left out
        lambda ids: [ids[0], ids[0], ids[1]],  # twice
        lambda ids: [*ids, 999999],  # not on this board
        lambda ids: ["x", "-1", ""],  # not numbers
        lambda ids: [],
    ],
)
def test_bad_orders_are_refused_with_a_message(personas: Personas, bad):
    before = _names(personas)
    response = page_client(personas, "admin").post(
        f"{BASE}/settings", {"action": "columns_reorder", "order": bad(_ids(personas))}, follow=True
    )
    assert response.status_code == 200
    assert "every column" in response.content.decode() or "only once" in response.content.decode()
    assert _names(personas) == before
