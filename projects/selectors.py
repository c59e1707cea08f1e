"""Reads for namespaces, projects, members, columns, labels and sprints.

Each selector is scoped to what the caller may see and loads everything its serializer
reads, so a list costs the same number of queries whatever its length.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from projects import fastpath
from projects.board_contents import board_contents
from projects.models import (
    Column,
    Invitation,
    Label,
    Membership,
    Organization,
    OrganizationMembership,
    Project,
    Sprint,
)
from projects.permissions import RANK, READ, Role, check_role, remember_role, visible_projects
from projects.services import BURNDOWN_MAX_DAYS
from projects.services.invitations import pending_filter
from punt.errors import Conflict, Forbidden, NotFound

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# --------------------------------------------------------------------------- organizations


class _OrganizationAnnotations(TypedDict):
    caller_role: str | None
    member_count: int
    project_count: int
    effective_default_project_id: int | None


def _live_projects_in_order(org_id: Any) -> QuerySet[Project]:
    """The organization's live projects, first created first (the default when none is chosen)."""
    return Project.objects.filter(organization=org_id, archived_at__isnull=True).order_by("created_at", "id")


def organization_default_project_id(*, org: Organization) -> int | None:
    """Where AgentsMesh creates without `repository_id` go: the default project the organization
    chose while it is live (not archived), else its first live project; None when it has none."""
    live = _live_projects_in_order(org.pk)
    if org.default_project_id is not None:
        chosen_first = Case(When(pk=org.default_project_id, then=Value(0)), default=Value(1))
        live = live.order_by(chosen_first, "created_at", "id")
    return live.values_list("pk", flat=True).first()


def organizations_for_user(*, user: Any) -> QuerySet[WithAnnotations[Organization, _OrganizationAnnotations]]:
    """Organizations the user belongs to (site admins: all), with the caller's role and counts."""
    queryset = Organization.objects.all()
    if not user.is_staff:
        queryset = queryset.filter(memberships__user=user)
    caller_role = OrganizationMembership.objects.filter(organization=OuterRef("pk"), user=user).values("role")[:1]
    member_count = (
        OrganizationMembership.objects.filter(organization=OuterRef("pk"))
        .order_by()
        .values("organization")
        .annotate(n=Count("pk"))
        .values("n")
    )
    project_count = (
        Project.objects.filter(organization=OuterRef("pk"), archived_at__isnull=True)
        .order_by()
        .values("organization")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        caller_role=Subquery(caller_role),
        member_count=Coalesce(Subquery(member_count, output_field=IntegerField()), Value(0)),
        project_count=Coalesce(Subquery(project_count, output_field=IntegerField()), Value(0)),
        # organization_default_project_id() for each row.
        effective_default_project_id=Coalesce(
            Subquery(
                Project.objects.filter(pk=OuterRef("default_project_id"), archived_at__isnull=True).values("pk"),
                output_field=IntegerField(),
            ),
            Subquery(_live_projects_in_order(OuterRef("pk")).values("pk")[:1], output_field=IntegerField()),
        ),
    ).order_by("slug")


def organization_get(*, user: Any, slug: str, manage: bool = False, own: bool = False) -> Organization:
    """The organization `slug` if `user` belongs to it: 404 for outsiders, 403 below the needed role.

    `manage` needs owner or admin, `own` needs owner. Site admins act as owners.
    """
    org = organizations_for_user(user=user).filter(slug__iexact=slug).first()
    if org is None:
        raise NotFound()
    role = OrganizationMembership.Role.OWNER if user.is_staff else org.caller_role
    if own and role != OrganizationMembership.Role.OWNER:
        raise Forbidden("This needs the owner role in this organization.")
    if manage and role not in (OrganizationMembership.Role.OWNER, OrganizationMembership.Role.ADMIN):
        raise Forbidden("This needs the admin role in this organization.")
    return org


def organization_members(*, org: Organization) -> QuerySet[OrganizationMembership]:
    return org.memberships.select_related("user").order_by("created_at", "id")


def organization_membership_get(*, org: Organization, username: str) -> OrganizationMembership:
    membership = org.memberships.select_related("user", "organization").filter(user__username__iexact=username).first()
    if membership is None:
        raise NotFound()
    return membership


# --------------------------------------------------------------------------- projects


class _ProjectCounts(TypedDict):
    member_count: int
    open_ticket_count: int


