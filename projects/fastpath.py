"""Hand-written SQL for projects: the lookup every project request starts with.

Bench scenarios it serves: every project endpoint (ticket list, board, create, move, and
every other `/projects/<slug>/...` API, dialect, page and socket). Built with the ORM,
the lookup (project + owner + organization + the caller's role) took ~0.5 ms to build and
~0.03 ms to run, on every request; as SQL on top of punt.db it is one statement that costs
only its run. Its ORM twin and the parity test on SQLite and PostgreSQL live in
tests/projects/test_fastpath_parity.py. Table and column names come from `Model._meta`.
"""

from __future__ import annotations

from django.db import connection

from accounts.models import User
from projects.models import Membership, Organization, OrganizationMembership, Project
from punt import db
from punt.ranges import ID_MAX

Model = type[Project] | type[User] | type[Organization] | type[Membership] | type[OrganizationMembership]


def _table(model: Model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _column(model: Model, field: str) -> str:
    return db.column(model, field)


def project_with_role(
    *,
    user_id: int | None,
    slug: str | None = None,
    key: str | None = None,
    project_id: int | None = None,
    namespace: str | None = None,
    path: str | None = None,
) -> Project | None:
    """The project found by `slug` (as stored: lowercase), by `key` (uppercase), by `project_id`,
    or by `namespace` (user name or organization slug, any case) + `path` (any case), archived or
    not, with its owner and organization loaded and `user_id`'s membership role as `caller_role`
    (None: not a member, or no user).

    By namespace + path a live project wins over an archived one sharing its path.
    Exactly one of the four ways must be given; no permission is checked here.
    """
    col = _column
    p_id, p_owner, p_org = col(Project, "id"), col(Project, "owner_user"), col(Project, "organization")
    params: list[object] = []
    if user_id is not None:
        role = (
            f"SELECT m.{col(Membership, 'role')} FROM {_table(Membership)} m "  # noqa: S608
            f"WHERE m.{col(Membership, 'project')} = p.{p_id} AND m.{col(Membership, 'user')} = %s"
        )
        params.append(user_id)
    else:
        role = "SELECT NULL"
    order = ""
    if slug is not None:
        where = f"p.{col(Project, 'slug')} = %s"
        params.append(slug)
    elif key is not None:
        where = f"p.{col(Project, 'key')} = %s"
        params.append(key)
    elif project_id is not None:
        if not 0 <= project_id <= ID_MAX:
            return None
        where = f"p.{p_id} = %s"
        params.append(project_id)
    elif namespace is not None and path is not None:
        where = (
            f"UPPER(p.{col(Project, 'path')}) = UPPER(%s) AND ("
            f"(p.{p_org} IS NULL AND UPPER(u.{col(User, 'username')}) = UPPER(%s)) "
            f"OR UPPER(o.{col(Organization, 'slug')}) = UPPER(%s))"
        )
        params.extend([path, namespace, namespace])
        archived_at = f"p.{col(Project, 'archived_at')}"
        order = f" ORDER BY CASE WHEN {archived_at} IS NULL THEN 0 ELSE 1 END, p.{p_id}"
    else:
        raise TypeError("project_with_role needs slug, key, project_id, or namespace and path.")
    sql = (
        f"SELECT {db.columns(Project, 'p')}, {db.columns(User, 'u')}, {db.columns(Organization, 'o')}, ({role}) "  # noqa: S608
        f"FROM {_table(Project)} p "
        f"LEFT JOIN {_table(User)} u ON u.{col(User, 'id')} = p.{p_owner} "
        f"LEFT JOIN {_table(Organization)} o ON o.{col(Organization, 'id')} = p.{p_org} "
        f"WHERE {where}{order} LIMIT 1"
    )
    row = db.fetch_one(sql, params)
    if row is None:
        return None
    owner_at, organization_at = db.width(Project), db.width(Project) + db.width(User)
    project = db.instance(Project, "p", row[:owner_at])
    assert project is not None  # the row's own columns: only the outer joins can be NULL
    Project.owner_user.field.set_cached_value(project, db.instance(User, "u", row[owner_at:organization_at]))
    Project.organization.field.set_cached_value(project, db.instance(Organization, "o", row[organization_at:-1]))
    # What projects.selectors annotates on its querysets; not a model field, hence setattr.
    setattr(project, "caller_role", row[-1])  # noqa: B010
    return project


def organization_with_access(*, slug: str, user_id: int | None) -> Organization | None:
    """The organization whose slug is `slug` (any case), with `caller_belongs`: whether `user_id`
    is a member of it or of one of its projects, archived ones included (False without a user).
    None if there is no such organization; no permission is checked here.

    Bench: AgentsMesh list (every `/api/v1/ext/orgs/<org>/` request starts here; as two ORM
    queries, the lookup and the membership test, it cost ~2 ms of the list's ~7 ms).
    """
    col = _column
    o_id = col(Organization, "id")
    org_member = (
        f"SELECT 1 FROM {_table(OrganizationMembership)} om "  # noqa: S608
        f"WHERE om.{col(OrganizationMembership, 'organization')} = o.{o_id} "
        f"AND om.{col(OrganizationMembership, 'user')} = %s"
    )
    project_member = (
        f"SELECT 1 FROM {_table(Project)} p INNER JOIN {_table(Membership)} m "  # noqa: S608
        f"ON m.{col(Membership, 'project')} = p.{col(Project, 'id')} "
        f"WHERE p.{col(Project, 'organization')} = o.{o_id} AND m.{col(Membership, 'user')} = %s"
    )
    sql = (
        f"SELECT {db.columns(Organization, 'o')}, "  # noqa: S608
        f"CASE WHEN EXISTS ({org_member}) OR EXISTS ({project_member}) THEN 1 ELSE 0 END "
        f"FROM {_table(Organization)} o WHERE UPPER(o.{col(Organization, 'slug')}) = UPPER(%s) "
        f"ORDER BY o.{o_id} LIMIT 1"
    )
    row = db.fetch_one(sql, [user_id, user_id, slug])
    if row is None:
        return None
    organization = db.instance(Organization, "o", row[:-1])
    assert organization is not None
    setattr(organization, "caller_belongs", bool(row[-1]))  # noqa: B010
    return organization
