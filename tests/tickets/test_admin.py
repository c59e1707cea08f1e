from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import UserFactory
from tickets import services

pytestmark = pytest.mark.django_db

MODELS = ["ticket", "event", "checklistitem", "attachment", "gitlink", "timeentry", "watcher"]


@pytest.fixture
def staff_client(client):
    admin = UserFactory(username="root", is_staff=True, is_superuser=True)
    client.force_login(admin)
    return client


def test_every_tickets_model_has_a_working_admin(staff_client, personas, make_card):
    card = make_card("Admin me", assignee="adam")
    services.comment_create(ticket=card, by=personas.member, body="logged", minutes=30)
    services.checklist_item_add(ticket=card, by=personas.member, text="step")
    services.git_link_add(ticket=card, url="https://git.example.com/c/1", by=personas.member)
    services.attachment_add(
        ticket=card, by=personas.member, upload=SimpleUploadedFile("a.txt", b"hi", content_type="text/plain")
    )
    for model in MODELS:
        assert staff_client.get(f"/admin/tickets/{model}/").status_code == 200, model
        assert staff_client.get(f"/admin/tickets/{model}/?q=a").status_code == 200, model
    assert staff_client.get(f"/admin/tickets/ticket/{card.pk}/change/").status_code == 200


def test_ticket_admin_finds_a_key(staff_client, make_card):
    make_card("first")
    second = make_card("second")
    response = staff_client.get("/admin/tickets/ticket/?q=blog-2")
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [second]


def test_tickets_are_not_added_in_the_admin(staff_client, personas):
    # Only ticket_create allocates a number (a bare admin form failed on NOT NULL with a 500).
    assert staff_client.get("/admin/tickets/ticket/add/").status_code == 403
