"""Invitations through the API: who may invite, the role ceiling, links, e-mail invitations."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.db import reset_queries
from django.test import TestCase
from django.utils import timezone
from rest_framework.test import APIClient

from projects.models import Invitation, Membership, OrganizationMembership
from tests.factories import OrganizationFactory, UserFactory

IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
TOKEN_RE = re.compile(r"/invite/([A-Za-z0-9_-]+)")


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = IMMEDIATE


def post(client: APIClient, url: str, body: dict):
    """A POST whose on-commit work (the mail task) runs, as it does outside the test's transaction."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, body, format="json")


def invitations_url(personas, suffix: str = "") -> str:
    return f"/api/v1/projects/{personas.project.slug}/invitations{suffix}"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def make_link(personas, **data) -> dict:
    body = {"kind": "link", "role": "member", **data}
    response = personas.client("owner").post(invitations_url(personas), body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def accept(user, token: str):
    return client_for(user).post(f"/api/v1/invitations/{token}/accept")


def mailed_token() -> str:
    match = TOKEN_RE.search(mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return match.group(1)


# --------------------------------------------------------------------------- role matrices


def test_list_matrix(personas):
    assert personas.matrix("GET", invitations_url(personas)) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }


def test_create_matrix(personas):
    statuses = personas.matrix("POST", invitations_url(personas), lambda role: {"email": f"{role}-guest@example.com"})
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 201, "owner": 201}
    assert sorted(Invitation.objects.values_list("email", flat=True)) == [
        "admin-guest@example.com",
        "owner-guest@example.com",
    ]


def test_revoke_matrix(personas):
    ids: list[int] = []

    def fresh() -> None:
        ids.append(make_link(personas)["id"])

    statuses = personas.matrix("DELETE", lambda role: invitations_url(personas, f"/{ids[-1]}"), fresh=fresh)
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 204, "owner": 204}
    revoked = set(Invitation.objects.filter(revoked_at__isnull=False).values_list("pk", flat=True))
    assert revoked == {ids[4], ids[5]}


def test_api_key_without_projects_scope(personas, api_key_client):
    reader = api_key_client(personas.owner, ["tickets:read"])
    assert reader.get(invitations_url(personas)).status_code == 403
    assert reader.post(invitations_url(personas), {"kind": "link"}, format="json").status_code == 403
    read_only = api_key_client(personas.owner, ["projects:read"])
    assert read_only.get(invitations_url(personas)).status_code == 200
    assert read_only.post(invitations_url(personas), {"kind": "link"}, format="json").status_code == 403
    writer = api_key_client(personas.owner, ["projects:write"])
    assert writer.post(invitations_url(personas), {"kind": "link"}, format="json").status_code == 201
    # Accepting is a write under the same scope.
    token = make_link(personas)["token"]
    guest = UserFactory(username="guest")
    assert api_key_client(guest, ["tickets:write"]).post(f"/api/v1/invitations/{token}/accept").status_code == 403
    assert api_key_client(guest, ["projects:write"]).post(f"/api/v1/invitations/{token}/accept").status_code == 200


# --------------------------------------------------------------------------- role ceiling


