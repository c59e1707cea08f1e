"""Thin /api/v1/ views for organizations, projects, members, columns, labels and sprints.

Each view resolves the project with the role it needs (projects.selectors.project_for:
404 for outsiders, 403 below the role, 409 for writes to an archived project), validates
input with an …InputSerializer, calls one service and serializes the result.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from accounts.permissions import ApiKeyScope
from audit.api import AuditLogView, audit_log_schema
from audit.models import AuditEntry
from audit.serializers import AuditLogQuerySerializer
from projects import selectors, services
from projects import serializers as s
from projects.models import Invitation, Organization, Project, Sprint
from projects.permissions import MANAGE, OWN, READ, WRITE
from projects.services import invitations
from punt.api.request import tab_id, validated

# --------------------------------------------------------------------------- base classes


class ProjectsApiView(GenericAPIView):
    """Everything here is the API key scope "projects" (projects:read / projects:write)."""

    api_scope = "projects"


class ProjectScopedView(ProjectsApiView):
    """A view under /projects/<slug>/."""

    def project(self, needed: str = READ, *, allow_archived: bool = False, counts: bool = False) -> Project:
        return selectors.project_for(
            self.request.user,
            slug=self.kwargs["slug"],
            min_role=needed,
            allow_archived=allow_archived,
            counts=counts,
        )


def _actor(request: Request) -> dict[str, Any]:
    return {"by": request.user, "tab_id": tab_id(request)}


# --------------------------------------------------------------------------- organizations


class OrganizationListView(ProjectsApiView):
    serializer_class = s.OrganizationSerializer

    @extend_schema(responses=s.OrganizationSerializer(many=True), summary="Organizations the caller belongs to")
    def get(self, request: Request) -> Response:
        orgs = selectors.organizations_for_user(user=request.user)
        return Response(s.OrganizationSerializer(orgs, many=True).data)

    @extend_schema(
        request=s.OrganizationCreateInputSerializer,
        responses={201: s.OrganizationSerializer},
        summary="Create an organization (the caller becomes its owner)",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.OrganizationCreateInputSerializer, request.data)
        org = services.organization_create(**data, by=request.user)
        org = selectors.organization_get(user=request.user, slug=org.slug)
        return Response(s.OrganizationSerializer(org).data, status=status.HTTP_201_CREATED)


class OrganizationScopedView(ProjectsApiView):
    """A view under /orgs/<org_slug>/: members see it, outsiders get 404."""

    def org(self, **needs: bool) -> Organization:
        return selectors.organization_get(user=self.request.user, slug=self.kwargs["org_slug"], **needs)


class OrganizationDetailView(OrganizationScopedView):
    serializer_class = s.OrganizationSerializer

    @extend_schema(responses=s.OrganizationSerializer)
    def get(self, request: Request, org_slug: str) -> Response:
        return Response(s.OrganizationSerializer(self.org()).data)

    @extend_schema(request=s.OrganizationUpdateInputSerializer, responses=s.OrganizationSerializer)
    def put(self, request: Request, org_slug: str) -> Response:
        org = self.org(manage=True)
        data = validated(s.OrganizationUpdateInputSerializer, request.data)
        slug = data.pop("slug", None)
        if slug is not None and slug.lower() != org.slug:
            raise ValidationError({"slug": ["An organization's slug cannot be changed."]})
        services.organization_update(org=org, by=request.user, **data)
        return Response(s.OrganizationSerializer(self.org()).data)

    @extend_schema(request=s.OrganizationUpdateInputSerializer, responses=s.OrganizationSerializer)
    def patch(self, request: Request, org_slug: str) -> Response:
        return self.put(request, org_slug)

    @extend_schema(request=None, responses={204: None}, summary="Delete an organization without projects (owner)")
    def delete(self, request: Request, org_slug: str) -> Response:
        services.organization_delete(org=self.org(own=True), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# No docstring: drf-spectacular would make it every operation's description.
class OrganizationMemberViewSet(OrganizationScopedView, GenericViewSet):
    serializer_class = s.OrganizationMemberSerializer
    lookup_url_kwarg = "username"
    lookup_value_converter = "str"

    @extend_schema(responses=s.OrganizationMemberSerializer(many=True))
    def list(self, request: Request, org_slug: str) -> Response:
        members = selectors.organization_members(org=self.org())
        return Response(s.OrganizationMemberSerializer(members, many=True).data)

    @extend_schema(request=s.OrganizationMemberInputSerializer, responses={201: s.OrganizationMemberSerializer})
    def create(self, request: Request, org_slug: str) -> Response:
        org = self.org(manage=True)
        data = validated(s.OrganizationMemberInputSerializer, request.data)
        membership = services.organization_member_add(org=org, by=request.user, **data, request=request)
        return Response(s.OrganizationMemberSerializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.OrganizationRoleInputSerializer, responses=s.OrganizationMemberSerializer)
    def update(self, request: Request, org_slug: str, username: str) -> Response:
        org = self.org(manage=True)
        membership = selectors.organization_membership_get(org=org, username=username)
        data = validated(s.OrganizationRoleInputSerializer, request.data)
        membership = services.organization_member_update(
            membership=membership, by=request.user, **data, request=request
        )
        return Response(s.OrganizationMemberSerializer(membership).data)

    @extend_schema(request=s.OrganizationRoleInputSerializer, responses=s.OrganizationMemberSerializer)
    def partial_update(self, request: Request, org_slug: str, username: str) -> Response:
        return self.update(request, org_slug, username)

    @extend_schema(request=None, responses={204: None}, summary="Remove a member (or leave: your own name)")
    def destroy(self, request: Request, org_slug: str, username: str) -> Response:
        leaving = username.lower() == request.user.username.lower()
        org = self.org() if leaving else self.org(manage=True)
        membership = selectors.organization_membership_get(org=org, username=username)
        services.organization_member_remove(membership=membership, by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- projects


class ProjectListView(ProjectsApiView):
    serializer_class = s.ProjectSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("archived", OpenApiTypes.BOOL, description="true: the caller's archived projects instead.")
        ],
        responses=s.ProjectSerializer(many=True),
        summary="Projects the caller can see",
    )
    def get(self, request: Request) -> Response:
        archived = validated(s.ProjectListQuerySerializer, request.query_params)["archived"]
        projects = selectors.projects_for_user(user=request.user, archived=archived)
        return Response(s.ProjectSerializer(projects, many=True, context={"request": request}).data)

    @extend_schema(
        request=s.ProjectCreateInputSerializer,
        responses={201: s.ProjectSerializer},
        summary="Create a project (the caller becomes its owner)",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.ProjectCreateInputSerializer, request.data)
        project = services.project_create(**data, **_actor(request))
        project = selectors.project_for(request.user, slug=project.slug, counts=True)
        return Response(s.ProjectSerializer(project, context={"request": request}).data, status=201)


class ProjectDetailView(ProjectScopedView):
    serializer_class = s.ProjectSerializer

    def render(self, project: Project) -> Response:
        return Response(s.ProjectSerializer(project, context={"request": self.request}).data)

    @extend_schema(responses=s.ProjectSerializer)
    def get(self, request: Request, slug: str) -> Response:
        return self.render(self.project(READ, counts=True))

    @extend_schema(request=s.ProjectUpdateInputSerializer, responses=s.ProjectSerializer)
    def put(self, request: Request, slug: str) -> Response:
        project = self.project(MANAGE)
        data = validated(s.ProjectUpdateInputSerializer, request.data)
        services.project_update(project=project, **data, **_actor(request))
        return self.render(self.project(READ, counts=True))

    @extend_schema(request=s.ProjectUpdateInputSerializer, responses=s.ProjectSerializer)
    def patch(self, request: Request, slug: str) -> Response:
        return self.put(request, slug)

    @extend_schema(request=None, responses={204: None}, summary="Archive the project (owner; restorable)")
    def delete(self, request: Request, slug: str) -> Response:
        services.project_archive(project=self.project(OWN, allow_archived=True), **_actor(request), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectRestoreView(ProjectScopedView):
    serializer_class = s.ProjectSerializer

    @extend_schema(request=None, responses=s.ProjectSerializer, summary="Un-archive the project (owner)")
    def post(self, request: Request, slug: str) -> Response:
        project = services.project_restore(
            project=self.project(OWN, allow_archived=True, counts=True), **_actor(request), request=request
        )
        return Response(s.ProjectSerializer(project, context={"request": request}).data)


# --------------------------------------------------------------------------- members


# No docstring: drf-spectacular would make it every operation's description.
class MemberViewSet(ProjectScopedView, GenericViewSet):
    serializer_class = s.MemberSerializer
    lookup_url_kwarg = "username"
    lookup_value_converter = "str"

    @extend_schema(responses=s.MemberSerializer(many=True))
    def list(self, request: Request, slug: str) -> Response:
        members = selectors.project_members(project=self.project(READ))
        return Response(s.MemberSerializer(members, many=True).data)

    @extend_schema(
        request=s.MemberInputSerializer,
        responses={201: s.MemberSerializer},
        summary="Add a member (admin+; owners are made by transfer-ownership)",
    )
    def create(self, request: Request, slug: str) -> Response:
        project = self.project(MANAGE)
        data = validated(s.MemberInputSerializer, request.data)
        membership = services.membership_add(project=project, **data, **_actor(request), request=request)
        return Response(s.MemberSerializer(membership).data, status=status.HTTP_201_CREATED)

    # The router puts list-level actions before members/<username>: "leave" is never a user name.
    @extend_schema(request=None, responses={204: None}, summary="Leave the project (anyone but the owner)")
    @action(detail=False, methods=["post"])
    def leave(self, request: Request, slug: str) -> Response:
        services.membership_leave(project=self.project(READ), **_actor(request), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=s.MemberRoleInputSerializer, responses=s.MemberSerializer)
    def update(self, request: Request, slug: str, username: str) -> Response:
        project = self.project(MANAGE)
        membership = selectors.membership_get(project=project, username=username)
        data = validated(s.MemberRoleInputSerializer, request.data)
        membership = services.membership_update(membership=membership, **data, **_actor(request), request=request)
        return Response(s.MemberSerializer(membership).data)

    @extend_schema(request=s.MemberRoleInputSerializer, responses=s.MemberSerializer)
    def partial_update(self, request: Request, slug: str, username: str) -> Response:
        return self.update(request, slug, username)

    @extend_schema(request=None, responses={204: None}, summary="Remove a member (admin+; never the owner)")
    def destroy(self, request: Request, slug: str, username: str) -> Response:
        project = self.project(MANAGE)
        membership = selectors.membership_get(project=project, username=username)
        services.membership_remove(membership=membership, **_actor(request), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TransferOwnershipView(ProjectScopedView):
    serializer_class = s.MemberSerializer

    @extend_schema(
        request=s.TransferOwnershipInputSerializer,
        responses=s.MemberSerializer(many=True),
        summary="Make another member the owner (owner only; the old owner becomes admin)",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = self.project(OWN)
        data = validated(s.TransferOwnershipInputSerializer, request.data)
        services.project_transfer_ownership(project=project, **data, **_actor(request), request=request)
        members = selectors.project_members(project=project)
        return Response(s.MemberSerializer(members, many=True).data)


# --------------------------------------------------------------------------- columns


# No docstring: drf-spectacular would make it every operation's description.
class ColumnViewSet(ProjectScopedView, GenericViewSet):
    serializer_class = s.ColumnSerializer
    lookup_url_kwarg = "column_id"
    lookup_value_converter = "int"

    def column_response(self, project: Project, column_id: int) -> Response:
        column = selectors.project_columns(project=project).filter(pk=column_id).first()
        return Response(s.ColumnSerializer(column).data)

    @extend_schema(responses=s.ColumnSerializer(many=True))
    def list(self, request: Request, slug: str) -> Response:
        project = self.project(READ)
        if not project.columns.exists():
            # Seed 001: a board without columns gets the defaults on first look.
            services.columns_create_defaults(project=project)
        return Response(s.ColumnSerializer(selectors.project_columns(project=project), many=True).data)

    @extend_schema(request=s.ColumnInputSerializer, responses={201: s.ColumnSerializer})
    def create(self, request: Request, slug: str) -> Response:
        project = self.project(MANAGE)
        data = validated(s.ColumnInputSerializer, request.data)
        column = services.column_create(project=project, **data, **_actor(request))
        # ColumnSerializer reads the count project_columns() annotates; a new column has none.
        setattr(column, "ticket_count", 0)  # noqa: B010
        return Response(s.ColumnSerializer(column).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.ColumnReorderInputSerializer,
        responses=s.ColumnSerializer(many=True),
        summary="Reorder the board's columns (list every column id exactly once)",
    )
    @action(detail=False, methods=["patch"])
    def reorder(self, request: Request, slug: str) -> Response:
        return self.reorder_columns(request)

    @extend_schema(request=s.ColumnReorderInputSerializer, responses=s.ColumnSerializer(many=True))
    @reorder.mapping.put
    def reorder_put(self, request: Request, slug: str) -> Response:
        return self.reorder_columns(request)

    def reorder_columns(self, request: Request) -> Response:
        project = self.project(MANAGE)
        data = validated(s.ColumnReorderInputSerializer, request.data)
        services.columns_reorder(project=project, order=data["order"], **_actor(request))
        return Response(s.ColumnSerializer(selectors.project_columns(project=project), many=True).data)

    @extend_schema(responses=s.ColumnSerializer)
    def retrieve(self, request: Request, slug: str, column_id: int) -> Response:
        project = self.project(READ)
        selectors.column_get(project=project, pk=column_id)
        return self.column_response(project, column_id)

    @extend_schema(request=s.ColumnUpdateInputSerializer, responses=s.ColumnSerializer)
    def update(self, request: Request, slug: str, column_id: int) -> Response:
        project = self.project(MANAGE)
        column = selectors.column_get(project=project, pk=column_id)
        data = validated(s.ColumnUpdateInputSerializer, request.data)
        services.column_update(column=column, **data, **_actor(request))
        return self.column_response(project, column_id)

    @extend_schema(request=s.ColumnUpdateInputSerializer, responses=s.ColumnSerializer)
    def partial_update(self, request: Request, slug: str, column_id: int) -> Response:
        return self.update(request, slug, column_id)

    @extend_schema(
        parameters=[
            OpenApiParameter("target", OpenApiTypes.INT, description="Column that receives this column's tickets.")
        ],
        request=s.ColumnDeleteInputSerializer,
        responses={204: None},
        summary="Delete a column (its tickets move to ?target=<id>)",
    )
    def destroy(self, request: Request, slug: str, column_id: int) -> Response:
        project = self.project(MANAGE)
        column = selectors.column_get(project=project, pk=column_id)
        raw = {"target_column_id": request.query_params.get("target")}
        if raw["target_column_id"] in (None, "") and isinstance(request.data, dict):
            raw["target_column_id"] = request.data.get("target_column_id")
        data = validated(s.ColumnDeleteInputSerializer, raw)
        target = None
        if data.get("target_column_id") is not None:
            target = project.columns.filter(pk=data["target_column_id"]).first()
            if target is None:
                raise ValidationError({"target_column_id": ["No such column on this board."]})
        # Seed 004: a successful delete is 204 No Content (board.column_deleted says where tickets went).
        services.column_delete(column=column, target=target, **_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- labels


# No docstring: drf-spectacular would make it every operation's description.
class LabelViewSet(ProjectScopedView, GenericViewSet):
    serializer_class = s.LabelSerializer
    lookup_url_kwarg = "label_id"
    lookup_value_converter = "int"

    @extend_schema(responses=s.LabelSerializer(many=True))
    def list(self, request: Request, slug: str) -> Response:
        labels = selectors.project_labels(project=self.project(READ))
        return Response(s.LabelSerializer(labels, many=True).data)

    @extend_schema(request=s.LabelInputSerializer, responses={201: s.LabelSerializer})
    def create(self, request: Request, slug: str) -> Response:
        project = self.project(WRITE)
        data = validated(s.LabelInputSerializer, request.data)
        label = services.label_create(project=project, **data, **_actor(request))
        return Response(s.LabelSerializer(label).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.LabelSerializer)
    def retrieve(self, request: Request, slug: str, label_id: int) -> Response:
        label = selectors.label_get(project=self.project(READ), pk=label_id)
        return Response(s.LabelSerializer(label).data)

    @extend_schema(request=s.LabelUpdateInputSerializer, responses=s.LabelSerializer)
    def update(self, request: Request, slug: str, label_id: int) -> Response:
        label = selectors.label_get(project=self.project(WRITE), pk=label_id)
        data = validated(s.LabelUpdateInputSerializer, request.data)
        label = services.label_update(label=label, **data, **_actor(request))
        return Response(s.LabelSerializer(label).data)

    @extend_schema(request=s.LabelUpdateInputSerializer, responses=s.LabelSerializer)
    def partial_update(self, request: Request, slug: str, label_id: int) -> Response:
        return self.update(request, slug, label_id)

    @extend_schema(request=None, responses={204: None})
    def destroy(self, request: Request, slug: str, label_id: int) -> Response:
        label = selectors.label_get(project=self.project(WRITE), pk=label_id)
        services.label_delete(label=label, **_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- sprints


# No docstring: drf-spectacular would make it every operation's description.
class SprintViewSet(ProjectScopedView, GenericViewSet):
    serializer_class = s.SprintSerializer
    lookup_url_kwarg = "sprint_id"
    lookup_value_converter = "int"

    def sprint(self, needed: str) -> Sprint:
        return selectors.sprint_get(project=self.project(needed), pk=self.kwargs["sprint_id"])

    def render(self, sprint: Sprint) -> Response:
        return Response(s.SprintSerializer(selectors.sprint_get(project=sprint.project, pk=sprint.pk)).data)

    @extend_schema(
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=Sprint.Status.values)],
        responses=s.SprintSerializer(many=True),
    )
    def list(self, request: Request, slug: str) -> Response:
        sprint_status = request.query_params.get("status") or None
        if sprint_status is not None and sprint_status not in Sprint.Status.values:
            raise ValidationError({"status": [f"Use one of {', '.join(Sprint.Status.values)}."]})
        sprints = selectors.project_sprints(project=self.project(READ), status=sprint_status)
        return Response(s.SprintSerializer(sprints, many=True).data)

    @extend_schema(request=s.SprintInputSerializer, responses={201: s.SprintSerializer})
    def create(self, request: Request, slug: str) -> Response:
        project = self.project(WRITE)
        data = validated(s.SprintInputSerializer, request.data)
        sprint = services.sprint_create(project=project, **data, **_actor(request))
        sprint = selectors.sprint_get(project=project, pk=sprint.pk)
        return Response(s.SprintSerializer(sprint).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses=s.SprintSerializer)
    def retrieve(self, request: Request, slug: str, sprint_id: int) -> Response:
        return Response(s.SprintSerializer(self.sprint(READ)).data)

    @extend_schema(request=s.SprintUpdateInputSerializer, responses=s.SprintSerializer)
    def update(self, request: Request, slug: str, sprint_id: int) -> Response:
        sprint = self.sprint(WRITE)
        data = validated(s.SprintUpdateInputSerializer, request.data)
        return self.render(services.sprint_update(sprint=sprint, **data, **_actor(request)))

    @extend_schema(request=s.SprintUpdateInputSerializer, responses=s.SprintSerializer)
    def partial_update(self, request: Request, slug: str, sprint_id: int) -> Response:
        return self.update(request, slug, sprint_id)

    @extend_schema(request=None, responses={204: None}, summary="Delete a sprint (not the active one)")
    def destroy(self, request: Request, slug: str, sprint_id: int) -> Response:
        services.sprint_delete(sprint=self.sprint(WRITE), **_actor(request))
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=s.SprintSerializer, summary="Start a planned sprint (one active at a time)")
    @action(detail=True, methods=["post"])
    def start(self, request: Request, slug: str, sprint_id: int) -> Response:
        return self.render(services.sprint_start(sprint=self.sprint(WRITE), **_actor(request)))

    @extend_schema(
        request=s.SprintCompleteInputSerializer,
        responses=s.SprintCompleteResultSerializer,
        summary="Complete the active sprint; unfinished tickets go to a planned sprint or the backlog",
    )
    @action(detail=True, methods=["post"], serializer_class=s.SprintCompleteResultSerializer)
    def complete(self, request: Request, slug: str, sprint_id: int) -> Response:
        sprint = self.sprint(WRITE)
        data = validated(s.SprintCompleteInputSerializer, request.data)
        move_to = None
        if data["move_to_sprint_id"] is not None:
            move_to = sprint.project.sprints.filter(pk=data["move_to_sprint_id"]).first()
            if move_to is None:
                raise ValidationError({"move_to_sprint_id": ["No such sprint in this project."]})
        result = services.sprint_complete(sprint=sprint, move_to=move_to, **_actor(request))
        result["sprint"] = selectors.sprint_get(project=sprint.project, pk=sprint.pk)
        return Response(s.SprintCompleteResultSerializer(result).data)

    @extend_schema(responses=s.SprintTicketSerializer(many=True), summary="The sprint's tickets (compact)")
    @action(detail=True, methods=["get"], serializer_class=s.SprintTicketSerializer)
    def tickets(self, request: Request, slug: str, sprint_id: int) -> Response:
        tickets = selectors.sprint_tickets(sprint=self.sprint(READ))
        return Response(s.SprintTicketSerializer(tickets, many=True).data)

    @extend_schema(responses=s.BurndownSerializer, summary="Remaining open estimate per day, and the ideal line")
    @action(detail=True, methods=["get"], serializer_class=s.BurndownSerializer)
    def burndown(self, request: Request, slug: str, sprint_id: int) -> Response:
        return Response(s.BurndownSerializer(selectors.sprint_burndown(sprint=self.sprint(READ))).data)


# --------------------------------------------------------------------------- audit log

AUDIT_SLUG = OpenApiParameter("slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="Project URL slug.")


@extend_schema(tags=["projects"])
class ProjectAuditLogView(AuditLogView):
    api_scope = "projects"

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # Outsiders get 404 and members below admin 403 before any filter is read.
        self.project: Project = selectors.project_for(
            request.user, slug=kwargs["slug"], min_role=MANAGE, allow_archived=True
        )
        self.filename_prefix = f"{self.project.key}-audit-log"

    @audit_log_schema(
        operation_id="project_audit_log",
        parameters=[AUDIT_SLUG, AuditLogQuerySerializer],
        summary="The project's part of the audit log (project admins)",
        statuses=(400, 401, 403, 404),
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def entries(self, query: dict[str, Any]) -> QuerySet[AuditEntry]:
        return self.filtered(query, project_id=self.project.pk)


# --------------------------------------------------------------------------- invitations


def _target(invitation: Invitation) -> dict[str, str]:
    if invitation.project is not None:
        return {"type": "project", "name": invitation.project.name, "slug": invitation.project.slug}
    assert invitation.organization is not None
    return {"type": "organization", "name": invitation.organization.name, "slug": invitation.organization.slug}


def _created(created: invitations.CreatedInvitation) -> Response:
    invitation = created.invitation
    invitation.__dict__.update(token=created.token, url=created.url)
    return Response(s.InvitationCreatedSerializer(invitation).data, status=status.HTTP_201_CREATED)


class ProjectInvitationListView(ProjectScopedView):
    serializer_class = s.InvitationSerializer

    @extend_schema(
        responses=s.InvitationSerializer(many=True), summary="Pending invitations and links of a project (admin+)"
    )
    def get(self, request: Request, slug: str) -> Response:
        project = self.project(MANAGE)
        return Response(s.InvitationSerializer(selectors.invitations_pending(project=project), many=True).data)

    @extend_schema(
        request=s.ProjectInvitationInputSerializer,
        responses={201: s.InvitationCreatedSerializer},
        summary="Invite by e-mail or make a shareable link (admin+; a role up to the caller's)",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = self.project(MANAGE)
        data = validated(s.ProjectInvitationInputSerializer, request.data)
        return _created(invitations.invitation_create(project=project, by=request.user, request=request, **data))


class ProjectInvitationDetailView(ProjectScopedView):
    serializer_class = s.InvitationSerializer

    @extend_schema(request=None, responses={204: None}, summary="Revoke an invitation or link (admin+)")
    def delete(self, request: Request, slug: str, invitation_id: int) -> Response:
        project = self.project(MANAGE)
        invitation = selectors.invitation_get(project=project, invitation_id=invitation_id)
        invitations.invitation_revoke(invitation=invitation, by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrganizationInvitationListView(OrganizationScopedView):
    serializer_class = s.InvitationSerializer

    @extend_schema(
        responses=s.InvitationSerializer(many=True),
        summary="Pending invitations and links of an organization (org admin+)",
    )
    def get(self, request: Request, org_slug: str) -> Response:
        org = self.org(manage=True)
        return Response(s.InvitationSerializer(selectors.invitations_pending(organization=org), many=True).data)

    @extend_schema(
        request=s.OrganizationInvitationInputSerializer,
        responses={201: s.InvitationCreatedSerializer},
        summary="Invite to an organization by e-mail or make a shareable link (org admin+)",
    )
    def post(self, request: Request, org_slug: str) -> Response:
        org = self.org(manage=True)
        data = validated(s.OrganizationInvitationInputSerializer, request.data)
        return _created(invitations.invitation_create(organization=org, by=request.user, request=request, **data))


class OrganizationInvitationDetailView(OrganizationScopedView):
    serializer_class = s.InvitationSerializer

    @extend_schema(request=None, responses={204: None}, summary="Revoke an organization invitation (org admin+)")
    def delete(self, request: Request, org_slug: str, invitation_id: int) -> Response:
        org = self.org(manage=True)
        invitation = selectors.invitation_get(organization=org, invitation_id=invitation_id)
        invitations.invitation_revoke(invitation=invitation, by=request.user, request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class InvitationInfoView(ProjectsApiView):
    serializer_class = s.InvitationInfoSerializer
    # Whoever holds the token may see what it opens, signed in or not (the page does the same).
    permission_classes = [AllowAny, ApiKeyScope]

    @extend_schema(responses=s.InvitationInfoSerializer, summary="What an invitation token opens (no sign-in needed)")
    def get(self, request: Request, token: str) -> Response:
        invitation = invitations.invitation_by_token(token)
        data = {
            "kind": invitation.kind,
            "role": invitation.role,
            "status": invitations.invitation_status(invitation),
            "email": invitation.email,
            "expires_at": invitation.expires_at,
            "target": _target(invitation),
            "invited_by": invitation.invited_by,
        }
        return Response(s.InvitationInfoSerializer(data).data)


class InvitationAcceptView(ProjectsApiView):
    serializer_class = s.InvitationAcceptedSerializer

    @extend_schema(
        request=None,
        responses=s.InvitationAcceptedSerializer,
        summary="Accept an invitation: join its project or organization (idempotent for members)",
    )
    def post(self, request: Request, token: str) -> Response:
        accepted = invitations.invitation_accept(token=token, user=request.user, request=request)
        data = {
            "joined": accepted.joined,
            "role": accepted.membership.role,
            "target": _target(accepted.invitation),
        }
        return Response(s.InvitationAcceptedSerializer(data).data)


class MemberCandidatesView(ProjectScopedView):
    serializer_class = s.MemberCandidateSerializer

    @extend_schema(
        parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="A user name, name or e-mail prefix.")],
        responses=s.MemberCandidateSerializer(many=True),
        summary="People on the site matching q, for the member picker (admin+; e-mails only for site admins)",
    )
    def get(self, request: Request, slug: str) -> Response:
        self.project(MANAGE)
        query = request.query_params.get("q", "")[:100]
        rows = selectors.member_candidates(query=query, see_emails=request.user.is_staff)
        return Response(s.MemberCandidateSerializer(rows, many=True).data)
