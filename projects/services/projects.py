"""Writes for projects themselves: create, update, archive, restore, delete."""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from audit.services import audit_record
from projects.board_contents import board_contents
from projects.models import PROJECT_SLUG_MAX_LENGTH, Membership, Organization, Project
from projects.services.columns import columns_create_defaults
from projects.services.common import OrgRole, Role, color_pick, color_validate
from punt.errors import Conflict
from punt.errors import invalid as _invalid
from punt.events import publish

KEY_RE = re.compile(r"^[A-Z][A-Z0-9]{1,9}$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
# Fixed routes a project slug would shadow: /api/v1/ws/user is the user socket, not a project's.
RESERVED_SLUGS = frozenset({"user"})


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


def slug_validate(slug: str, *, default: bool = False) -> str:
    """A free URL slug, lowercased; `default` says it was derived from the key (the message then
    asks the client to choose one)."""
    slug = slug.strip().lower()
    if len(slug) > PROJECT_SLUG_MAX_LENGTH:
        raise _invalid("slug", f"Ensure this field has no more than {PROJECT_SLUG_MAX_LENGTH} characters.")
    if not SLUG_RE.match(slug):
        raise _invalid("slug", "Use lowercase letters, digits and dashes (not at either end, never two together).")
    if slug in RESERVED_SLUGS or Project.objects.filter(slug=slug).exists():
        if default:
            raise _invalid("slug", f"The URL slug '{slug}' (the lowercased key) is taken; choose a slug.")
        raise _invalid("slug", f"The URL slug '{slug}' is already taken; choose another.")
    return slug


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
    slug: str | None = None,
    tab_id: str | None = None,
) -> Project:
    """Create a project in `namespace`; `by` becomes its owner and it gets the default columns.

    `slug` (absent or blank: the lowercased key) is its URL in /api/v1/projects/<slug>, for good.
    """
    key = key_validate(key)
    owner_user, organization = namespace_resolve(namespace=namespace, by=by)
    name, path = _check_name(
        name=name, key=key, siblings=_namespace_projects(owner_user=owner_user, organization=organization)
    )
    if Project.objects.filter(key__iexact=key).exists():
        raise _invalid("key", f"The key {key} is already used by another project.")
    slug = slug_validate(slug) if slug and slug.strip() else slug_validate(key, default=True)
    color = color_validate(color) if color else color_pick(key)
    try:
        with transaction.atomic():
            project = Project.objects.create(
                owner_user=owner_user,
                organization=organization,
                name=name,
                path=path,
                key=key,
                slug=slug,
                description=description,
                color=color,
                created_by=by,
            )
    except IntegrityError:
        # A concurrent create took the key, slug or path between the checks and the insert.
        if Project.objects.filter(slug=slug).exclude(key=key).exists():
            raise _invalid("slug", f"The URL slug '{slug}' was just taken; choose another.") from None
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
    slug: str | None = None,
    tab_id: str | None = None,
) -> Project:
    """Change name (and so path), description or colour. The key and the slug are immutable
    (a client may send them back unchanged)."""
    if key is not None and key != project.key:
        raise _invalid("key", "The project key cannot be changed after creation.")
    if slug is not None and slug.strip().lower() != project.slug:
        raise _invalid("slug", "The project's URL slug cannot be changed after creation.")
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
def project_archive(*, project: Project, by: Any, tab_id: str | None = None, request: Any = None) -> Project:
    """WarmDesk's DELETE: hide the project, restorable by its owner (the caller is the owner)."""
    if project.archived_at is not None:
        raise Conflict("This project is already archived.")
    project.archived_at = timezone.now()
    project.save(update_fields=["archived_at", "updated_at"])
    audit_record(action="project.archived", actor=by, request=request, target=project, project=project)
    publish("project.archived", _project_payload(project), project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return project


@transaction.atomic
def project_restore(*, project: Project, by: Any, tab_id: str | None = None, request: Any = None) -> Project:
    """Un-archive (the caller is the owner: checked by the view or page)."""
    if project.archived_at is None:
        raise Conflict("This project is not archived.")
    project.archived_at = None
    project.save(update_fields=["archived_at", "updated_at"])
    audit_record(action="project.restored", actor=by, request=request, target=project, project=project)
    publish("project.restored", _project_payload(project), project_id=project.pk, tab_id=tab_id, actor_id=by.pk)
    return project


@transaction.atomic
def project_delete(*, project: Project, by: Any, tab_id: str | None = None, request: Any = None) -> None:
    """Delete a project and everything in it for good (PUNT's owner DELETE). Irreversible."""
    payload = _project_payload(project)
    member_ids = list(project.memberships.values_list("user_id", flat=True))
    project_id = project.pk
    audit_record(action="project.deleted", actor=by, request=request, target=project, project=project, before=payload)
    # Ticket.column is PROTECT (a column cannot vanish under its cards), so cards go first.
    board_contents().project_empty(project=project)
    project.delete()
    publish("project.deleted", payload, project_id=project_id, user_ids=member_ids, tab_id=tab_id, actor_id=by.pk)
