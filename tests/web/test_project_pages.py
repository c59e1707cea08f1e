from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import ApiKey
from chat.models import Message, Topic
from projects import services as project_services
from projects.models import Column, Label, Membership, Sprint
from tests.conftest import Personas
from tests.factories import PASSWORD, SprintFactory, TicketFactory, UserFactory
from tests.web.conftest import page_client, page_matrix
from webhooks.models import GitHook, Hook

pytestmark = pytest.mark.django_db

BASE = "/projects/olivia/blog"
READ_ROW = {"anonymous": 302, "outsider": 404, "viewer": 200, "member": 200, "admin": 200, "owner": 200}


# --------------------------------------------------------------------------- backlog & sprints


def test_backlog_role_matrix(personas: Personas):
    assert page_matrix(personas, "get", f"{BASE}/backlog") == READ_ROW


def test_backlog_plan_start_complete_and_burndown(personas: Personas):
    project = personas.project
    sprint = SprintFactory(project=project, name="Sprint 1")
    ticket = TicketFactory(project=project, title="Plan me", estimate=5)
    client = page_client(personas, "member")
    html = client.get(f"{BASE}/backlog").content.decode()
    assert "Plan me" in html and "Sprint 1" in html

    response = client.post(f"{BASE}/tickets/{ticket.number}/plan", {"sprint": sprint.pk})
    assert response.status_code == 200, response.content
    ticket.refresh_from_db()
    assert ticket.sprint == sprint

    client.post(f"{BASE}/sprints/{sprint.pk}/start")
    sprint.refresh_from_db()
    assert sprint.status == Sprint.Status.ACTIVE
    project_services.sprint_update(
        sprint=sprint,
        by=personas.owner,
        start_date=timezone.localdate() - datetime.timedelta(days=2),
        end_date=timezone.localdate() + datetime.timedelta(days=5),
    )
    html = client.get(f"{BASE}/backlog").content.decode()
    assert '<svg class="burndown"' in html
    assert "<polyline" in html

    client.post(f"{BASE}/sprints/{sprint.pk}/complete", {"move_to": ""})
    sprint.refresh_from_db()
    ticket.refresh_from_db()
    assert sprint.status == Sprint.Status.CLOSED
    assert ticket.sprint is None


def test_sprint_create_and_refusals(personas: Personas):
    client = page_client(personas, "member")
    client.post(f"{BASE}/sprints", {"name": "Sprint A"})
    client.post(f"{BASE}/sprints", {"name": "Sprint B"})
    a, b = Sprint.objects.get(name="Sprint A"), Sprint.objects.get(name="Sprint B")
    client.post(f"{BASE}/sprints/{a.pk}/start")
    response = client.post(f"{BASE}/sprints/{b.pk}/start", follow=True)
    assert "Only one" in response.content.decode() or "active" in response.content.decode()
    b.refresh_from_db()
    assert b.status == Sprint.Status.PLANNED
    row = page_matrix(personas, "post", f"{BASE}/sprints", {"name": "X"})
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 302, "admin": 302, "owner": 302}


def test_planning_into_a_closed_sprint_is_refused(personas: Personas):
    closed = SprintFactory(project=personas.project, status=Sprint.Status.CLOSED)
    ticket = TicketFactory(project=personas.project)
    response = page_client(personas, "member").post(f"{BASE}/tickets/{ticket.number}/plan", {"sprint": closed.pk})
    assert response.status_code == 400
    assert "closed" in response.json()["error"]


# --------------------------------------------------------------------------- chat


def test_chat_role_matrix(personas: Personas):
    assert page_matrix(personas, "get", f"{BASE}/chat") == READ_ROW
    row = page_matrix(personas, "post", f"{BASE}/chat", {"body": "hello"})
    assert row == {"anonymous": 302, "outsider": 404, "viewer": 403, "member": 302, "admin": 302, "owner": 302}
    assert Message.objects.filter(project=personas.project).count() == 3


