"""Pages turn a service's refusal into form errors, a flash message or an htmx JSON error, and 404 pages."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.test import Client

from punt import errors
from tests.conftest import Personas
from tests.factories import UserFactory
from tests.web.conftest import page_client
from tickets import services as ticket_services
from web.forms import add_service_errors

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"


def test_an_invalid_field_from_the_service_shows_on_that_field_of_the_form(settings):
    settings.PUNT_REGISTRATION_OPEN = True
    UserFactory(username="taken")
    response = Client().post(
        "/register/", {"username": "Taken", "email": "x@example.com", "password": "a long enough passphrase"}
    )
    assert response.status_code == 200
    assert response.context["form"].errors == {"username": ["The name 'Taken' is already taken."]}
    assert "The name &#x27;Taken&#x27; is already taken." in response.content.decode()


class _TitleForm(forms.Form):
    title = forms.CharField()


def test_a_refusal_lands_on_the_fields_the_form_has_and_above_it_otherwise():
    form = _TitleForm({"title": "x"})
    assert form.is_valid()
    add_service_errors(form, errors.invalid_fields({"title": "Too long.", "sprint_id": "Sprint 'S1' is closed."}))
    add_service_errors(form, errors.Conflict("This project is archived and read-only; its owner can restore it."))
    assert form.errors == {
        "title": ["Too long."],
        "__all__": [
            "sprint_id: Sprint 'S1' is closed.",
            "This project is archived and read-only; its owner can restore it.",
        ],
    }


def test_a_forbidden_change_is_a_flash_message_or_an_htmx_json_error(personas: Personas):
    ticket = ticket_services.ticket_create(project=personas.project, by=personas.owner, title="Broken feed")
    comment = ticket_services.comment_create(ticket=ticket, by=personas.owner, body="Owner speaking")
    url = f"{BASE}/tickets/{ticket.number}/comments/{comment.pk}"
    client = page_client(personas, "member")

    response = client.post(url, {"body": "mine now"}, HTTP_HX_REQUEST="true")
    assert (response.status_code, response.json()) == (403, {"error": "Only the author can edit a comment."})

    response = client.post(url, {"body": "mine now"})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Only the author can edit a comment."]


def test_a_missing_thing_behind_a_page_is_the_404_page(personas: Personas):
    ticket = ticket_services.ticket_create(project=personas.project, by=personas.owner, title="Broken feed")
    client = page_client(personas, "member")
    response = client.post(f"{BASE}/tickets/{ticket.number}/comments/999999", {"body": "x"})
    assert response.status_code == 404
    assert "This page does not exist" in response.content.decode()
