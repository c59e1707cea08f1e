from __future__ import annotations

from projects.models import Membership
from tests.factories import MembershipFactory, UserFactory

Role = Membership.Role


def members_url(personas, suffix: str = "") -> str:
    return f"/api/v1/projects/{personas.project.slug}/members{suffix}"


def roles(personas) -> dict[str, str]:
    return dict(personas.project.memberships.values_list("user__username", "role"))


# --------------------------------------------------------------------------- role matrices


def test_list_matrix(personas):
    assert personas.matrix("GET", members_url(personas)) == {
        "anonymous": 401,
        "outsider": 404,
        "viewer": 200,
        "member": 200,
        "admin": 200,
        "owner": 200,
    }


def test_add_matrix(personas):
    for role in ("anonymous", "outsider", "viewer", "member", "admin", "owner"):
        UserFactory(username=f"new-{role}")
    statuses = personas.matrix("POST", members_url(personas), lambda role: {"username": f"new-{role}"})
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 201, "owner": 201}


def test_change_role_matrix(personas):
    def reset() -> None:
        Membership.objects.filter(project=personas.project, user=personas.member).update(role=Role.MEMBER)

    # Everyone tries to make mary a viewer; she is reset to member before each try.
    statuses = personas.matrix("PUT", members_url(personas, "/mary"), {"role": "viewer"}, fresh=reset)
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 200, "owner": 200}


def test_remove_matrix(personas):
    tess = UserFactory(username="tess")

    def ensure() -> None:
        Membership.objects.get_or_create(project=personas.project, user=tess, defaults={"role": Role.MEMBER})

    statuses = personas.matrix("DELETE", members_url(personas, "/tess"), fresh=ensure)
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 204, "owner": 204}


def test_leave_matrix(personas):
    def rejoin() -> None:
        for user, role in (
            (personas.viewer, Role.VIEWER),
            (personas.member, Role.MEMBER),
            (personas.admin, Role.ADMIN),
        ):
            Membership.objects.get_or_create(project=personas.project, user=user, defaults={"role": role})

    statuses = personas.matrix("POST", members_url(personas, "/leave"), fresh=rejoin)
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 204, "member": 204, "admin": 204, "owner": 409}


def test_transfer_matrix(personas):
    url = f"/api/v1/projects/{personas.project.slug}/transfer-ownership"
    statuses = personas.matrix("POST", url, {"username": "mary"})
    assert statuses == {"anonymous": 401, "outsider": 404, "viewer": 403, "member": 403, "admin": 403, "owner": 200}


# --------------------------------------------------------------------------- shapes and rules


def test_list_shape(personas):
    response = personas.client("viewer").get(members_url(personas))
    first = response.json()[0]
    owner = personas.project.memberships.get(role=Role.OWNER)
    assert first == {
        "id": owner.pk,
        "user_id": personas.owner.pk,
        "project_id": personas.project.pk,
        "user": {"id": personas.owner.pk, "username": "olivia", "name": "Olivia", "avatar": None},
        "role": "owner",
        "created_at": first["created_at"],
    }
    assert [m["user"]["username"] for m in response.json()] == ["olivia", "adam", "mary", "victor"]


def test_list_query_count_does_not_grow(personas, django_assert_max_num_queries):
    client = personas.client("viewer")
    with django_assert_max_num_queries(4) as small:
        assert len(client.get(members_url(personas)).json()) == 4
    for _ in range(10):
        MembershipFactory(project=personas.project)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(members_url(personas)).json()) == 14


def test_add_member_with_role_and_events(personas, published):
    UserFactory(username="nina")
    response = personas.client("admin").post(
        members_url(personas), {"username": "NINA", "role": "admin"}, format="json", HTTP_X_TAB_ID="t1"
    )
    assert response.status_code == 201
    assert (response.json()["user"]["username"], response.json()["role"]) == ("nina", "admin")
    [call] = published.named("member.added")
    nina = Membership.objects.get(user__username="nina")
    assert call["project_id"] == personas.project.pk
    assert call["user_ids"] == [nina.user_id]
    assert call["tab_id"] == "t1"
    assert (call["payload"]["user_id"], call["payload"]["project_id"], call["payload"]["role"]) == (
        nina.user_id,
        personas.project.pk,
        "admin",
    )


def test_add_refusals(personas):
    UserFactory(username="nina")
    admin = personas.client("admin")
    owner = personas.client("owner")
    unknown = admin.post(members_url(personas), {"username": "ghost"}, format="json")
    assert unknown.status_code == 400
    assert unknown.json()["details"][0]["field"] == "username"
    assert admin.post(members_url(personas), {"username": "mary"}, format="json").status_code == 400
    bad_role = admin.post(members_url(personas), {"username": "nina", "role": "boss"}, format="json")
    assert bad_role.status_code == 400
    assert bad_role.json()["details"][0]["field"] == "role"
    # Owners are never added: neither admins nor the owner can add a second one.
    for client in (admin, owner):
        response = client.post(members_url(personas), {"username": "nina", "role": "owner"}, format="json")
        assert response.status_code == 400
        assert response.json()["details"][0]["field"] == "role"
    assert not Membership.objects.filter(user__username="nina").exists()