def test_admin_invites_up_to_admin_never_owner(personas):
    admin = personas.client("admin")
    assert admin.post(invitations_url(personas), {"kind": "link", "role": "admin"}, format="json").status_code == 201
    response = personas.client("owner").post(
        invitations_url(personas), {"kind": "link", "role": "owner"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "role"


def test_staff_invites_as_admin(personas):
    staff = UserFactory(username="root", is_staff=True)
    response = client_for(staff).post(invitations_url(personas), {"kind": "link", "role": "admin"}, format="json")
    assert response.status_code == 201


def test_org_role_ceiling(db):
    org = OrganizationFactory(slug="acme")
    owner, admin, member = UserFactory(username="own"), UserFactory(username="adm"), UserFactory(username="mem")
    for user, role in ((owner, "owner"), (admin, "admin"), (member, "member")):
        OrganizationMembership.objects.create(organization=org, user=user, role=role)
    url = "/api/v1/orgs/acme/invitations"
    assert client_for(admin).post(url, {"kind": "link", "role": "owner"}, format="json").status_code == 403
    assert client_for(admin).post(url, {"kind": "link", "role": "admin"}, format="json").status_code == 201
    assert client_for(owner).post(url, {"kind": "link", "role": "owner"}, format="json").status_code == 201
    assert client_for(member).post(url, {"kind": "link", "role": "member"}, format="json").status_code == 403
    assert client_for(member).get(url).status_code == 403
    assert client_for(UserFactory(username="out")).get(url).status_code == 404
    assert APIClient().get(url).status_code == 401
    response = client_for(admin).get(url)
    assert [row["role"] for row in response.json()] == ["owner", "admin"]


def test_bad_input_is_a_clear_400(personas):
    owner = personas.client("owner")
    cases = [
        ({"kind": "email", "email": ""}, "email"),
        ({"kind": "link", "email": "a@example.com"}, "email"),
        ({"kind": "email", "email": "a@example.com", "max_uses": 3}, "max_uses"),
        ({"kind": "link", "expires_at": (timezone.now() - timedelta(hours=1)).isoformat()}, "expires_at"),
        ({"kind": "link", "expires_at": (timezone.now() + timedelta(days=400)).isoformat()}, "expires_at"),
        ({"kind": "link", "max_uses": 0}, "max_uses"),
        ({"kind": "other"}, "kind"),
    ]
    for body, field in cases:
        response = owner.post(invitations_url(personas), body, format="json")
        assert response.status_code == 400, body
        assert response.json()["details"][0]["field"] == field, body


# --------------------------------------------------------------------------- list shape and queries


def test_list_shows_pending_only_with_shape(personas):
    link = make_link(personas, max_uses=5, role="viewer")
    revoked = make_link(personas)
    personas.client("owner").delete(invitations_url(personas, f"/{revoked['id']}"))
    expired = make_link(personas)
    Invitation.objects.filter(pk=expired["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = personas.client("admin").get(invitations_url(personas))
    assert response.status_code == 200
    (row,) = response.json()
    assert row["id"] == link["id"]
    assert row == {
        "id": link["id"],
        "kind": "link",
        "role": "viewer",
        "email": "",
        "status": "pending",
        "expires_at": None,
        "max_uses": 5,
        "uses": 0,
        "invited_by": row["invited_by"],
        "created_at": row["created_at"],
        "sent_at": None,
    }
    assert row["invited_by"]["username"] == "olivia"
    assert "token" not in row and "hashed_token" not in row


def test_list_query_count_does_not_grow(personas, django_assert_max_num_queries):
    client = personas.client("admin")
    for n in range(2):
        post(client, invitations_url(personas), {"email": f"a{n}@example.com"})
    # Each request empties the connection's query log: start both counts from an empty one.
    reset_queries()
    with django_assert_max_num_queries(2) as few:
        assert len(client.get(invitations_url(personas)).json()) == 2
    baseline = len(few)
    for n in range(10):
        make_link(personas)
        post(client, invitations_url(personas), {"email": f"b{n}@example.com"})
    reset_queries()
    with django_assert_max_num_queries(baseline):
        assert len(client.get(invitations_url(personas)).json()) == 22


# --------------------------------------------------------------------------- links


def test_link_is_shown_once_and_stored_hashed(personas):
    created = make_link(personas)
    assert created["url"].endswith(f"/invite/{created['token']}")
    row = Invitation.objects.get(pk=created["id"])
    assert created["token"] not in row.hashed_token
    assert len(row.hashed_token) == 64


def test_info_is_public(personas):
    created = make_link(personas, role="viewer")
    response = APIClient().get(f"/api/v1/invitations/{created['token']}")
    assert response.status_code == 200
    body = response.json()
    assert body["target"] == {"type": "project", "name": "Blog", "slug": personas.project.slug}
    assert body["role"] == "viewer" and body["status"] == "pending" and body["kind"] == "link"
    assert body["invited_by"]["username"] == "olivia"
    assert APIClient().get("/api/v1/invitations/nope").status_code == 404


def test_accept_link_joins_with_role(personas):
    token = make_link(personas, role="viewer")["token"]
    guest = UserFactory(username="guest")
    response = accept(guest, token)
    assert response.status_code == 200
    assert response.json() == {
        "joined": True,
        "role": "viewer",
        "target": {"type": "project", "name": "Blog", "slug": personas.project.slug},
    }
    assert Membership.objects.get(project=personas.project, user=guest).role == "viewer"
    assert accept(UserFactory(username="nobody-signed-in"), "wrong").status_code == 404
    assert APIClient().post(f"/api/v1/invitations/{token}/accept").status_code == 401


def test_accept_is_idempotent_for_members(personas):
    created = make_link(personas, role="admin", max_uses=1)
    # Mary is already a member: she keeps her role and no use is counted.
    response = accept(personas.member, created["token"])
    assert response.status_code == 200
    assert response.json()["joined"] is False and response.json()["role"] == "member"
    assert Invitation.objects.get(pk=created["id"]).uses == 0
    guest = UserFactory(username="guest")
    assert accept(guest, created["token"]).json()["joined"] is True
    assert accept(guest, created["token"]).json() == {
        "joined": False,
        "role": "admin",
        "target": {"type": "project", "name": "Blog", "slug": personas.project.slug},
    }


def test_use_limit(personas):
    created = make_link(personas, max_uses=2)
    assert accept(UserFactory(username="g1"), created["token"]).status_code == 200
    assert accept(UserFactory(username="g2"), created["token"]).status_code == 200
    response = accept(UserFactory(username="g3"), created["token"])
    assert response.status_code == 409
    assert "used as many times" in response.json()["error"]
    assert Invitation.objects.get(pk=created["id"]).uses == 2
    assert APIClient().get(f"/api/v1/invitations/{created['token']}").json()["status"] == "used_up"


def test_expired_link_refused(personas):
    created = make_link(personas, expires_at=(timezone.now() + timedelta(days=1)).isoformat())
    Invitation.objects.filter(pk=created["id"]).update(expires_at=timezone.now() - timedelta(seconds=1))
    response = accept(UserFactory(username="late"), created["token"])
    assert response.status_code == 409
    assert response.json()["error"] == "This invitation has expired; ask for a new one."


def test_revoked_link_refused(personas):
    created = make_link(personas)
    assert personas.client("admin").delete(invitations_url(personas, f"/{created['id']}")).status_code == 204
    response = accept(UserFactory(username="late"), created["token"])
    assert response.status_code == 409
    assert response.json()["error"] == "This invitation was revoked; ask for a new one."
    # Revoking again is harmless; another project's invitation is not found here.
    assert personas.client("admin").delete(invitations_url(personas, f"/{created['id']}")).status_code == 204
    assert personas.client("admin").delete(invitations_url(personas, "/999999")).status_code == 404


def test_archived_project_refuses_accept(personas):
    token = make_link(personas)["token"]
    personas.project.archived_at = timezone.now()
    personas.project.save(update_fields=["archived_at"])
    assert accept(UserFactory(username="late"), token).status_code == 409
    assert personas.client("owner").post(invitations_url(personas), {"kind": "link"}, format="json").status_code == 409


# --------------------------------------------------------------------------- e-mail invitations


def test_email_invitation_mail_and_accept(personas):
    body = {"email": "Grace@Example.com", "role": "viewer"}
    response = post(personas.client("admin"), invitations_url(personas), body)
    assert response.status_code == 201
    assert response.json()["token"] is None and response.json()["url"] is None
    (message,) = mail.outbox
    assert message.to == ["Grace@Example.com"]
    assert message.subject == "You are invited to Blog on PUNT"
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    token = mailed_token()
    assert f"/invite/{token}" in html
    row = Invitation.objects.get(pk=response.json()["id"])
    assert row.sent_at is not None and row.max_uses == 1 and row.expires_at is not None
    # Someone else holding the link: refused, whatever their role elsewhere.
    wrong = accept(UserFactory(username="mallory", email="mallory@example.com"), token)
    assert wrong.status_code == 403
    assert "Grace@Example.com" in wrong.json()["error"]
    grace = UserFactory(username="grace", email="grace@example.com")
    assert accept(grace, token).json()["joined"] is True
    assert Membership.objects.get(project=personas.project, user=grace).role == "viewer"
    assert accept(UserFactory(username="again", email="grace@example.com"), token).status_code == 409
    assert personas.client("admin").get(invitations_url(personas)).json() == []


def test_email_invitation_matches_a_secondary_allauth_address(personas):
    from allauth.account.models import EmailAddress

    post(personas.client("owner"), invitations_url(personas), {"email": "work@corp.example"})
    token = mailed_token()
    grace = UserFactory(username="grace", email="home@example.com")
    EmailAddress.objects.create(user=grace, email="work@corp.example", verified=False, primary=False)
    assert accept(grace, token).json()["joined"] is True


def test_new_email_invitation_replaces_the_pending_one(personas):
    owner = personas.client("owner")
    post(owner, invitations_url(personas), {"email": "grace@example.com"})
    first = mailed_token()
    post(owner, invitations_url(personas), {"email": "GRACE@example.com", "role": "admin"})
    second = mailed_token()
    grace = UserFactory(username="grace", email="grace@example.com")
    assert accept(grace, first).status_code == 409
    assert accept(grace, second).json()["role"] == "admin"
    assert len(owner.get(invitations_url(personas)).json()) == 0


def test_revoked_before_the_task_runs_sends_nothing(personas, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    response = personas.client("owner").post(invitations_url(personas), {"email": "g@example.com"}, format="json")
    Invitation.objects.filter(pk=response.json()["id"]).update(revoked_at=timezone.now())
    from projects.services.invitation_mail import invitation_send

    assert invitation_send(invitation_id=response.json()["id"]) is False
    assert mail.outbox == []


# --------------------------------------------------------------------------- organizations


def test_org_link_accept(db):
    org = OrganizationFactory(slug="acme", name="Acme")
    owner = UserFactory(username="own")
    OrganizationMembership.objects.create(organization=org, user=owner, role="owner")
    created = client_for(owner).post("/api/v1/orgs/acme/invitations", {"kind": "link", "role": "admin"}, format="json")
    token = created.json()["token"]
    guest = UserFactory(username="guest")
    response = accept(guest, token)
    assert response.json() == {
        "joined": True,
        "role": "admin",
        "target": {"type": "organization", "name": "Acme", "slug": "acme"},
    }
    assert OrganizationMembership.objects.get(organization=org, user=guest).role == "admin"
    assert client_for(owner).delete(f"/api/v1/orgs/acme/invitations/{created.json()['id']}").status_code == 204
    assert accept(UserFactory(username="late"), token).status_code == 409


# --------------------------------------------------------------------------- member picker


def candidates_url(personas, q: str) -> str:
    return f"/api/v1/projects/{personas.project.slug}/member-candidates?q={q}"


def test_candidates_matrix(personas):
    UserFactory(username="zed", email="zed@corp.example")
    assert personas.matrix("GET", candidates_url(personas, "ze")) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 403,
        "member": 403,
        "admin": 200,
        "owner": 200,
    }


def test_candidates_hide_emails_from_project_admins(personas):
    for n in range(12):
        UserFactory(username=f"zed{n:02}", email=f"zed{n}@corp.example", display_name=f"Zed {n}")
    UserFactory(username="quiet", email="hidden@corp.example", display_name="Quiet")
    admin = personas.client("admin")
    rows = admin.get(candidates_url(personas, "zed")).json()
    assert len(rows) == 10
    assert rows[0] == {"username": "zed00", "name": "Zed 0"}
    # An e-mail prefix finds nothing for a project admin; the whole address does.
    assert admin.get(candidates_url(personas, "hidden")).json() == []
    assert admin.get(candidates_url(personas, "HIDDEN@corp.example")).json() == [{"username": "quiet", "name": "Quiet"}]
    staff = client_for(UserFactory(username="root", is_staff=True))
    assert staff.get(candidates_url(personas, "hidden")).json() == [
        {"username": "quiet", "name": "Quiet", "email": "hidden@corp.example"}
    ]
    assert admin.get(candidates_url(personas, "")).json() == []


# --------------------------------------------------------------------------- audit log


def test_audit_trail(personas):
    from audit.models import AuditEntry

    created = make_link(personas, role="viewer")
    guest = UserFactory(username="guest")
    accept(guest, created["token"])
    personas.client("admin").delete(invitations_url(personas, f"/{created['id']}"))
    post(personas.client("owner"), invitations_url(personas), {"email": "g@example.com"})
    post(personas.client("owner"), invitations_url(personas), {"email": "g@example.com"})
    rows = list(AuditEntry.objects.order_by("id").values_list("action", "actor_name", "project_id"))
    pid = personas.project.pk
    assert rows == [
        ("invitation.created", "olivia", pid),
        ("member.added", "guest", pid),
        ("invitation.accepted", "guest", pid),
        ("invitation.revoked", "adam", pid),
        ("invitation.created", "olivia", pid),
        ("invitation.revoked", "olivia", pid),
        ("invitation.created", "olivia", pid),
    ]
    added = AuditEntry.objects.get(action="member.added")
    assert (added.target_repr, added.after) == ("guest", {"role": "viewer"})
    assert added.data["via"] == "invitation"
    # The token is never written anywhere.
    assert not AuditEntry.objects.filter(data__icontains=created["token"]).exists()
    assert AuditEntry.objects.filter(action="invitation.revoked", data__replaced=True).count() == 1
