from __future__ import annotations

import pytest
from django.utils import timezone

from projects.models import Column, Label, OrganizationMembership, Project, Sprint
from tests.factories import (
    LabelFactory,
    OrganizationFactory,
    ProjectFactory,
    SprintFactory,
    TicketFactory,
    UserFactory,
)

PAGES = [
    "/admin/projects/organization/?q=acme",
    "/admin/projects/organizationmembership/?role__exact=owner",
    "/admin/projects/project/?archived=yes",
    "/admin/projects/project/?archived=no&q=BLOG",
    "/admin/projects/membership/?role__exact=admin&q=adam",
    "/admin/projects/column/?category__exact=done",
    "/admin/projects/label/?q=bug",
    "/admin/projects/sprint/?status__exact=planned",
]


@pytest.mark.parametrize("url", PAGES)
def test_admin_changelists_load(personas, client, url):
    org = OrganizationFactory(slug="acme")
    OrganizationMembership.objects.create(organization=org, user=personas.owner, role="owner")
    LabelFactory(project=personas.project, name="bug")
    SprintFactory(project=personas.project)
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get(url)
    assert response.status_code == 200


def test_admin_project_change_page_has_inlines(personas, client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    response = client.get(f"/admin/projects/project/{personas.project.pk}/change/")
    assert response.status_code == 200
    assert b"memberships" in response.content


@pytest.fixture
def root_client(client):
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    return client


def test_projects_are_not_added_in_the_admin_and_keys_stay(personas, root_client):
    # project_create checks the key, makes the owner and the columns; a bare form would not.
    assert root_client.get("/admin/projects/project/add/").status_code == 403
    page = root_client.get(f"/admin/projects/project/{personas.project.pk}/change/")
    assert "key" in page.context["adminform"].readonly_fields


def test_membership_admin_keeps_exactly_one_owner(personas, root_client):
    from projects.models import Membership

    owner_row = Membership.objects.get(project=personas.project, role="owner")
    mary_row = Membership.objects.get(project=personas.project, user=personas.member)
    base = {"project": personas.project.pk}

    second_owner = root_client.post(
        f"/admin/projects/membership/{mary_row.pk}/change/", {**base, "user": personas.member.pk, "role": "owner"}
    )
    assert second_owner.status_code == 200  # the form again, with the error
    assert "exactly one owner" in str(second_owner.context["adminform"].form.non_field_errors())
    demoted = root_client.post(
        f"/admin/projects/membership/{owner_row.pk}/change/", {**base, "user": personas.owner.pk, "role": "admin"}
    )
    assert demoted.status_code == 200
    assert root_client.post(f"/admin/projects/membership/{owner_row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert list(Membership.objects.filter(project=personas.project, role="owner")) == [owner_row]

    promoted = root_client.post(
        f"/admin/projects/membership/{mary_row.pk}/change/", {**base, "user": personas.member.pk, "role": "admin"}
    )
    assert promoted.status_code == 302
    mary_row.refresh_from_db()
    assert mary_row.role == "admin"
    assert root_client.post(f"/admin/projects/membership/{mary_row.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not Membership.objects.filter(pk=mary_row.pk).exists()


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]] if response.context else []


def test_membership_role_change_goes_through_the_service(personas, root_client, published):
    from projects.models import Membership

    mary_row = Membership.objects.get(project=personas.project, user=personas.member)
    response = root_client.post(
        f"/admin/projects/membership/{mary_row.pk}/change/", {"user": personas.member.pk, "role": "admin"}
    )
    assert response.status_code == 302
    assert [(call["event"], call["payload"]["role"]) for call in published.calls] == [("member.updated", "admin")]
    assert root_client.post(f"/admin/projects/membership/{mary_row.pk}/delete/", {"post": "yes"}).status_code == 302
    assert published.names == ["member.updated", "member.removed"]


def test_membership_added_in_the_admin_goes_through_the_service(personas, root_client, published):
    newcomer = UserFactory(username="nina")
    response = root_client.post(
        "/admin/projects/membership/add/", {"project": personas.project.pk, "user": newcomer.pk, "role": "member"}
    )
    assert response.status_code == 302
    assert published.names == ["member.added"]
    assert personas.project.memberships.filter(user=newcomer, role="member").exists()


def test_project_change_and_delete_go_through_the_services(personas, root_client, published):
    project = personas.project
    TicketFactory(project=project)
    response = root_client.post(
        f"/admin/projects/project/{project.pk}/change/",
        {
            "name": "Blog Two",
            "description": "",
            "color": project.color,
            **{
                f"{prefix}-{name}": "0"
                for prefix in ("memberships", "columns")
                for name in ("TOTAL_FORMS", "INITIAL_FORMS")
            },
        },
    )
    assert response.status_code == 302
    project.refresh_from_db()
    assert (project.name, project.path) == ("Blog Two", "blog-two")
    assert published.names == ["project.updated"]

    response = root_client.post(f"/admin/projects/project/{project.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert not Project.objects.filter(pk=project.pk).exists()
    assert published.names == ["project.updated", "project.deleted"]


def test_archive_and_restore_actions(personas, root_client, published):
    project = personas.project
    root_client.post("/admin/projects/project/", {"action": "archive_projects", "_selected_action": [project.pk]})
    project.refresh_from_db()
    assert project.archived_at is not None
    root_client.post("/admin/projects/project/", {"action": "restore_projects", "_selected_action": [project.pk]})
    project.refresh_from_db()
    assert project.archived_at is None
    assert published.names == ["project.archived", "project.restored"]


def test_column_admin_keeps_the_board_rules(personas, root_client, published):
    todo, doing, done = personas.project.columns.order_by("order")
    TicketFactory(project=personas.project, column=todo)
    # A column holding tickets is protected; an empty one is deleted by the service (orders closed up).
    page = root_client.get(f"/admin/projects/column/{todo.pk}/delete/")
    assert "protected" in page.content.decode()
    root_client.post(f"/admin/projects/column/{todo.pk}/delete/", {"post": "yes"})
    assert Column.objects.filter(pk=todo.pk).exists()
    assert root_client.post(f"/admin/projects/column/{doing.pk}/delete/", {"post": "yes"}).status_code == 302
    assert list(personas.project.columns.order_by("order").values_list("name", "order")) == [("To Do", 0), ("Done", 1)]
    assert published.names == ["board.column_deleted"]
    # Renaming goes through column_update, which refuses a duplicate name.
    response = root_client.post(
        f"/admin/projects/column/{done.pk}/change/", {"name": "To Do", "category": "done", "wip_limit": ""}, follow=True
    )
    assert any("already has a column named" in text for text in messages_of(response))
    done.refresh_from_db()
    assert done.name == "Done"
    # The posted order is ignored: columns are reordered on the board.
    root_client.post(f"/admin/projects/column/{done.pk}/change/", {"name": "Shipped", "category": "done", "order": 0})
    done.refresh_from_db()
    assert (done.name, done.order) == ("Shipped", 1)
    assert published.names[-1] == "board.column_updated"


def test_sprint_admin_keeps_one_active_sprint(personas, root_client, published):
    first = SprintFactory(project=personas.project, name="S1")
    second = SprintFactory(project=personas.project, name="S2")
    page = root_client.get(f"/admin/projects/sprint/{first.pk}/change/")
    assert "status" not in page.context["adminform"].form.fields
    response = root_client.post(
        "/admin/projects/sprint/", {"action": "start_sprints", "_selected_action": [first.pk, second.pk]}, follow=True
    )
    assert Sprint.objects.filter(status="active").count() == 1
    first = Sprint.objects.get(status="active")
    assert any("already active" in text for text in messages_of(response))
    # An active sprint is not deleted (its tickets would silently leave it).
    response = root_client.post(f"/admin/projects/sprint/{first.pk}/delete/", {"post": "yes"}, follow=True)
    assert Sprint.objects.filter(pk=first.pk).exists()
    assert any("complete it before deleting" in text for text in messages_of(response))
    root_client.post("/admin/projects/sprint/", {"action": "complete_sprints", "_selected_action": [first.pk]})
    first.refresh_from_db()
    assert first.status == "closed"
    assert published.names == ["sprint.started", "sprint.completed"]


def test_label_admin_goes_through_the_services(personas, root_client, published):
    response = root_client.post(
        "/admin/projects/label/add/", {"project": personas.project.pk, "name": "bug", "color": "#ff0000"}
    )
    assert response.status_code == 302
    label = Label.objects.get(project=personas.project, name="bug")
    root_client.post(f"/admin/projects/label/{label.pk}/delete/", {"post": "yes"})
    assert published.names == ["label.created", "label.deleted"]


def test_organization_keeps_an_owner_and_its_projects(personas, root_client):
    org = OrganizationFactory(slug="acme")
    owner_row = OrganizationMembership.objects.create(organization=org, user=personas.owner, role="owner")
    response = root_client.post(
        f"/admin/projects/organizationmembership/{owner_row.pk}/delete/", {"post": "yes"}, follow=True
    )
    assert OrganizationMembership.objects.filter(pk=owner_row.pk).exists()
    assert any("at least one owner" in text for text in messages_of(response))
    response = root_client.post(
        f"/admin/projects/organizationmembership/{owner_row.pk}/change/", {"role": "member"}, follow=True
    )
    owner_row.refresh_from_db()
    assert owner_row.role == "owner"


def test_bulk_delete_runs_the_service_per_row_and_reports_each_refusal(personas, root_client, published):
    from projects import services

    active = services.sprint_create(project=personas.project, name="Now", by=personas.owner)
    services.sprint_start(sprint=active, by=personas.owner)
    planned = services.sprint_create(project=personas.project, name="Later", by=personas.owner)
    response = root_client.post(
        "/admin/projects/sprint/",
        {"action": "delete_selected", "_selected_action": [active.pk, planned.pk], "post": "yes"},
        follow=True,
    )
    assert response.status_code == 200
    assert list(Sprint.objects.filter(project=personas.project).values_list("name", flat=True)) == ["Now"]
    assert published.names.count("sprint.deleted") == 1
    assert any(text.startswith("Now:") for text in messages_of(response)), messages_of(response)


def test_organization_default_project_is_chosen_among_its_live_projects_through_the_service(
    personas, root_client, published
):
    org = OrganizationFactory(slug="acme", name="Acme")
    one, two = (
        ProjectFactory(owner_user=None, organization=org, created_by=personas.owner, key=key, name=key)
        for key in ("ONE", "TWO")
    )
    ProjectFactory(owner_user=None, organization=org, created_by=personas.owner, key="OLD", archived_at=timezone.now())
    page = root_client.get(f"/admin/projects/organization/{org.pk}/change/")
    choices = page.context["adminform"].form.fields["default_project"].queryset
    # Neither another namespace's project (BLOG) nor an archived one can be picked.
    assert list(choices) == [one, two]

    change = {"name": "Acme", "description": "", "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    response = root_client.post(f"/admin/projects/organization/{org.pk}/change/", {**change, "default_project": two.pk})
    assert response.status_code == 302
    org.refresh_from_db()
    assert org.default_project_id == two.pk
    assert published.named("org.updated")[0]["payload"]["default_project_id"] == two.pk

    foreign = root_client.post(
        f"/admin/projects/organization/{org.pk}/change/", {**change, "default_project": personas.project.pk}
    )
    assert foreign.status_code == 200  # the form again: not one of the choices
    org.refresh_from_db()
    assert org.default_project_id == two.pk

    # Archived after it was chosen, it stays a choice so the rest of the form still saves.
    Project.objects.filter(pk=two.pk).update(archived_at=timezone.now())
    renamed = {**change, "name": "Acme Inc", "default_project": two.pk}
    assert root_client.post(f"/admin/projects/organization/{org.pk}/change/", renamed).status_code == 302
    org.refresh_from_db()
    assert (org.name, org.default_project_id) == ("Acme Inc", two.pk)


def test_project_slug_is_shown_and_read_only_in_the_admin(personas, root_client):
    page = root_client.get(f"/admin/projects/project/{personas.project.pk}/change/")
    assert "slug" in page.context["adminform"].readonly_fields
    listing = root_client.get("/admin/projects/project/?q=blog")
    assert b"blog" in listing.content