def test_nobody_changes_or_removes_the_owner(personas):
    for role in ("admin", "owner"):
        client = personas.client(role)
        assert client.put(members_url(personas, "/olivia"), {"role": "admin"}, format="json").status_code == 403
        assert client.delete(members_url(personas, "/olivia")).status_code == 403
    assert roles(personas)["olivia"] == "owner"


def test_nobody_promotes_to_owner_by_role_change(personas):
    for role in ("admin", "owner"):
        response = personas.client(role).put(members_url(personas, "/mary"), {"role": "owner"}, format="json")
        assert response.status_code == 400
    assert roles(personas)["mary"] == "member"


def test_admins_manage_other_admins(personas):
    other = MembershipFactory(project=personas.project, role=Role.ADMIN).user
    response = personas.client("admin").put(members_url(personas, f"/{other.username}"), {"role": "viewer"})
    assert response.status_code == 200
    assert roles(personas)[other.username] == "viewer"


def test_unknown_member_is_404(personas):
    assert personas.client("owner").put(members_url(personas, "/oscar"), {"role": "viewer"}).status_code == 404
    assert personas.client("owner").delete(members_url(personas, "/nobody")).status_code == 404


def test_remove_publishes_to_project_and_user(personas, published):
    assert personas.client("owner").delete(members_url(personas, "/mary"), HTTP_X_TAB_ID="t").status_code == 204
    [call] = published.named("member.removed")
    assert call["project_id"] == personas.project.pk
    assert call["user_ids"] == [personas.member.pk]
    assert call["payload"]["user_id"] == personas.member.pk
    assert call["payload"]["project_id"] == personas.project.pk
    # Gone: mary now gets 404 for the project.
    assert personas.client("member").get(f"/api/v1/projects/{personas.project.slug}").status_code == 404


def test_leave(personas, published):
    assert personas.client("member").post(members_url(personas, "/leave")).status_code == 204
    assert "mary" not in roles(personas)
    assert published.named("member.removed")[0]["user_ids"] == [personas.member.pk]
    response = personas.client("owner").post(members_url(personas, "/leave"))
    assert response.status_code == 409
    assert "transfer ownership" in response.json()["error"]


def test_site_admin_who_is_not_a_member_cannot_leave(personas):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(UserFactory(is_staff=True))
    assert client.post(members_url(personas, "/leave")).status_code == 404


def test_transfer_keeps_exactly_one_owner(personas, published):
    url = f"/api/v1/projects/{personas.project.slug}/transfer-ownership"
    response = personas.client("owner").post(url, {"username": "victor"}, format="json")
    assert response.status_code == 200
    assert roles(personas) == {"olivia": "admin", "adam": "admin", "mary": "member", "victor": "owner"}
    assert {(m["user"]["username"], m["role"]) for m in response.json()} >= {("victor", "owner"), ("olivia", "admin")}
    assert [c["payload"]["user_id"] for c in published.named("member.updated")] == [
        personas.owner.pk,
        personas.viewer.pk,
    ]
    # The old owner is now an admin: no more owner rights.
    assert personas.client("owner").post(url, {"username": "olivia"}, format="json").status_code == 403


def test_transfer_refusals(personas):
    url = f"/api/v1/projects/{personas.project.slug}/transfer-ownership"
    owner = personas.client("owner")
    assert owner.post(url, {"username": "oscar"}, format="json").status_code == 400
    assert owner.post(url, {"username": "olivia"}, format="json").status_code == 400
    assert owner.post(url, {}, format="json").status_code == 400
    assert roles(personas)["olivia"] == "owner"
    assert personas.project.memberships.filter(role=Role.OWNER).count() == 1


def test_members_need_projects_scope(personas, api_key_client):
    UserFactory(username="nina")
    client = api_key_client(personas.owner, ["tickets:write"])
    assert client.post(members_url(personas), {"username": "nina"}, format="json").status_code == 403
    assert not Membership.objects.filter(user__username="nina").exists()


def test_member_removed_reaches_the_users_group_after_commit(personas, django_capture_on_commit_callbacks):
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(f"user.{personas.member.pk}", channel)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = personas.client("admin").delete(members_url(personas, "/mary"))
        assert response.status_code == 204
        message = async_to_sync(layer.receive)(channel)
    finally:
        async_to_sync(layer.group_discard)(f"user.{personas.member.pk}", channel)
    assert (message["type"], message["event"], message["project_id"]) == (
        "punt.event",
        "member.removed",
        personas.project.pk,
    )
    assert (message["payload"]["user_id"], message["payload"]["project_id"]) == (
        personas.member.pk,
        personas.project.pk,
    )
