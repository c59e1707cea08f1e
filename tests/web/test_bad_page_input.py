"""Odd form input on the pages is a message or a 404, never a 500 or a stored bad value."""

from __future__ import annotations

import pytest

from projects.models import Column, Membership
from tests.conftest import Personas
from tests.factories import TicketFactory
from tests.web.conftest import page_client

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"


@pytest.mark.parametrize("role", ["god", "owner", "", "ADMIN"])
def test_member_role_must_be_a_real_role(personas: Personas, role: str):
    client = page_client(personas, "admin")
    response = client.post(f"{BASE}/settings", {"action": "member_role", "username": "mary", "role": role}, follow=True)
    assert response.status_code == 200 and "Choose one of: admin, member, viewer." in response.content.decode()
    assert Membership.objects.get(project=personas.project, user=personas.member).role == "member"
    # The board still works for her (a stored bad role used to break every page).
    assert page_client(personas, "member").get(f"{BASE}/").status_code == 200


def test_member_add_with_a_bad_role_adds_nobody(personas: Personas):
    from tests.factories import UserFactory

    UserFactory(username="newbie")
    client = page_client(personas, "admin")
    response = client.post(
        f"{BASE}/settings", {"action": "member_add", "username": "newbie", "role": "god"}, follow=True
    )
    assert "Choose one of" in response.content.decode()
    assert not Membership.objects.filter(user__username="newbie").exists()
    client.post(f"{BASE}/settings", {"action": "member_add", "username": "newbie", "role": "viewer"})
    assert Membership.objects.get(user__username="newbie").role == "viewer"


def test_column_category_must_be_a_real_category(personas: Personas):
    client = page_client(personas, "admin")
    column = personas.project.columns.order_by("order").first()
    client.post(f"{BASE}/settings", {"action": "column_add", "name": "Weird", "category": "limbo"})
    assert not Column.objects.filter(name="Weird").exists()
    client.post(f"{BASE}/settings", {"action": "column_update", "column": column.pk, "category": "limbo"})
    column.refresh_from_db()
    assert column.category == "todo"
    # Leaving the category out keeps it (rename only).
    client.post(f"{BASE}/settings", {"action": "column_update", "column": column.pk, "name": "Ready"})
    column.refresh_from_db()
    assert (column.name, column.category) == ("Ready", "todo")


def test_unknown_checklist_item_or_attachment_is_a_404_page(personas: Personas):
    ticket = TicketFactory(project=personas.project)
    client = page_client(personas, "member")
    big = "9" * 25
    for url in (
        f"{BASE}/tickets/{ticket.number}/checklist/{big}",
        f"{BASE}/tickets/{ticket.number}/checklist/12345",
    ):
        response = client.post(url, {"done": "1"})
        assert response.status_code == 404 and "This page does not exist" in response.content.decode()
    for url in (
        f"{BASE}/tickets/{ticket.number}/attachments/{big}",
        f"{BASE}/tickets/{ticket.number}/attachments/12345",
    ):
        assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("minutes", "words"),
    [("-5", "greater than or equal to 1"), ("9" * 30, "less than or equal to 1440"), ("abc", "whole number")],
)
def test_comment_with_bad_minutes_says_why(personas: Personas, minutes: str, words: str):
    ticket = TicketFactory(project=personas.project)
    client = page_client(personas, "member")
    url = f"{BASE}/tickets/{ticket.number}/comment"
    response = client.post(url, {"body": "Did it", "minutes": minutes}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and words in response.json()["error"]
    assert not ticket.events.filter(kind="comment").exists()
    response = client.post(url, {"body": "  "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400 and "Write something first." in response.json()["error"]