def test_chat_post_over_htmx_returns_the_log(personas: Personas):
    client = page_client(personas, "member")
    response = client.post(f"{BASE}/chat", {"body": "Hello **team**"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.startswith('<ul class="chat-log" id="chat-log"')
    assert "<strong>team</strong>" in html
    refreshed = client.get(f"{BASE}/chat", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="chat-log").content.decode()
    assert "<html" not in refreshed and "team" in refreshed


def test_topics(personas: Personas):
    client = page_client(personas, "member")
    response = client.post(f"{BASE}/chat/topics", {"title": "Release plan", "body": "When?"})
    topic = Topic.objects.get(title="Release plan")
    assert response["Location"] == f"{BASE}/topics/{topic.pk}"
    client.post(f"{BASE}/topics/{topic.pk}", {"body": "Friday"})
    html = client.get(f"{BASE}/topics/{topic.pk}").content.decode()
    assert "Release plan" in html and "Friday" in html
    assert page_client(personas, "outsider").get(f"{BASE}/topics/{topic.pk}").status_code == 404
    assert page_client(personas, "member").get(f"{BASE}/topics/999999").status_code == 404


def test_direct_messages(personas: Personas):
    client = page_client(personas, "member")
    response = client.post("/messages/", {"usernames": "olivia"})
    assert response.status_code == 302
    url = response["Location"]
    client.post(url, {"body": "Hi Olivia"})
    assert "Hi Olivia" in page_client(personas, "owner").get(url).content.decode()
    # Someone outside the conversation cannot tell it exists.
    assert page_client(personas, "outsider").get(url).status_code == 404
    assert "Mary" in page_client(personas, "owner").get("/messages/").content.decode()


# --------------------------------------------------------------------------- project settings


def test_project_settings_role_matrix(personas: Personas):
    assert page_matrix(personas, "get", f"{BASE}/settings") == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }


def test_project_settings_actions(personas: Personas):
    newbie = UserFactory(username="nina")
    client = page_client(personas, "admin")
    url = f"{BASE}/settings"
    client.post(url, {"action": "member_add", "username": "nina", "role": "viewer"})
    assert Membership.objects.get(project=personas.project, user=newbie).role == "viewer"
    client.post(url, {"action": "member_role", "username": "nina", "role": "member"})
    assert Membership.objects.get(project=personas.project, user=newbie).role == "member"
    client.post(url, {"action": "member_remove", "username": "nina"})
    assert not Membership.objects.filter(project=personas.project, user=newbie).exists()

    client.post(url, {"action": "column_add", "name": "Review", "category": "in_review", "wip_limit": "2"})
    review = Column.objects.get(project=personas.project, name="Review")
    assert (review.category, review.wip_limit) == ("in_review", 2)
    client.post(url, {"action": "column_update", "column": review.pk, "name": "QA", "category": "in_review"})
    review.refresh_from_db()
    assert (review.name, review.wip_limit) == ("QA", None)

    client.post(url, {"action": "label_add", "name": "urgent-fix", "color": "#ff0000"})
    label = Label.objects.get(project=personas.project, name="urgent-fix")
    client.post(url, {"action": "label_delete", "label": label.pk})
    assert not Label.objects.filter(pk=label.pk).exists()

    response = client.post(url, {"action": "git_hook_add", "provider": "github"}, follow=True)
    hook = GitHook.objects.get(project=personas.project)
    html = response.content.decode()
    assert hook.secret in html and hook.url in html
    # The one-time block is gone on the next view.
    assert "data-secret-url" not in client.get(url).content.decode()

    client.post(url, {"action": "hook_add", "url": "https://example.com/hook", "events": "board.card_moved"})
    assert Hook.objects.get(project=personas.project).events == ["board.card_moved"]

    response = client.post(url, {"action": "member_add", "username": "ghost"}, follow=True)
    assert "errorlist" not in response.content.decode()
    assert "ghost" in response.content.decode()


def test_owner_cannot_be_removed_through_the_page(personas: Personas):
    page_client(personas, "admin").post(f"{BASE}/settings", {"action": "member_remove", "username": "olivia"})
    assert Membership.objects.filter(project=personas.project, user=personas.owner, role="owner").exists()


# --------------------------------------------------------------------------- user settings


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (30, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_user_settings_needs_sign_in():
    from django.test import Client

    assert Client().get("/settings/").status_code == 302


def test_profile_avatar_password_and_api_key_shown_once(personas: Personas):
    client = page_client(personas, "member")
    assert client.get("/settings/").status_code == 200
    client.post("/settings/", {"action": "profile", "display_name": "Mary Major", "email": "mary@example.org"})
    personas.member.refresh_from_db()
    assert personas.member.display_name == "Mary Major"

    upload = SimpleUploadedFile("me.png", _png(), content_type="image/png")
    response = client.post("/settings/", {"action": "avatar", "avatar": upload})
    assert response.status_code == 302
    personas.member.refresh_from_db()
    assert personas.member.avatar.name.endswith(".webp")

    response = client.post("/settings/", {"action": "api_key", "name": "CI", "scopes": ["tickets:read"]}, follow=True)
    html = response.content.decode()
    key = ApiKey.objects.get(user=personas.member)
    import re

    shown = re.search(r"data-api-key[^>]*>(punt_[^<]+)<", html)
    assert shown, html
    assert key.prefix and shown.group(1).startswith(key.prefix)
    assert shown.group(1) not in client.get("/settings/").content.decode()

    client.post("/settings/", {"action": "api_key_revoke", "key": key.pk})
    key.refresh_from_db()
    assert key.revoked_at is not None

    response = client.post(
        "/settings/",
        {"action": "password", "current_password": PASSWORD, "new_password": "an entirely new passphrase"},
    )
    assert response.status_code == 302
    # Still signed in on this browser.
    assert client.get("/settings/").status_code == 200
    wrong = client.post("/settings/", {"action": "password", "current_password": "nope", "new_password": "x" * 20})
    assert "current password is wrong" in wrong.content.decode()
