"""Writes for namespaces, projects, members, columns, labels and sprints.

Every function here is keyword-only, runs in one transaction and publishes its events
on commit (punt.events.publish). Callers have already checked the actor's role with
projects.permissions.check_role; the rules checked here are the ones that depend on the
data (owner invariants, uniqueness, state machines), so every adapter gets them.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from accounts.services import system_settings
from projects.models import (
    Column,
    Label,
    Membership,
    Organization,
    OrganizationMembership,
    Project,
    Sprint,
)
from punt.errors import Conflict, Forbidden, NotFound
from punt.errors import invalid as _invalid
from punt.events import publish

User = get_user_model()
Role = Membership.Role
OrgRole = OrganizationMembership.Role

DEFAULT_COLUMNS = (
    ("To Do", Column.Category.TODO),
    ("In Progress", Column.Category.IN_PROGRESS),
    ("Done", Column.Category.DONE),
)

# Distinct, readable on white and dark backgrounds (Tailwind 500s, as in seed 001's examples).
PALETTE = (
    "#3B82F6",
    "#EF4444",
    "#22C55E",
    "#F59E0B",
    "#8B5CF6",
    "#EC4899",
    "#14B8A6",
    "#F97316",
    "#6366F1",
    "#84CC16",
    "#06B6D4",
    "#A855F7",
)

KEY_RE = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")
ORG_SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,148}[a-z0-9])?$")
# Ranks are sparse so a card move writes one row (tickets/ uses the same gap).
RANK_GAP = 1024
BURNDOWN_MAX_DAYS = 366


def _check_choice(field: str, value: str, choices: type[models.TextChoices]) -> str:
    """Refuse a word the model does not know (pages and commands call services without a serializer)."""
    if value not in choices.values:
        raise _invalid(field, f"'{value}' is not one of: {', '.join(choices.values)}.")
    return value


def color_validate(color: str) -> str:
    if not COLOR_RE.match(color or ""):
        raise _invalid("color", "Use a hex colour like #3B82F6.")
    return color.upper()


def color_pick(seed: str) -> str:
    """A palette colour chosen from `seed`, so the same name keeps the same colour."""
    return PALETTE[zlib.crc32(seed.lower().encode()) % len(PALETTE)]


# --------------------------------------------------------------------------- organizations


def organization_slug_taken(name: str) -> bool:
    """True if an organization uses `name` (case-insensitive); user names may not take it."""
    return Organization.objects.filter(slug__iexact=name).exists()


def namespace_taken(name: str) -> bool:
    """True if a user or an organization already uses `name` (case-insensitive)."""
    return (
        User.objects.filter(username__iexact=name).exists() or Organization.objects.filter(slug__iexact=name).exists()
    )


def _org_owner_count(org: Organization) -> int:
    return org.memberships.filter(role=OrgRole.OWNER).count()


@transaction.atomic
def organization_create(*, slug: str, name: str, description: str = "", by: Any) -> Organization:
    slug = (slug or "").strip().lower()
    if not ORG_SLUG_RE.match(slug):
        raise _invalid("slug", "Use lowercase letters, digits and hyphens (not at either end).")
    if namespace_taken(slug):
        raise _invalid("slug", f"The name '{slug}' is already taken by a user or an organization.")
    try:
        with transaction.atomic():
            org = Organization.objects.create(slug=slug, name=name.strip() or slug, description=description)
    except IntegrityError:
        # Two creates raced past the check above; the unique index decided.
        raise _invalid("slug", f"The name '{slug}' is already taken by a user or an organization.") from None
    OrganizationMembership.objects.create(organization=org, user=by, role=OrgRole.OWNER)
    publish("org.created", {"org": org.slug, "user_id": by.pk}, user_ids=[by.pk], actor_id=by.pk)
    return org


@transaction.atomic
def organization_update(
    *, org: Organization, by: Any, name: str | None = None, description: str | None = None
) -> Organization:
    fields = []
    if name is not None:
        if not name.strip():
            raise _invalid("name", "This field may not be blank.")
        org.name = name.strip()
        fields.append("name")
    if description is not None:
        org.description = description
        fields.append("description")
    if fields:
        org.save(update_fields=fields)
        member_ids = list(org.memberships.values_list("user_id", flat=True))
        publish("org.updated", {"org": org.slug, "name": org.name}, user_ids=member_ids, actor_id=by.pk)
    return org


@transaction.atomic
def organization_delete(*, org: Organization, by: Any) -> None:
    """Delete an organization that holds no projects (deleting them by cascade would be a trap)."""
    if org.projects.exists():
        raise Conflict("This organization still has projects; delete or move them first.")
    member_ids = list(org.memberships.values_list("user_id", flat=True))
    slug = org.slug
    org.delete()
    publish("org.deleted", {"org": slug}, user_ids=member_ids, actor_id=by.pk)


def _org_check_manage(*, org: Organization, by: Any, target_role: str | None, new_role: str | None) -> None:
    """Org admins manage members and admins; only owners touch owners."""
    actor_role = (
        OrgRole.OWNER if by.is_staff else org.memberships.filter(user=by).values_list("role", flat=True).first()
    )
    if actor_role == OrgRole.OWNER:
        return
    if OrgRole.OWNER in (target_role, new_role):
        raise Forbidden("Only an organization owner can add, change or remove owners.")


def _org_user(username: str) -> Any:
    user = User.objects.filter(username__iexact=username, is_active=True).first()
    if user is None:
        raise _invalid("username", f"No active user named '{username}'.")
    return user


@transaction.atomic
def organization_member_add(
    *, org: Organization, username: str, role: str = OrgRole.MEMBER, by: Any
) -> OrganizationMembership:
    user = _org_user(username)
    _org_check_manage(org=org, by=by, target_role=None, new_role=role)
    if org.memberships.filter(user=user).exists():
        raise _invalid("username", f"{user.username} is already a member of this organization.")
    try:
        with transaction.atomic():
            membership = OrganizationMembership.objects.create(organization=org, user=user, role=role)
    except IntegrityError:
        raise _invalid("username", f"{user.username} is already a member of this organization.") from None
    publish("org.member_added", {"org": org.slug, "user_id": user.pk, "role": role}, user_ids=[user.pk], actor_id=by.pk)
    return membership


@transaction.atomic
def organization_member_update(*, membership: OrganizationMembership, role: str, by: Any) -> OrganizationMembership:
    org = membership.organization
    # Lock the owners so two demotions cannot leave the organization without one.
    list(org.memberships.select_for_update().filter(role=OrgRole.OWNER))
    _org_check_manage(org=org, by=by, target_role=membership.role, new_role=role)
    if membership.role == OrgRole.OWNER and role != OrgRole.OWNER and _org_owner_count(org) <= 1:
        raise Conflict("An organization needs at least one owner; make someone else owner first.")
    membership.role = role
    membership.save(update_fields=["role"])
    publish(
        "org.member_updated",
        {"org": org.slug, "user_id": membership.user_id, "role": role},
        user_ids=[membership.user_id],
        actor_id=by.pk,
    )
    return membership


@transaction.atomic
def organization_member_remove(*, membership: OrganizationMembership, by: Any) -> None:
    org = membership.organization
    list(org.memberships.select_for_update().filter(role=OrgRole.OWNER))
    if membership.user_id != by.pk:
        _org_check_manage(org=org, by=by, target_role=membership.role, new_role=None)
    if membership.role == OrgRole.OWNER and _org_owner_count(org) <= 1:
        raise Conflict("An organization needs at least one owner; make someone else owner first.")
    user_id = membership.user_id
    membership.delete()
    publish("org.member_removed", {"org": org.slug, "user_id": user_id}, user_ids=[user_id], actor_id=by.pk)


# --------------------------------------------------------------------------- projects


def namespace_resolve(*, namespace: str | None, by: Any) -> tuple[Any | None, Organization | None]:
    """(owner_user, organization) for a namespace `by` may create projects in.

    Their own user name (the default), or an organization where they are owner or admin.
    """
    if not namespace or namespace.lower() == by.username.lower():
        return by, None
    org = Organization.objects.filter(slug__iexact=namespace).first()
    if org is None:
        raise _invalid("namespace", f"No organization named '{namespace}' (and it is not your user name).")
    role = org.memberships.filter(user=by).values_list("role", flat=True).first()
    if role not in (OrgRole.OWNER, OrgRole.ADMIN) and not by.is_staff:
        raise _invalid("namespace", f"You may not create projects in '{org.slug}'.")
    return None, org


def _namespace_projects(*, owner_user: Any | None, organization: Organization | None) -> Any:
    if organization is not None:
        return Project.objects.filter(organization=organization)
    return Project.objects.filter(owner_user=owner_user)


def _path_for(name: str, key: str) -> str:
    return slugify(name)[:200] or key.lower()


def _check_name(*, name: str, key: str, siblings: Any) -> tuple[str, str]:
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "This field may not be blank.")
    if len(name) > 200:
        raise _invalid("name", "Ensure this field has no more than 200 characters.")
    if siblings.filter(name__iexact=name).exists():
        raise _invalid("name", f"A project named '{name}' already exists in this namespace.")
    path = _path_for(name, key)
    if siblings.filter(path__iexact=path).exists():
        raise _invalid("name", f"Another project in this namespace already uses the URL path '{path}'.")
    return name, path


def key_validate(key: str) -> str:
    if not KEY_RE.match(key or ""):
        raise _invalid("key", "Use 2-10 uppercase letters or digits, starting with a letter (e.g. PROJ).")
    return key


def _member_payload(membership: Membership) -> dict[str, Any]:
    return {
        "id": membership.pk,
        "project_id": membership.project_id,
        "user_id": membership.user_id,
        "username": membership.user.username,
        "role": membership.role,
    }


def _project_payload(project: Project) -> dict[str, Any]:
    return {
        "id": project.pk,
        "key": project.key,
        "slug": project.slug,
        "name": project.name,
        "color": project.color,
        "archived_at": project.archived_at.isoformat() if project.archived_at else None,
    }


@transaction.atomic
def project_create(
    *,
    name: str,
    key: str,
    by: Any,
    namespace: str | None = None,
    description: str = "",
    color: str | None = None,
    tab_id: str | None = None,
) -> Project:
    """Create a project in `namespace`; `by` becomes its owner and it gets the default columns."""
    key = key_validate(key)
    owner_user, organization = namespace_resolve(namespace=namespace, by=by)
    name, path = _check_name(
        name=name, key=key, siblings=_namespace_projects(owner_user=owner_user, organization=organization)
    )
    if Project.objects.filter(key__iexact=key).exists():
        raise _invalid("key", f"The key {key} is already used by another project.")
    color = color_validate(color) if color else color_pick(key)
    try:
        with transaction.atomic():
            project = Project.objects.create(
                owner_user=owner_user,
                organization=organization,
                name=name,
                path=path,
                key=key,
                description=description,
                color=color,
                created_by=by,
            )
    except IntegrityError:
        # A concurrent create took the key or path between the checks and the insert.
        raise _invalid("key", "This key or name was just taken by another project; pick another.") from None
    Membership.objects.create(project=project, user=by, role=Role.OWNER)
    columns_create_defaults(project=project)
    publish("project.created", _project_payload(project), user_ids=[by.pk], tab_id=tab_id, actor_id=by.pk)
    return project


@transaction.atomic
def project_update(
    *,
    project: Project,
    by: Any,
    name: str | None = None,
    description: str | None = None,
    color: str | None = None,
    key: str | None = None,
    tab_id: str | None = None,
) -> Project:
    """Change name (and so path), description or colour. The key is immutable."""
    if key is not None and key != project.key:
        raise _invalid("key", "The project key cannot be changed after creation.")
    # Validate everything before touching the instance, so a refusal leaves it as loaded.
    color = color_validate(color) if color is not None else None
    fields: list[str] = []
    if name is not None and name.strip() != project.name:
        siblings = _namespace_projects(owner_user=project.owner_user, organization=project.organization).exclude(
            pk=project.pk
        )
        project.name, project.path = _check_name(name=name, key=project.key, siblings=siblings)
        fields += ["name", "path"]
    if description is not None:
        project.description = description
        fields.append("description")
    if color is not None:
        project.color = color
        fields.append("color")
    if fields:
        try:
            with transaction.atomic():
                project.save(update_fields=[*fields, "updated_at"])
        except IntegrityError:
            raise _invalid("name", "Another project in this namespace just took this name.") from None
        publish("project.updated", _project_payload(project), project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return project


@transaction.atomic
def project_archive(*, project: Project, by: Any, tab_id: str | None = None) -> Project:
    """WarmDesk's DELETE: hide the project, restorable by its owner (the caller is the owner)."""
    if project.archived_at is not None:
        raise Conflict("This project is already archived.")
    project.archived_at = timezone.now()
    project.save(update_fields=["archived_at", "updated_at"])
    publish("project.archived", _project_payload(project), project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return project


@transaction.atomic
def project_restore(*, project: Project, by: Any, tab_id: str | None = None) -> Project:
    """Un-archive (the caller is the owner: checked by the view or page)."""
    if project.archived_at is None:
        raise Conflict("This project is not archived.")
    project.archived_at = None
    project.save(update_fields=["archived_at", "updated_at"])
    publish("project.restored", _project_payload(project), project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return project


@transaction.atomic
def project_delete(*, project: Project, by: Any, tab_id: str | None = None) -> None:
    """Delete a project and everything in it for good (PUNT's owner DELETE). Irreversible."""
    from tickets.models import Ticket

    payload = _project_payload(project)
    member_ids = list(project.memberships.values_list("user_id", flat=True))
    project_id = project.pk
    # Ticket.column is PROTECT (a column cannot vanish under its cards), so cards go first.
    Ticket.objects.filter(project=project).delete()
    project.delete()
    publish("project.deleted", payload, project_id=project_id, user_ids=member_ids, tab_id=tab_id, actor_id=by.pk)


# --------------------------------------------------------------------------- members


def _user_by_name(username: str) -> Any:
    user = User.objects.filter(username__iexact=(username or "").strip(), is_active=True).first()
    if user is None:
        raise _invalid("username", f"No active user named '{username}'.")
    return user


def _publish_member(event: str, membership: Membership, *, by: Any, tab_id: str | None) -> None:
    # The user's own group too: their project list changes, and on member.removed the
    # real-time layer closes their sockets for this project.
    publish(
        event,
        _member_payload(membership),
        project_id=membership.project_id,
        user_ids=[membership.user_id],
        tab_id=tab_id,
        actor_id=by.pk,
    )


@transaction.atomic
def membership_add(
    *, project: Project, username: str, role: str | None = None, by: Any, tab_id: str | None = None
) -> Membership:
    """Add a member (the caller has MANAGE). Owners are made by transfer, never added.

    Without a role the member gets the site's default member role (system settings).
    """
    if role is None:
        role = system_settings().default_member_role
    _check_choice("role", role, Role)
    if role == Role.OWNER:
        raise _invalid("role", "A project has exactly one owner; use transfer-ownership instead.")
    user = _user_by_name(username)
    if project.memberships.filter(user=user).exists():
        raise _invalid("username", f"{user.username} is already a member of this project.")
    try:
        with transaction.atomic():
            membership = Membership.objects.create(project=project, user=user, role=role)
    except IntegrityError:
        # A concurrent add of the same person won the race.
        raise _invalid("username", f"{user.username} is already a member of this project.") from None
    _publish_member("member.added", membership, by=by, tab_id=tab_id)
    return membership


@transaction.atomic
def membership_update(*, membership: Membership, role: str, by: Any, tab_id: str | None = None) -> Membership:
    """Change a member's role (the caller has MANAGE). Nobody changes the owner's role here."""
    _check_choice("role", role, Role)
    if role == Role.OWNER:
        raise _invalid("role", "A project has exactly one owner; use transfer-ownership instead.")
    if membership.role == Role.OWNER:
        raise Forbidden("The owner's role cannot be changed; transfer ownership first.")
    if membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
        _publish_member("member.updated", membership, by=by, tab_id=tab_id)
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: Any, tab_id: str | None = None) -> None:
    """Remove a member (the caller has MANAGE, or is leaving). The owner is never removed."""
    if membership.role == Role.OWNER:
        raise Forbidden("The project owner cannot be removed; transfer ownership first.")
    payload_membership = Membership(
        pk=membership.pk, project_id=membership.project_id, user=membership.user, role=membership.role
    )
    membership.delete()
    _publish_member("member.removed", payload_membership, by=by, tab_id=tab_id)


@transaction.atomic
def membership_leave(*, project: Project, by: Any, tab_id: str | None = None) -> None:
    membership = project.memberships.select_related("user").filter(user=by).first()
    if membership is None:
        # A site admin sees every project without being in it: nothing to leave.
        raise NotFound("You are not a member of this project.")
    if membership.role == Role.OWNER:
        raise Conflict("The owner cannot leave; transfer ownership first.")
    membership_remove(membership=membership, by=by, tab_id=tab_id)


@transaction.atomic
def project_transfer_ownership(*, project: Project, username: str, by: Any, tab_id: str | None = None) -> Membership:
    """Make another member the owner; the old owner becomes admin. Exactly one owner throughout."""
    # Lock the project's memberships so two transfers cannot interleave.
    memberships = list(project.memberships.select_for_update().select_related("user"))
    user = _user_by_name(username)
    new_owner = next((m for m in memberships if m.user_id == user.pk), None)
    if new_owner is None:
        raise _invalid("username", f"{user.username} is not a member of this project; add them first.")
    old_owner = next((m for m in memberships if m.role == Role.OWNER), None)
    if old_owner is not None and old_owner.pk == new_owner.pk:
        raise _invalid("username", f"{user.username} already owns this project.")
    if old_owner is not None:
        # one_owner_per_project is checked per statement: demote before promoting.
        old_owner.role = Role.ADMIN
        old_owner.save(update_fields=["role"])
    new_owner.role = Role.OWNER
    new_owner.save(update_fields=["role"])
    if old_owner is not None:
        _publish_member("member.updated", old_owner, by=by, tab_id=tab_id)
    _publish_member("member.updated", new_owner, by=by, tab_id=tab_id)
    return new_owner


# --------------------------------------------------------------------------- columns


def _column_payload(column: Column) -> dict[str, Any]:
    return {
        "id": column.pk,
        "project_id": column.project_id,
        "name": column.name,
        "order": column.order,
        "category": column.category,
        "wip_limit": column.wip_limit,
    }


def _check_column_name(*, project: Project, name: str, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "This field may not be blank.")
    clash = project.columns.filter(name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise _invalid("name", f"This board already has a column named '{name}'.")
    return name


@transaction.atomic
def columns_create_defaults(*, project: Project) -> list[Column]:
    """Give a project with no columns To Do / In Progress / Done (seed 001)."""
    if project.columns.exists():
        return list(project.columns.all())
    return Column.objects.bulk_create(
        Column(project=project, name=name, category=category, order=index)
        for index, (name, category) in enumerate(DEFAULT_COLUMNS)
    )


@transaction.atomic
def column_for_category(*, project: Project, category: str) -> Column:
    """The first column of `category`, created at the end of the board if none exists.

    Setting a ticket's status goes through this (DESIGN.md, "Columns").
    """
    column = project.columns.filter(category=category).order_by("order", "id").first()
    if column is not None:
        return column
    last = project.columns.order_by("-order").values_list("order", flat=True).first()
    name = Column.Category(category).label
    if project.columns.filter(name__iexact=name).exists():
        name = f"{name} ({category})"
    return Column.objects.create(project=project, name=name, category=category, order=0 if last is None else last + 1)


def _sync_ticket_states(*, tickets: Any, category: str, by: Any) -> None:
    """Keep state/closed_at in line with a new column category (a ticket is closed iff done)."""
    now = timezone.now()
    if category == Column.Category.DONE:
        tickets.filter(closed_at__isnull=True).update(state="closed", closed_at=now, closed_by=by, updated_at=now)
    else:
        tickets.exclude(state="opened", closed_at__isnull=True).update(
            state="opened", closed_at=None, closed_by=None, updated_at=now
        )


@transaction.atomic
def column_create(
    *,
    project: Project,
    name: str,
    by: Any,
    category: str = Column.Category.TODO,
    wip_limit: int | None = None,
    tab_id: str | None = None,
) -> Column:
    """Add a column at the right end of the board."""
    _check_choice("category", category, Column.Category)
    # Lock the project so concurrent creates get distinct orders.
    Project.objects.select_for_update().filter(pk=project.pk).first()
    name = _check_column_name(project=project, name=name)
    last = project.columns.aggregate(last=Max("order"))["last"]
    try:
        with transaction.atomic():
            column = Column.objects.create(
                project=project,
                name=name,
                category=category,
                wip_limit=wip_limit,
                order=0 if last is None else last + 1,
            )
    except IntegrityError:
        raise _invalid("name", f"This board already has a column named '{name}'.") from None
    publish("board.column_created", _column_payload(column), project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return column


_UNSET: Any = object()


@transaction.atomic
def column_update(
    *,
    column: Column,
    by: Any,
    name: str | None = None,
    category: str | None = None,
    wip_limit: int | None = _UNSET,
    tab_id: str | None = None,
) -> Column:
    """Rename, recategorise or set the WIP limit (`wip_limit=None` removes it)."""
    fields: list[str] = []
    if name is not None:
        column.name = _check_column_name(project=column.project, name=name, exclude_pk=column.pk)
        fields.append("name")
    if category is not None:
        _check_choice("category", category, Column.Category)
    if category is not None and category != column.category:
        was_done = column.category == Column.Category.DONE
        column.category = category
        fields.append("category")
        if was_done or category == Column.Category.DONE:
            from tickets.models import Ticket

            _sync_ticket_states(tickets=Ticket.objects.filter(column=column), category=category, by=by)
    if wip_limit is not _UNSET:
        column.wip_limit = wip_limit
        fields.append("wip_limit")
    if fields:
        try:
            with transaction.atomic():
                column.save(update_fields=fields)
        except IntegrityError:
            raise _invalid("name", f"This board already has a column named '{column.name}'.") from None
        publish(
            "board.column_updated",
            _column_payload(column),
            project_id=column.project_id,
            tab_id=tab_id,
            actor_id=by.pk,
        )
    return column


@transaction.atomic
def column_delete(
    *, column: Column, by: Any, target: Column | None = None, tab_id: str | None = None
) -> dict[str, Any]:
    """Delete a column; its tickets go to the end of `target`, keeping their order.

    A column holding live tickets needs a target; the last column of a board stays.
    Returns {"moved": n, "target_column_id": id|None}.
    """
    from tickets.models import Event, Ticket

    project = column.project
    Project.objects.select_for_update().filter(pk=project.pk).first()
    if project.columns.count() <= 1:
        raise Conflict("A board keeps at least one column.")
    if target is not None:
        if target.pk == column.pk:
            raise _invalid("target_column_id", "The target must be another column.")
        if target.project_id != project.pk:
            raise _invalid("target_column_id", "The target column must be on the same board.")
    tickets = list(Ticket.objects.select_for_update().filter(column=column).order_by("rank", "id"))
    live = [t for t in tickets if t.deleted_at is None]
    if live and target is None:
        raise _invalid(
            "target_column_id",
            f"This column holds {len(live)} ticket(s); say which column they move to (?target=<column id>).",
        )
    if tickets:
        # Soft-deleted tickets must move too (Ticket.column is PROTECT): to the target, or
        # else to the first other column.
        destination = target or project.columns.exclude(pk=column.pk).order_by("order", "id").first()
        last = Ticket.objects.filter(column=destination).aggregate(last=Max("rank"))["last"] or 0
        now = timezone.now()
        for index, ticket in enumerate(tickets, start=1):
            ticket.column = destination
            ticket.rank = last + index * RANK_GAP
            ticket.updated_at = now
        Ticket.objects.bulk_update(tickets, ["column", "rank", "updated_at"])
        if (column.category == Column.Category.DONE) != (destination.category == Column.Category.DONE):
            _sync_ticket_states(
                tickets=Ticket.objects.filter(pk__in=[t.pk for t in tickets]), category=destination.category, by=by
            )
        Event.objects.bulk_create(
            Event(
                ticket=ticket,
                kind=Event.Kind.ACTION,
                author=by,
                text="move",
                data={
                    "from": {"id": column.pk, "name": column.name},
                    "to": {"id": destination.pk, "name": destination.name},
                    "reason": "column_deleted",
                },
            )
            for ticket in live
        )
    payload = {
        **_column_payload(column),
        "target_column_id": target.pk if target else None,
        "moved_ticket_ids": [t.pk for t in live],
    }
    column.delete()
    # Close the gap so orders stay 0..n-1.
    remaining = list(project.columns.order_by("order", "id"))
    for index, other in enumerate(remaining):
        other.order = index
    Column.objects.bulk_update(remaining, ["order"])
    publish("board.column_deleted", payload, project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return {"moved": len(live), "target_column_id": payload["target_column_id"]}


@transaction.atomic
def columns_reorder(*, project: Project, order: Iterable[int], by: Any, tab_id: str | None = None) -> list[Column]:
    """Put the board's columns in `order`, which names every column exactly once."""
    order = list(order)
    columns = {c.pk: c for c in Column.objects.select_for_update().filter(project=project)}
    if len(order) != len(set(order)):
        raise _invalid("order", "Each column may appear only once.")
    if set(order) != set(columns):
        missing = sorted(set(columns) - set(order))
        unknown = sorted(set(order) - set(columns))
        parts = []
        if missing:
            parts.append(f"missing {missing}")
        if unknown:
            parts.append(f"not on this board {unknown}")
        raise _invalid("order", "List every column of the board exactly once (" + "; ".join(parts) + ").")
    for index, pk in enumerate(order):
        columns[pk].order = index
    result = [columns[pk] for pk in order]
    Column.objects.bulk_update(result, ["order"])
    publish(
        "board.columns_reordered",
        {"project_id": project.pk, "order": order},
        project_id=project.pk,
        tab_id=tab_id,
        actor_id=by.pk,
    )
    return result


# --------------------------------------------------------------------------- labels


def _label_payload(label: Label) -> dict[str, Any]:
    return {
        "id": label.pk,
        "project_id": label.project_id,
        "name": label.name,
        "color": label.color,
        "description": label.description,
    }


def _check_label_name(*, project: Project, name: str, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "This field may not be blank.")
    clash = project.labels.filter(name__iexact=name)
    if exclude_pk is not None:
        clash = clash.exclude(pk=exclude_pk)
    if clash.exists():
        raise _invalid("name", f"This project already has a label named '{name}'.")
    return name


@transaction.atomic
def label_create(
    *,
    project: Project,
    name: str,
    by: Any,
    color: str | None = None,
    description: str = "",
    tab_id: str | None = None,
) -> Label:
    name = _check_label_name(project=project, name=name)
    color = color_validate(color) if color else color_pick(name)
    try:
        with transaction.atomic():
            label = Label.objects.create(project=project, name=name, color=color, description=description)
    except IntegrityError:
        raise _invalid("name", f"This project already has a label named '{name}'.") from None
    publish("label.created", _label_payload(label), project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return label


@transaction.atomic
def label_update(
    *,
    label: Label,
    by: Any,
    name: str | None = None,
    color: str | None = None,
    description: str | None = None,
    tab_id: str | None = None,
) -> Label:
    fields: list[str] = []
    if name is not None:
        label.name = _check_label_name(project=label.project, name=name, exclude_pk=label.pk)
        fields.append("name")
    if color is not None:
        label.color = color_validate(color)
        fields.append("color")
    if description is not None:
        label.description = description
        fields.append("description")
    if fields:
        try:
            with transaction.atomic():
                label.save(update_fields=fields)
        except IntegrityError:
            raise _invalid("name", f"This project already has a label named '{label.name}'.") from None
        publish("label.updated", _label_payload(label), project_id=label.project_id, tab_id=tab_id, actor_id=by.pk)
    return label


@transaction.atomic
def label_delete(*, label: Label, by: Any, tab_id: str | None = None) -> None:
    """Delete a label; tickets simply lose it."""
    payload = _label_payload(label)
    label.delete()
    publish("label.deleted", payload, project_id=payload["project_id"], tab_id=tab_id, actor_id=by.pk)


# --------------------------------------------------------------------------- sprints


def _sprint_payload(sprint: Sprint) -> dict[str, Any]:
    return {
        "id": sprint.pk,
        "project_id": sprint.project_id,
        "name": sprint.name,
        "status": sprint.status,
        "start_date": sprint.start_date.isoformat() if sprint.start_date else None,
        "end_date": sprint.end_date.isoformat() if sprint.end_date else None,
    }


def _check_dates(start_date: date | None, end_date: date | None) -> None:
    if start_date and end_date and end_date < start_date:
        raise _invalid("end_date", "The end date cannot be before the start date.")


@transaction.atomic
def sprint_create(
    *,
    project: Project,
    name: str,
    by: Any,
    goal: str = "",
    start_date: date | None = None,
    end_date: date | None = None,
    tab_id: str | None = None,
) -> Sprint:
    name = (name or "").strip()
    if not name:
        raise _invalid("name", "This field may not be blank.")
    _check_dates(start_date, end_date)
    sprint = Sprint.objects.create(project=project, name=name, goal=goal, start_date=start_date, end_date=end_date)
    publish("sprint.created", _sprint_payload(sprint), project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return sprint


@transaction.atomic
def sprint_update(
    *,
    sprint: Sprint,
    by: Any,
    name: str | None = None,
    goal: str | None = None,
    start_date: date | None = _UNSET,
    end_date: date | None = _UNSET,
    tab_id: str | None = None,
) -> Sprint:
    fields: list[str] = []
    if name is not None:
        if not name.strip():
            raise _invalid("name", "This field may not be blank.")
        sprint.name = name.strip()
        fields.append("name")
    if goal is not None:
        sprint.goal = goal
        fields.append("goal")
    if start_date is not _UNSET:
        sprint.start_date = start_date
        fields.append("start_date")
    if end_date is not _UNSET:
        sprint.end_date = end_date
        fields.append("end_date")
    _check_dates(sprint.start_date, sprint.end_date)
    if fields:
        sprint.save(update_fields=fields)
        publish("sprint.updated", _sprint_payload(sprint), project_id=sprint.project_id, tab_id=tab_id, actor_id=by.pk)
    return sprint


@transaction.atomic
def sprint_delete(*, sprint: Sprint, by: Any, tab_id: str | None = None) -> None:
    """Delete a planned or closed sprint; its tickets go back to the backlog (sprint = null)."""
    if sprint.status == Sprint.Status.ACTIVE:
        raise Conflict("This sprint is active; complete it before deleting it.")
    payload = _sprint_payload(sprint)
    sprint.delete()
    publish("sprint.deleted", payload, project_id=payload["project_id"], tab_id=tab_id, actor_id=by.pk)


@transaction.atomic
def sprint_start(*, sprint: Sprint, by: Any, tab_id: str | None = None) -> Sprint:
    """Start a planned sprint; a project has at most one active sprint."""
    # The project row lock serialises starts, so the check below is race-free (the
    # one_active_sprint constraint is the backstop).
    Project.objects.select_for_update().filter(pk=sprint.project_id).first()
    sprint.refresh_from_db()
    if sprint.status != Sprint.Status.PLANNED:
        raise Conflict(f"Only a planned sprint can be started; this one is {sprint.status}.")
    active = Sprint.objects.filter(project_id=sprint.project_id, status=Sprint.Status.ACTIVE).first()
    if active is not None:
        raise Conflict(f"Sprint '{active.name}' is already active; complete it first.")
    sprint.status = Sprint.Status.ACTIVE
    sprint.started_at = timezone.now()
    fields = ["status", "started_at"]
    if sprint.start_date is None:
        sprint.start_date = timezone.localdate()
        fields.append("start_date")
    _check_dates(sprint.start_date, sprint.end_date)
    sprint.save(update_fields=fields)
    publish("sprint.started", _sprint_payload(sprint), project_id=sprint.project_id, tab_id=tab_id, actor_id=by.pk)
    return sprint


@transaction.atomic
def sprint_complete(
    *, sprint: Sprint, by: Any, move_to: Sprint | None = None, tab_id: str | None = None
) -> dict[str, Any]:
    """Close the active sprint; unfinished tickets go to `move_to` (a planned sprint) or the backlog.

    Unfinished = not deleted and not in a done column. Returns {"sprint", "moved", "move_to_sprint_id"}.
    """
    from tickets.models import Event, Ticket

    Project.objects.select_for_update().filter(pk=sprint.project_id).first()
    sprint.refresh_from_db()
    if sprint.status != Sprint.Status.ACTIVE:
        raise Conflict(f"Only the active sprint can be completed; this one is {sprint.status}.")
    if move_to is not None and (move_to.project_id != sprint.project_id or move_to.status != Sprint.Status.PLANNED):
        raise _invalid("move_to_sprint_id", "Unfinished tickets can only move to a planned sprint of this project.")
    unfinished = Ticket.objects.filter(sprint=sprint, deleted_at__isnull=True).exclude(
        column__category=Column.Category.DONE
    )
    moved_ids = list(unfinished.values_list("pk", flat=True))
    target_id = move_to.pk if move_to else None
    Ticket.objects.filter(pk__in=moved_ids).update(sprint=move_to, updated_at=timezone.now())
    Event.objects.bulk_create(
        Event(
            ticket_id=pk,
            kind=Event.Kind.UPDATE,
            author=by,
            data={"old": {"sprint": sprint.pk}, "new": {"sprint": target_id}},
        )
        for pk in moved_ids
    )
    sprint.status = Sprint.Status.CLOSED
    sprint.completed_at = timezone.now()
    sprint.save(update_fields=["status", "completed_at"])
    payload = {**_sprint_payload(sprint), "move_to_sprint_id": target_id, "moved_ticket_ids": moved_ids}
    publish("sprint.completed", payload, project_id=sprint.project_id, tab_id=tab_id, actor_id=by.pk)
    return {"sprint": sprint, "moved": len(moved_ids), "move_to_sprint_id": target_id}
