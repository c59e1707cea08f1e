"""Invitations on pages: the members section of project settings, the /invite/<token> landing
page (signed out and signed in), the whole e-mail flow, and the member picker's suggestions."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from django.core import mail
from django.test import Client, TestCase

from projects.models import Invitation, Membership, OrganizationMembership
from projects.services import invitations
from tests.factories import OrganizationFactory, UserFactory
from tests.web.conftest import page_client, page_matrix

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
SETTINGS = "/projects/olivia/blog/settings"
TOKEN_RE = re.compile(r"/invite/([A-Za-z0-9_-]+)")


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = IMMEDIATE


def post(client: Client, url: str, data: dict):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data)


def link(personas, **kwargs) -> str:
    created = invitations.invitation_create(
        project=personas.project, kind="link", role=kwargs.pop("role", "member"), by=personas.owner, **kwargs
    )
    assert created.token
    return created.token


# --------------------------------------------------------------------------- settings page


def test_invite_by_email_from_the_settings_page(personas):
    client = page_client(personas, "admin")
    response = post(client, SETTINGS, {"action": "invite_email", "email": "grace@example.com", "role": "viewer"})
    assert response.status_code == 302
    assert response["Location"].endswith("#invite")
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["grace@example.com"]
    page = client.get(SETTINGS).content.decode()
    assert 'id="invite"' in page
    assert "grace@example.com" in page
    assert "Invitation sent to grace@example.com." in page


def test_create_link_is_shown_once_then_revoked(personas):
    client = page_client(personas, "owner")
    post(client, SETTINGS, {"action": "invite_link", "role": "member", "expires_days": "3", "max_uses": "4"})
    invitation = Invitation.objects.get()
    assert invitation.max_uses == 4 and invitation.expires_at is not None
    page = client.get(SETTINGS).content.decode()
    url = re.search(r"<code data-secret-url>([^<]+)</code>", page)
    assert url and "/invite/" in url.group(1)
    assert "0 / 4" in page
    assert "data-secret-url" not in client.get(SETTINGS).content.decode()
    post(client, SETTINGS, {"action": "invite_revoke", "invitation": str(invitation.pk)})
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert "No pending invitations." in client.get(SETTINGS).content.decode()


def test_settings_forms_refuse_bad_input(personas):
    client = page_client(personas, "admin")
    for data in (
        {"action": "invite_email", "email": "not-an-address"},
        {"action": "invite_email", "email": "a" * 250 + "@example.com"},
        {"action": "invite_email", "email": "a@example.com", "role": "owner"},
        {"action": "invite_link", "expires_days": "0"},
        {"action": "invite_link", "max_uses": "lots"},
        {"action": "invite_revoke", "invitation": "999"},
    ):
        response = post(client, SETTINGS, data)
        assert response.status_code in (302, 404), data
    assert not Invitation.objects.exists()


def test_settings_invite_actions_need_manage(personas):
    data = {"action": "invite_link", "role": "member"}
    assert page_matrix(personas, "POST", SETTINGS, data) == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 302,
        "owner": 302,
    }
    assert Invitation.objects.count() == 2


# --------------------------------------------------------------------------- landing page


def test_signed_out_landing_links_to_sign_in_and_register(personas):
    token = link(personas, role="viewer")
    page = Client().get(f"/invite/{token}").content.decode()
    assert "Join Blog" in page and "viewer" in page
    next_part = "next=" + quote(f"/invite/{token}", safe="")
    assert f'href="/login/?{next_part}"' in page
    assert f'href="/register/?{next_part}"' in page


def test_signed_in_accept_lands_on_the_board(personas):
    token = link(personas)
    guest = UserFactory(username="guest")
    client = Client()
    client.force_login(guest)
    assert "Accept and join" in client.get(f"/invite/{token}").content.decode()
    response = client.post(f"/invite/{token}")
    assert response.status_code == 302 and response["Location"] == "/projects/olivia/blog/"
    assert Membership.objects.get(project=personas.project, user=guest).role == "member"
    # Again: already a member, same landing, nothing counted twice.
    assert client.post(f"/invite/{token}")["Location"] == "/projects/olivia/blog/"
    assert Invitation.objects.get().uses == 1


def test_refused_invitations_say_why(personas):
    token = link(personas, max_uses=1)
    client = Client()
    client.force_login(UserFactory(username="first"))
    client.post(f"/invite/{token}")
    late = Client()
    late.force_login(UserFactory(username="late"))
    page = late.get(f"/invite/{token}").content.decode()
    assert "used as many times as it allows" in page and "Accept and join" not in page
    response = late.post(f"/invite/{token}", follow=True)
    assert "used as many times as it allows" in response.content.decode()
    assert not Membership.objects.filter(user__username="late").exists()
    assert Client().get("/invite/unknown-token").status_code == 404


def test_signed_out_post_goes_to_sign_in(personas):
    token = link(personas)
    response = Client().post(f"/invite/{token}")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_org_invitation_lands_on_the_projects_page(db):
    org = OrganizationFactory(slug="acme", name="Acme")
    owner = UserFactory(username="own")
    OrganizationMembership.objects.create(organization=org, user=owner, role="owner")
    created = invitations.invitation_create(organization=org, kind="link", role="member", by=owner)
    guest = UserFactory(username="guest")
    client = Client()
    client.force_login(guest)
    assert "Join Acme" in client.get(created.url or "").content.decode()
    response = client.post(f"/invite/{created.token}")
    assert response["Location"] == "/projects/"
    assert OrganizationMembership.objects.filter(organization=org, user=guest, role="member").exists()


# --------------------------------------------------------------------------- the whole e-mail flow


def test_email_invitation_end_to_end(personas):
    """Invite by e-mail → the mail's link → register with ?next= → accept → the project board."""
    post(page_client(personas, "admin"), SETTINGS, {"action": "invite_email", "email": "new@example.com"})
    (message,) = mail.outbox
    path = "/invite/" + TOKEN_RE.search(message.body).group(1)  # type: ignore[union-attr]
    browser = Client()
    landing = browser.get(path).content.decode()
    register = re.search(r'href="(/register/\?next=[^"]+)"', landing)
    assert register
    response = browser.post(
        register.group(1).replace("&amp;", "&"),
        {"username": "newbie", "email": "new@example.com", "password": "a long enough passphrase 42"},
    )
    assert response.status_code == 302 and response["Location"] == path
    response = browser.post(path)
    assert response["Location"] == "/projects/olivia/blog/"
    assert Membership.objects.get(project=personas.project, user__username="newbie").role == "member"
    assert browser.get("/projects/olivia/blog/").status_code == 200


