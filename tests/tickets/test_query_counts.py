"""List endpoints that hang off a card or a project: the query count does not grow with the rows.

The board, card list, card detail and timeline have their own tests; these cover the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects import services as project_services
from tests.factories import LabelFactory, MembershipFactory, UserFactory
from tests.tickets.helpers import url
from tickets import services

pytestmark = pytest.mark.django_db


def assert_flat(client: Any, path: str, grow: Callable[[int], None], assert_max: Any, *, ceiling: int = 10) -> None:
    """GET `path` after growing the data twice: the second count must not exceed the first."""
    grow(2)
    with assert_max(ceiling) as small:
        response = client.get(path)
        assert response.status_code == 200, response.json()
    grow(8)
    with assert_max(len(small.captured_queries)):
        response = client.get(path)
        assert response.status_code == 200, response.json()


def test_comments_list(personas, make_card, django_assert_max_num_queries):
    card = make_card()

    def grow(n: int) -> None:
        for i in range(n):
            author = MembershipFactory(project=personas.project, user=UserFactory()).user
            services.comment_create(ticket=card, by=author, body=f"note {i} about BLOG-{card.number} @adam", minutes=3)

    assert_flat(personas.client("viewer"), url(f"/cards/{card.pk}/comments"), grow, django_assert_max_num_queries)


def test_checklist_list(personas, make_card, django_assert_max_num_queries):
    card = make_card()

    def grow(n: int) -> None:
        for i in range(n):
            services.checklist_item_add(ticket=card, by=personas.member, text=f"step {i}", done=i % 2 == 0)

    assert_flat(personas.client("viewer"), url(f"/cards/{card.pk}/checklist"), grow, django_assert_max_num_queries)


def test_attachments_list(personas, make_card, django_assert_max_num_queries):
    card = make_card()

    def grow(n: int) -> None:
        for i in range(n):
            uploader = MembershipFactory(project=personas.project, user=UserFactory()).user
            services.attachment_add(
                ticket=card, by=uploader, upload=SimpleUploadedFile(f"{i}.txt", b"notes", content_type="text/plain")
            )

    assert_flat(personas.client("viewer"), url(f"/cards/{card.pk}/attachments"), grow, django_assert_max_num_queries)


def test_links_list(personas, make_card, django_assert_max_num_queries):
    card = make_card()
    counter = iter(range(1000))

    def grow(n: int) -> None:
        for _ in range(n):
            services.git_link_add(ticket=card, url=f"https://git.example.com/c/{next(counter)}", by=personas.member)

    assert_flat(personas.client("viewer"), url(f"/cards/{card.pk}/links"), grow, django_assert_max_num_queries)


def _rich_cards(personas: Any, make_card: Any, **fields: Any) -> Callable[[int], None]:
    """Cards with an assignee, labels and a parent each: every relation a serializer might read."""
    counter = iter(range(1000))

    def grow(n: int) -> None:
        for _ in range(n):
            i = next(counter)
            label = LabelFactory(project=personas.project, name=f"l{i}")
            assignee = MembershipFactory(project=personas.project, user=UserFactory()).user
            parent = make_card(f"parent {i}", **fields)
            make_card(f"card {i}", assignee=assignee, labels=[label.pk], parent=parent.pk, **fields)

    return grow


def test_column_cards_list(personas, columns, make_card, django_assert_max_num_queries):
    grow = _rich_cards(personas, make_card)
    assert_flat(personas.client("viewer"), url(f"/columns/{columns[0].pk}/cards"), grow, django_assert_max_num_queries)


def test_deleted_cards_list(personas, make_card, django_assert_max_num_queries):
    rich = _rich_cards(personas, make_card)

    def grow(n: int) -> None:
        rich(n)
        for ticket in personas.project.tickets.filter(deleted_at__isnull=True, title__startswith="card"):
            services.ticket_delete(ticket=ticket, by=personas.owner)

    assert_flat(personas.client("admin"), url("/cards/deleted"), grow, django_assert_max_num_queries)


def test_sprint_tickets_list(personas, make_card, django_assert_max_num_queries):
    sprint = project_services.sprint_create(project=personas.project, by=personas.owner, name="S1")
    grow = _rich_cards(personas, make_card, sprint=sprint.pk)
    assert_flat(personas.client("viewer"), url(f"/sprints/{sprint.pk}/tickets"), grow, django_assert_max_num_queries)