def _project_counts(queryset: QuerySet[Project]) -> QuerySet[WithAnnotations[Project, _ProjectCounts]]:
    member_count = (
        Membership.objects.filter(project=OuterRef("pk"))
        .order_by()
        .values("project")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return queryset.annotate(
        member_count=Coalesce(Subquery(member_count, output_field=IntegerField()), Value(0)),
        open_ticket_count=Coalesce(board_contents().open_ticket_count(), Value(0)),
    )


def projects_for_user(*, user: Any, archived: bool = False) -> QuerySet[Project]:
    """The projects `user` can see (archived ones instead when `archived`), with role and counts."""
    queryset = visible_projects(user, include_archived=archived)
    if archived:
        queryset = queryset.filter(archived_at__isnull=False)
    caller_role = Membership.objects.filter(project=OuterRef("pk"), user=user).values("role")[:1]
    queryset = queryset.select_related("owner_user", "organization").annotate(caller_role=Subquery(caller_role))
    return _project_counts(queryset).order_by("name", "id")


ARCHIVED_MESSAGE = "This project is archived and read-only; its owner can restore it."


def project_for(
    user: Any,
    *,
    slug: str | None = None,
    key: str | None = None,
    project_id: int | None = None,
    owner: str | None = None,
    path: str | None = None,
    min_role: str = READ,
    allow_archived: bool = False,
    counts: bool = False,
) -> Project:
    """The project, found by `slug` (its URL slug, any case), by `key` (its card prefix, any case,
    for the dialects that name projects by key), by `project_id`, or by `owner` (user name or
    organization slug) + `path`, after checking `user` holds `min_role` in it.

    The one lookup for every API view, dialect, page and consumer. Outsiders (and unknown
    projects) get NotFound, members below `min_role` Forbidden (projects.permissions.check_role).

    Archived projects (the one rule on every surface): visible read-only to their members.
    Reads (`min_role` READ) work as on a live project; anything needing more than READ answers
    Conflict (409) "This project is archived and read-only; its owner can restore it.",
    unless the caller passes `allow_archived=True`: only the actions meant for an archived
    project do (restore, delete for good by the owner, the archive call itself).

    One SQL statement (projects.fastpath) that also reads the caller's role into the role
    cache, so the role checks after it cost nothing. `counts` adds member_count and
    open_ticket_count for ProjectSerializer (one more query).
    """
    member = user is not None and user.is_authenticated
    user_id = user.pk if member else None
    if slug is not None:
        project = fastpath.project_with_role(user_id=user_id, slug=slug.strip().lower())
    elif key is not None:
        project = fastpath.project_with_role(user_id=user_id, key=key.strip().upper())
    elif project_id is not None:
        project = fastpath.project_with_role(user_id=user_id, project_id=project_id)
    elif owner is not None and path is not None:
        project = fastpath.project_with_role(user_id=user_id, namespace=owner, path=path)
    else:
        raise TypeError("project_for needs slug, key, project_id, or owner and path.")
    if project is None:
        raise NotFound("Project not found.")
    if member:
        remember_role(user, project, _caller_role(project))
    project_check(user, project, min_role=min_role, allow_archived=allow_archived)
    if counts:
        found = _project_counts(Project.objects.filter(pk=project.pk)).values("member_count", "open_ticket_count")
        project.__dict__.update(found.get())
    return project


def _caller_role(project: Project) -> str | None:
    # fastpath.project_with_role() sets it on the instance: not a field the model declares.
    loaded: Any = project
    role: str | None = loaded.caller_role
    return role


def project_check(user: Any, project: Project, *, min_role: str, allow_archived: bool = False) -> str:
    """project_for's checks on a project already loaded: the role (check_role), then the archived rule.

    Returns the caller's role. For a view that needs a higher role than the one it looked up with.
    """
    role = check_role(user, project, min_role)
    if project.archived_at is not None and RANK[Role(min_role)] > RANK[Role(READ)] and not allow_archived:
        raise Conflict(ARCHIVED_MESSAGE)
    return role


def prime_role(project: Project, user: Any, role: str | None) -> None:
    """Seed permissions.role_of's per-object cache from an annotated role (saves a query per row)."""
    project.__dict__.setdefault("_role_cache", {}).setdefault(user.pk, role)


# --------------------------------------------------------------------------- members


def project_members(*, project: Project) -> QuerySet[Membership]:
    return project.memberships.select_related("user").order_by("created_at", "id")


def membership_get(*, project: Project, username: str) -> Membership:
    membership = project.memberships.select_related("user", "project").filter(user__username__iexact=username).first()
    if membership is None:
        raise NotFound()
    return membership


def invitations_pending(
    *, project: Project | None = None, organization: Organization | None = None
) -> QuerySet[Invitation]:
    """The target's invitations that can still be accepted, newest first, with their inviter."""
    queryset = Invitation.objects.filter(pending_filter()).select_related("invited_by")
    if project is not None:
        return queryset.filter(project=project).order_by("-created_at", "-id")
    return queryset.filter(organization=organization).order_by("-created_at", "-id")


def invitation_get(
    *, invitation_id: int, project: Project | None = None, organization: Organization | None = None
) -> Invitation:
    """One of the target's invitations (any state); NotFound for another target's."""
    target = {"project": project} if project is not None else {"organization": organization}
    invitation = Invitation.objects.filter(pk=invitation_id, **target).first()
    if invitation is None:
        raise NotFound()
    return invitation


def member_candidates(*, query: str, see_emails: bool, limit: int = 10) -> list[dict[str, Any]]:
    """Active people on the site for a member picker: user name or display name starting with
    `query`. E-mails: a whole address (any case) matches for anyone; only `see_emails` callers
    (site admins) match by an e-mail prefix and are shown addresses, so a project admin cannot
    read the site's addresses letter by letter."""
    from django.contrib.auth import get_user_model

    query = query.strip()
    if not query:
        return []
    match = Q(username__istartswith=query) | Q(display_name__istartswith=query)
    match |= Q(email__istartswith=query) if see_emails else Q(email__iexact=query)
    users = (
        get_user_model()
        .objects.filter(match, is_active=True)
        .order_by("username")
        .values("username", "display_name", "email")[:limit]
    )
    rows = []
    for user in users:
        row = {"username": user["username"], "name": user["display_name"] or user["username"]}
        if see_emails:
            row["email"] = user["email"]
        rows.append(row)
    return rows


# --------------------------------------------------------------------------- board structure


def project_columns(*, project: Project) -> QuerySet[Column]:
    return project.columns.annotate(ticket_count=Count("tickets", filter=Q(tickets__deleted_at__isnull=True))).order_by(
        "order", "id"
    )


def column_get(*, project: Project, pk: int) -> Column:
    column = project.columns.filter(pk=pk).first()
    if column is None:
        raise NotFound()
    column.project = project
    return column


def project_labels(*, project: Project) -> QuerySet[Label]:
    return project.labels.order_by("name", "id")


def label_get(*, project: Project, pk: int) -> Label:
    label = project.labels.filter(pk=pk).first()
    if label is None:
        raise NotFound()
    label.project = project
    return label


# --------------------------------------------------------------------------- sprints


def project_sprints(*, project: Project, status: str | None = None) -> QuerySet[Sprint]:
    live = Q(tickets__deleted_at__isnull=True)
    queryset = project.sprints.annotate(
        ticket_count=Count("tickets", filter=live),
        done_count=Count("tickets", filter=live & Q(tickets__column__category=Column.Category.DONE)),
        estimate_total=Coalesce(Sum("tickets__estimate", filter=live), Value(0)),
    )
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("-created_at", "-id")


def sprint_get(*, project: Project, pk: int) -> Sprint:
    sprint = project_sprints(project=project).filter(pk=pk).first()
    if sprint is None:
        raise NotFound()
    sprint.project = project
    return sprint


def sprint_tickets(*, sprint: Sprint) -> QuerySet[Any]:
    return board_contents().sprint_tickets(sprint=sprint)


def sprint_burndown(*, sprint: Sprint, today: date | None = None) -> dict[str, Any]:
    """Remaining open estimate per day of the sprint, and the ideal straight line.

    Day range: start_date (or the day it started) to end_date (or today). A ticket counts as
    remaining on a day unless it is done now and was completed (its last entry into done, the
    rule insights' throughput and cycle time share) by the end of that day. Days after today
    have `remaining: null`. Capped at BURNDOWN_MAX_DAYS days.
    """
    today = today or timezone.localdate()
    start = sprint.start_date or (timezone.localdate(sprint.started_at) if sprint.started_at else None)
    end = sprint.end_date or (timezone.localdate(sprint.completed_at) if sprint.completed_at else today)
    rows = board_contents().sprint_estimates(sprint=sprint)
    total = sum(estimate or 0 for estimate, _ in rows)
    result: dict[str, Any] = {
        "sprint_id": sprint.pk,
        "start_date": start,
        "end_date": end,
        "total_estimate": total,
        "days": [],
    }
    if start is None or end < start:
        return result
    done_on = [(estimate or 0, timezone.localdate(done_at) if done_at else None) for estimate, done_at in rows]
    span = min((end - start).days, BURNDOWN_MAX_DAYS - 1)
    for offset in range(span + 1):
        day = start + timedelta(days=offset)
        remaining = None
        if day <= today:
            remaining = sum(estimate for estimate, done in done_on if done is None or done > day)
        ideal = round(total * (1 - offset / span), 2) if span else 0
        result["days"].append({"date": day, "remaining": remaining, "ideal": ideal})
    return result