def test_email_invitation_refuses_another_account(personas):
    post(page_client(personas, "owner"), SETTINGS, {"action": "invite_email", "email": "grace@example.com"})
    path = "/invite/" + TOKEN_RE.search(mail.outbox[0].body).group(1)  # type: ignore[union-attr]
    client = Client()
    client.force_login(UserFactory(username="mallory", email="mallory@example.com"))
    assert "data-invite-mismatch" in client.get(path).content.decode()
    response = client.post(path, follow=True)
    assert "This invitation was sent to grace@example.com" in response.content.decode()
    assert not Membership.objects.filter(user__username="mallory").exists()


# --------------------------------------------------------------------------- member picker


def test_member_picker_matrix(personas):
    UserFactory(username="zoe", email="zoe@example.com")
    url = "/projects/olivia/blog/settings/people?q=zo"
    assert page_matrix(personas, "GET", url) == {
        "anonymous": 302,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }


def test_member_picker_rows(personas, django_assert_max_num_queries):
    for n in range(12):
        UserFactory(username=f"zoe{n:02}", email=f"zoe{n}@example.com", display_name=f"Zoe {n}")
    client = page_client(personas, "admin")
    with django_assert_max_num_queries(8):
        items = client.get("/projects/olivia/blog/settings/people?q=ZOE").json()["items"]
    assert len(items) == 10
    assert items[0] == {"username": "zoe00", "name": "Zoe 0"}
    assert all("email" not in item for item in items)
    staff = Client()
    staff.force_login(UserFactory(username="root", is_staff=True))
    items = staff.get("/projects/olivia/blog/settings/people?q=zoe1").json()["items"]
    assert {"username": "zoe01", "name": "Zoe 1", "email": "zoe1@example.com"} in items
    page = client.get(SETTINGS).content.decode()
    assert 'list="add-username-people"' in page and 'data-people="/projects/olivia/blog/settings/people"' in page


def test_email_invitation_with_mandatory_verification(personas):
    """The site asks new accounts to confirm their address first: the invitee registers from the
    link, confirms from the second mail, and the invitation still takes them to the board."""
    from accounts import services as account_services

    account_services.system_settings_update(by=None, email_verification="mandatory")
    post(page_client(personas, "admin"), SETTINGS, {"action": "invite_email", "email": "new@example.com"})
    (invitation_mail,) = mail.outbox
    path = "/invite/" + TOKEN_RE.search(invitation_mail.body).group(1)  # type: ignore[union-attr]
    mail.outbox.clear()
    browser = Client()
    with TestCase.captureOnCommitCallbacks(execute=True):
        registered = browser.post(
            f"/register/?next={quote(path)}",
            {"username": "newbie", "email": "new@example.com", "password": "a long enough passphrase 42"},
        )
    assert registered.status_code == 302 and registered["Location"] == "/accounts/confirm-email/"
    assert browser.get("/api/auth/session").json()["user"] is None  # not signed in before confirming
    (confirmation,) = mail.outbox
    confirm = re.search(r"https?://[^/\s]+(/accounts/confirm-email/[^/\s]+/)", confirmation.body)
    assert confirm, confirmation.body
    # Confirmed in the same browser: signed in, and back on the invitation.
    confirmed = browser.get(confirm.group(1))
    assert confirmed.status_code == 302 and confirmed["Location"] == path
    response = browser.post(path)
    assert response.status_code == 302 and response["Location"] == "/projects/olivia/blog/"
    assert Membership.objects.get(project=personas.project, user__username="newbie").role == "member"
