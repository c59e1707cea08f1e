"""PUNT's own API (seeds 000, 001) under /api/: projects, columns, members, labels, tickets,
sprints, admin and upload.

Session cookie (from /api/auth/callback/credentials), JWT Bearer or API key. Each view
resolves the project with the role the seed states (404 for outsiders, 403 below the role),
translates PUNT's words and calls the same services as /api/v1/. Deletes answer
200 {"success": true}: seed 000 lists no 204.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import User
from dialects.common import ERROR, DialectErrorsMixin
from dialects.punt import serializers as s
from projects import selectors as project_selectors
from projects import services as project_services
from projects.models import Column, Project
from projects.permissions import MANAGE, OWN, READ, WRITE
from punt.api.fields import query_id
from punt.api.permissions import IsSiteAdmin
from punt.api.request import request_user, tab_id, validated
from punt.api.schema import comma_separated_parameter
from punt.ranges import as_id
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.custom_field_selectors import custom_values
from tickets.filters import CardFilter, apply_ordering
from tickets.models import Ticket

TAG = "punt"
PROJECT_ID = OpenApiParameter(
    "project_id", OpenApiTypes.STR, OpenApiParameter.PATH, description="The project's id or its key (PROJ)."
)
SUCCESS = {"success": True}


def _actor(request: Request) -> dict[str, Any]:
    return {"by": request.user, "tab_id": tab_id(request)}


def _pk(value: Any, field: str) -> int | None:
    """A PUNT id (a string of digits) as an integer; None/"" stays None."""
    if value in (None, ""):
        return None
    return query_id(str(value).strip(), field)


def _required_pk(value: Any, field: str) -> int:
    """_pk() of a value that is always given: a URL part, or a field already checked non-empty."""
    pk = _pk(value, field)
    if pk is None:
        raise ValidationError({field: ["This field is required."]})
    return pk


def project_resolve(user: Any, project_id: str, needed: str, *, allow_archived: bool = False) -> Project:
    """A project by id or key (PUNT's `[projectId]` takes either), through projects.selectors.project_for."""
    text = project_id.strip()
    pk = as_id(text)
    if pk is not None:
        return project_selectors.project_for(user, project_id=pk, min_role=needed, allow_archived=allow_archived)
    return project_selectors.project_for(user, key=text, min_role=needed, allow_archived=allow_archived)


class PuntView(DialectErrorsMixin, GenericAPIView):
    # Scope "projects" unless said otherwise; service errors name PUNT's camelCase fields.
    api_scope = "projects"
    pagination_class = None
    error_fields = {
        "body": "description",
        "assignee": "assigneeId",
        "labels": "labelIds",
        "sprint": "sprintId",
        "sprint_id": "sprintId",
        "parent": "parentId",
        "estimate": "storyPoints",
        "due_date": "dueDate",
        "column_id": "columnId",
        "start_date": "startDate",
        "end_date": "endDate",
        "move_to_sprint_id": "moveToSprintId",
        "display_name": "name",
        "is_active": "isActive",
        "global_roles": "isSystemAdmin",
        **{service: punt for punt, service in s.PuntSettingsInput.FIELDS.items()},
    }

    def project(self, needed: str, **kwargs: Any) -> Project:
        return project_resolve(self.request.user, self.kwargs["project_id"], needed, **kwargs)


# --------------------------------------------------------------------------- projects


@extend_schema(tags=[TAG])
class ProjectListView(PuntView):
    serializer_class = s.PuntProjectSerializer

    @extend_schema(responses={200: s.PuntProjectSerializer(many=True), 401: ERROR}, summary="Projects you can see")
    def get(self, request: Request) -> Response:
        projects = project_selectors.projects_for_user(user=request.user)
        return Response(s.PuntProjectSerializer(projects, many=True).data)

    @extend_schema(
        request=s.PuntProjectCreateInput,
        responses={201: s.PuntProjectSerializer, 400: ERROR, 401: ERROR},
        summary="Create a project (you become its owner)",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.PuntProjectCreateInput, request.data)
        project = project_services.project_create(
            name=data["name"],
            key=data["key"],
            description=data["description"],
            color=data["color"] or None,
            slug=data["slug"],
            **_actor(request),
        )
        return Response(s.PuntProjectSerializer(project).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=[TAG], parameters=[PROJECT_ID])
class ProjectDetailView(PuntView):
    serializer_class = s.PuntProjectSerializer

    @extend_schema(responses={200: s.PuntProjectSerializer, 404: ERROR}, summary="A project (members)")
    def get(self, request: Request, project_id: str) -> Response:
        return Response(s.PuntProjectSerializer(self.project(READ)).data)

    @extend_schema(
        request=s.PuntProjectUpdateInput,
        responses={200: s.PuntProjectSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        summary="Update a project (admin or owner; the key cannot change)",
    )
    def patch(self, request: Request, project_id: str) -> Response:
        project = self.project(MANAGE)
        data = validated(s.PuntProjectUpdateInput, request.data)
        project = project_services.project_update(project=project, **data, **_actor(request))
        return Response(s.PuntProjectSerializer(project).data)

    @extend_schema(
        request=None,
        responses={200: s.PuntSuccessSerializer, 403: ERROR, 404: ERROR},
        summary="Delete a project and everything in it for good (owner only)",
    )
    def delete(self, request: Request, project_id: str) -> Response:
        project = self.project(OWN, allow_archived=True)
        project_services.project_delete(project=project, **_actor(request), request=request)
        return Response(SUCCESS)


# --------------------------------------------------------------------------- columns


@extend_schema(tags=[TAG], parameters=[PROJECT_ID])
class ColumnListView(PuntView):
    serializer_class = s.PuntColumnSerializer

    @extend_schema(
        responses={200: s.PuntColumnSerializer(many=True), 404: ERROR},
        summary="The board's columns (To Do, In Progress, Done are created on first read)",
    )
    def get(self, request: Request, project_id: str) -> Response:
        project = self.project(READ)
        if not project.columns.exists():
            project_services.columns_create_defaults(project=project)
        columns = project_selectors.project_columns(project=project)
        return Response(s.PuntColumnSerializer(columns, many=True).data)


# --------------------------------------------------------------------------- members


@extend_schema(tags=[TAG], parameters=[PROJECT_ID])
class MemberListView(PuntView):
    serializer_class = s.PuntMemberSerializer

    @extend_schema(responses={200: s.PuntMemberSerializer(many=True), 404: ERROR}, summary="The project's members")
    def get(self, request: Request, project_id: str) -> Response:
        members = project_selectors.project_members(project=self.project(READ))
        return Response(s.PuntMemberSerializer(members, many=True).data)

    @extend_schema(
        request=s.PuntMemberInput,
        responses={201: s.PuntMemberSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        summary="Add a member (admin or owner)",
    )
    def post(self, request: Request, project_id: str) -> Response:
        project = self.project(MANAGE)
        data = validated(s.PuntMemberInput, request.data)
        username = data.get("username", "")  # PuntMemberInput requires it without a userId
        if data.get("userId"):
            username = (
                User.objects.filter(pk=_required_pk(data["userId"], "userId"))
                .values_list("username", flat=True)
                .first()
            )
            if username is None:
                raise ValidationError({"userId": ["No such user."]})
        role = {"role": data["role"]} if data.get("role") else {}
        membership = project_services.membership_add(
            project=project, username=username, **role, **_actor(request), request=request
        )
        return Response(s.PuntMemberSerializer(membership).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=[TAG], parameters=[PROJECT_ID])
class MemberDetailView(PuntView):
    serializer_class = s.PuntMemberSerializer

    def membership(self, project: Project) -> Any:
        membership = (
            project_selectors.project_members(project=project)
            .filter(pk=_required_pk(self.kwargs["member_id"], "id"))
            .first()
        )
        if membership is None:
            raise Http404("No such member in this project.")
        return membership

    @extend_schema(
        request=s.PuntMemberRoleInput,
        responses={200: s.PuntMemberSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        summary="Change a member's role (admin or owner; never the owner's)",
    )
    def patch(self, request: Request, project_id: str, member_id: str) -> Response:
        project = self.project(MANAGE)
        data = validated(s.PuntMemberRoleInput, request.data)
        membership = project_services.membership_update(
            membership=self.membership(project), role=data["role"], **_actor(request), request=request
        )
        return Response(s.PuntMemberSerializer(membership).data)

    @extend_schema(
        request=None,
        responses={200: s.PuntSuccessSerializer, 403: ERROR, 404: ERROR},
        summary="Remove a member (admin or owner; never the owner)",
    )
    def delete(self, request: Request, project_id: str, member_id: str) -> Response:
        project = self.project(MANAGE)
        project_services.membership_remove(membership=self.membership(project), **_actor(request), request=request)
        return Response(SUCCESS)


# --------------------------------------------------------------------------- labels


@extend_schema(tags=[TAG], parameters=[PROJECT_ID])
class LabelListView(PuntView):
    serializer_class = s.PuntLabelSerializer

    @extend_schema(responses={200: s.PuntLabelSerializer(many=True), 404: ERROR}, summary="The project's labels")
    def get(self, request: Request, project_id: str) -> Response:
        labels = project_selectors.project_labels(project=self.project(READ))
        return Response(s.PuntLabelSerializer(labels, many=True).data)

    @extend_schema(
        request=s.PuntLabelInput,
        responses={201: s.PuntLabelSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        summary="Create a label (members; a colour is picked when none is given)",
    )
    def post(self, request: Request, project_id: str) -> Response:
        project = self.project(WRITE)
        data = validated(s.PuntLabelInput, request.data)
        label = project_services.label_create(
            project=project, name=data["name"], color=data["color"] or None, **_actor(request)
        )
        return Response(s.PuntLabelSerializer(label).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=[TAG], parameters=[PROJECT_ID])
class LabelDetailView(PuntView):
    serializer_class = s.PuntSuccessSerializer

    @extend_schema(request=None, responses={200: s.PuntSuccessSerializer, 403: ERROR, 404: ERROR})
    def delete(self, request: Request, project_id: str, label_id: str) -> Response:
        project = self.project(WRITE)
        label = project_selectors.label_get(project=project, pk=_required_pk(label_id, "labelId"))
        project_services.label_delete(label=label, **_actor(request))
        return Response(SUCCESS)


# --------------------------------------------------------------------------- tickets


class PuntTicketView(PuntView):
    api_scope = "tickets"

    def column(self, project: Project, value: Any) -> Any:
        pk = _pk(value, "columnId")
        column = None if pk is None else project.columns.filter(pk=pk).first()
        if column is None:
            raise ValidationError({"columnId": ["No such column on this board."]})
        return column

    def render(self, project: Project, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        fresh = ticket_selectors.ticket_get(project=project, card_id=ticket.pk)
        return Response(s.PuntTicketSerializer(fresh).data, status=code)


@extend_schema(tags=[TAG], parameters=[PROJECT_ID])
class TicketListView(PuntTicketView):
    serializer_class = s.PuntTicketSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status",
                comma_separated_parameter(Column.Category.values),
                description="Column category; comma-separated.",
            ),
            OpenApiParameter(
                "type",
                comma_separated_parameter(s.TYPE_INPUT, any_case=True),
                description="Task, Bug, ...; comma-separated.",
            ),
            OpenApiParameter(
                "priority",
                comma_separated_parameter(s.PRIORITY_INPUT, any_case=True),
                description="Low, Medium, ...; comma-separated.",
            ),
            OpenApiParameter("assignee", OpenApiTypes.STR, description='User name, id or "none".'),
            OpenApiParameter(
                "sprint",
                # What CardFilter.filter_sprint takes: anything else is a 400.
                {"type": "string", "pattern": r"^\s*([0-9]{1,9}|[Nn][Oo][Nn][Ee]|[Aa][Cc][Tt][Ii][Vv][Ee])\s*$"},
                description='Sprint id, "none" or "active".',
            ),
            OpenApiParameter("q", OpenApiTypes.STR, description="Text in the title or description, or a key."),
        ],
        responses={200: s.PuntTicketSerializer(many=True), 400: ERROR, 404: ERROR},
        summary="The project's tickets (filters as /api/v1/)",
    )
    def get(self, request: Request, project_id: str) -> Response:
        project = self.project(READ)
        params = request.query_params.copy()
        # PUNT's words ("Bug", "High") → the stored values the shared filters know.
        for name, words in (("type", s.TYPE_WORDS), ("priority", s.PRIORITY_WORDS)):
            if name in params:
                params[name] = ",".join(
                    s.word_in(part, words) for part in params.get(name, "").split(",") if part.strip()
                )
        queryset = ticket_selectors.tickets_for_project(project=project)
        filterset = CardFilter(params, queryset=queryset, request=request, project=project)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        tickets = list(apply_ordering(filterset.qs, params.get("ordering") or "number"))
        # Every ticket's custom field values in one query, not one per ticket.
        context = {"custom_fields": custom_values([ticket.pk for ticket in tickets])}
        return Response(s.PuntTicketSerializer(tickets, many=True, context=context).data)

    @extend_schema(
        request=s.PuntTicketInput,
        responses={201: s.PuntTicketSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        summary='Create a ticket ("type": "Task", "priority": "Medium" by default)',
    )
    def post(self, request: Request, project_id: str) -> Response:
        project = self.project(WRITE)
        data = validated(s.PuntTicketInput, request.data)
        fields = s.ticket_fields(data)
        if data.get("columnId") not in (None, ""):
            fields["column"] = self.column(project, data["columnId"])
        ticket = ticket_services.ticket_create(project=project, **fields, **_actor(request))
        return self.render(project, ticket, status.HTTP_201_CREATED)


@extend_schema(
    tags=[TAG],
    parameters=[
        PROJECT_ID,
        OpenApiParameter("ticket_id", OpenApiTypes.STR, OpenApiParameter.PATH, description='Id or key ("BLOG-42").'),
    ],
)
class TicketDetailView(PuntTicketView):
    serializer_class = s.PuntTicketSerializer

    def ticket(self, project: Project) -> Ticket:
        return ticket_selectors.ticket_get(project=project, card_id=self.kwargs["ticket_id"])

    @extend_schema(responses={200: s.PuntTicketSerializer, 404: ERROR})
    def get(self, request: Request, project_id: str, ticket_id: str) -> Response:
        project = self.project(READ)
        return Response(s.PuntTicketSerializer(self.ticket(project)).data)

    @extend_schema(
        request=s.PuntTicketUpdateInput,
        responses={200: s.PuntTicketSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        summary="Change the given fields (columnId moves the ticket)",
    )
    def patch(self, request: Request, project_id: str, ticket_id: str) -> Response:
        project = self.project(WRITE)
        ticket = self.ticket(project)
        data = validated(s.PuntTicketUpdateInput, request.data)
        with transaction.atomic():
            if data.get("columnId") not in (None, ""):
                ticket = ticket_services.ticket_move(
                    ticket=ticket,
                    column=self.column(project, data["columnId"]),
                    force=data.get("force", False),
                    **_actor(request),
                )
            fields = s.ticket_fields(data)
            if fields:
                ticket = ticket_services.ticket_update(ticket=ticket, **fields, **_actor(request))
        return self.render(project, ticket)

    @extend_schema(
        request=None,
        responses={200: s.PuntSuccessSerializer, 403: ERROR, 404: ERROR},
        summary="Delete a ticket (members; admins can restore it from /api/v1/)",
    )
    def delete(self, request: Request, project_id: str, ticket_id: str) -> Response:
        project = self.project(WRITE)
        ticket_services.ticket_delete(ticket=self.ticket(project), **_actor(request))
        return Response(SUCCESS)


# --------------------------------------------------------------------------- sprints


@extend_schema(tags=[TAG], parameters=[PROJECT_ID])
class SprintListView(PuntView):
    serializer_class = s.PuntSprintSerializer

    @extend_schema(responses={200: s.PuntSprintSerializer(many=True), 404: ERROR}, summary="The project's sprints")
    def get(self, request: Request, project_id: str) -> Response:
        sprints = project_selectors.project_sprints(project=self.project(READ))
        return Response(s.PuntSprintSerializer(sprints, many=True).data)

    @extend_schema(
        request=s.PuntSprintInput,
        responses={201: s.PuntSprintSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        summary="Plan a sprint (members)",
    )
    def post(self, request: Request, project_id: str) -> Response:
        project = self.project(WRITE)
        data = validated(s.PuntSprintInput, request.data)
        sprint = project_services.sprint_create(project=project, **s.sprint_fields(data), **_actor(request))
        sprint = project_selectors.sprint_get(project=project, pk=sprint.pk)
        return Response(s.PuntSprintSerializer(sprint).data, status=status.HTTP_201_CREATED)


SPRINT_ID = OpenApiParameter("sprint_id", OpenApiTypes.STR, OpenApiParameter.PATH)


@extend_schema(tags=[TAG], parameters=[PROJECT_ID, SPRINT_ID])
class SprintScopedView(PuntView):
    serializer_class: type[BaseSerializer[Any]] = s.PuntSprintSerializer

    def sprint(self, needed: str) -> Any:
        return project_selectors.sprint_get(
            project=self.project(needed), pk=_required_pk(self.kwargs["sprint_id"], "sprintId")
        )

    def render(self, sprint: Any) -> Response:
        return Response(s.PuntSprintSerializer(project_selectors.sprint_get(project=sprint.project, pk=sprint.pk)).data)


class SprintDetailView(SprintScopedView):
    @extend_schema(responses={200: s.PuntSprintSerializer, 404: ERROR})
    def get(self, request: Request, project_id: str, sprint_id: str) -> Response:
        return Response(s.PuntSprintSerializer(self.sprint(READ)).data)

    @extend_schema(
        request=s.PuntSprintUpdateInput, responses={200: s.PuntSprintSerializer, 400: ERROR, 403: ERROR, 404: ERROR}
    )
    def patch(self, request: Request, project_id: str, sprint_id: str) -> Response:
        sprint = self.sprint(WRITE)
        data = validated(s.PuntSprintUpdateInput, request.data)
        return self.render(project_services.sprint_update(sprint=sprint, **s.sprint_fields(data), **_actor(request)))

    @extend_schema(request=None, responses={200: s.PuntSuccessSerializer, 403: ERROR, 404: ERROR, 409: ERROR})
    def delete(self, request: Request, project_id: str, sprint_id: str) -> Response:
        project_services.sprint_delete(sprint=self.sprint(WRITE), **_actor(request))
        return Response(SUCCESS)


class SprintStartView(SprintScopedView):
    @extend_schema(
        request=None,
        responses={200: s.PuntSprintSerializer, 403: ERROR, 404: ERROR, 409: ERROR},
        summary="Start a planned sprint (one active at a time)",
    )
    def post(self, request: Request, project_id: str, sprint_id: str) -> Response:
        return self.render(project_services.sprint_start(sprint=self.sprint(WRITE), **_actor(request)))


class SprintCompleteView(SprintScopedView):
    serializer_class = s.PuntSprintCompleteSerializer

    @extend_schema(
        request=s.PuntSprintCompleteInput,
        responses={200: s.PuntSprintCompleteSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 409: ERROR},
        summary="Complete the active sprint; unfinished tickets move to moveToSprintId or the backlog",
    )
    def post(self, request: Request, project_id: str, sprint_id: str) -> Response:
        sprint = self.sprint(WRITE)
        data = validated(s.PuntSprintCompleteInput, request.data)
        move_to = None
        target = _pk(data.get("moveToSprintId"), "moveToSprintId")
        if target is not None:
            move_to = sprint.project.sprints.filter(pk=target).first()
            if move_to is None:
                raise ValidationError({"moveToSprintId": ["No such sprint in this project."]})
        result = project_services.sprint_complete(sprint=sprint, move_to=move_to, **_actor(request))
        result["sprint"] = project_selectors.sprint_get(project=sprint.project, pk=sprint.pk)
        return Response(s.PuntSprintCompleteSerializer(result).data)


# --------------------------------------------------------------------------- admin


class PuntAdminView(PuntView):
    api_scope = "admin"
    permission_classes = [*PuntView.permission_classes, IsSiteAdmin]


def _roles(user: User, admin: bool | None) -> list[str] | None:
    """The user's global roles with the admin role set to `admin` (None: unchanged)."""
    if admin is None:
        return None
    roles = [role for role in user.roles if role != User.GlobalRole.ADMIN]
    return [User.GlobalRole.ADMIN.value, *roles] if admin else roles


@extend_schema(tags=[TAG])
class AdminUserListView(PuntAdminView):
    serializer_class = s.PuntAdminUserSerializer

    @extend_schema(
        parameters=[OpenApiParameter("search", OpenApiTypes.STR, description="Part of a user name, e-mail or name.")],
        responses={200: s.PuntAdminUserSerializer(many=True), 401: ERROR, 403: ERROR},
        summary="Every account (site admins)",
    )
    def get(self, request: Request) -> Response:
        users = account_selectors.users_for_admin(search=request.query_params.get("search", ""))
        return Response(s.PuntAdminUserSerializer(users, many=True).data)

    @extend_schema(
        request=s.PuntAdminUserCreateInput,
        responses={201: s.PuntAdminUserSerializer, 400: ERROR, 403: ERROR},
        summary="Create an account (site admins)",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.PuntAdminUserCreateInput, request.data)
        user = account_services.user_create(
            by=request_user(request),
            username=data["username"],
            email=data["email"],
            password=data["password"],
            display_name=data["name"],
            global_roles=[User.GlobalRole.ADMIN.value] if data["isSystemAdmin"] else [],
            is_active=data["isActive"],
            request=request,
        )
        return Response(s.PuntAdminUserSerializer(user).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=[TAG], parameters=[OpenApiParameter("user_id", OpenApiTypes.STR, OpenApiParameter.PATH)])
class AdminUserDetailView(PuntAdminView):
    serializer_class = s.PuntAdminUserSerializer

    def target(self) -> User:
        return account_selectors.user_get_for_admin(pk=_required_pk(self.kwargs["user_id"], "userId"))

    @extend_schema(responses={200: s.PuntAdminUserSerializer, 403: ERROR, 404: ERROR})
    def get(self, request: Request, user_id: str) -> Response:
        return Response(s.PuntAdminUserSerializer(self.target()).data)

    @extend_schema(
        request=s.PuntAdminUserUpdateInput,
        responses={200: s.PuntAdminUserSerializer, 400: ERROR, 403: ERROR, 404: ERROR},
        summary="Change an account (site admins)",
    )
    def patch(self, request: Request, user_id: str) -> Response:
        user = self.target()
        data = validated(s.PuntAdminUserUpdateInput, request.data)
        user = account_services.user_admin_update(
            user=user,
            by=request_user(request),
            display_name=data.get("name"),
            email=data.get("email"),
            is_active=data.get("isActive"),
            global_roles=_roles(user, data.get("isSystemAdmin")),
            password=data.get("password"),
            request=request,
        )
        return Response(s.PuntAdminUserSerializer(user).data)


@extend_schema(tags=[TAG])
class AdminSettingsView(PuntAdminView):
    serializer_class = s.PuntSettingsSerializer

    @extend_schema(responses={200: s.PuntSettingsSerializer, 403: ERROR}, summary="System settings (site admins)")
    def get(self, request: Request) -> Response:
        return Response(s.PuntSettingsSerializer(account_services.system_settings()).data)

    @extend_schema(
        request=s.PuntSettingsInput,
        responses={200: s.PuntSettingsSerializer, 400: ERROR, 403: ERROR},
        summary="Change system settings (site admins)",
    )
    def patch(self, request: Request) -> Response:
        data = validated(s.PuntSettingsInput, request.data)
        fields = {s.PuntSettingsInput.FIELDS[name]: value for name, value in data.items()}
        account_services.system_settings_update(by=request_user(request), request=request, **fields)
        return Response(s.PuntSettingsSerializer(account_services.system_settings()).data)


# --------------------------------------------------------------------------- upload


@extend_schema(tags=[TAG])
class UploadConfigView(PuntView):
    serializer_class = s.PuntUploadConfigSerializer

    @extend_schema(responses={200: s.PuntUploadConfigSerializer, 401: ERROR}, summary="What uploads accept")
    def get(self, request: Request) -> Response:
        current = account_services.system_settings()
        body = {
            "maxSize": current.max_upload_bytes,
            "allowedTypes": list(current.allowed_upload_types),
            "maxImagePixels": settings.PUNT_MAX_IMAGE_PIXELS,
        }
        return Response(s.PuntUploadConfigSerializer(body).data)


@extend_schema(tags=[TAG])
class UploadView(PuntView):
    api_scope = "tickets"
    serializer_class = s.PuntUploadSerializer
    parser_classes = (MultiPartParser, FormParser)

    @extend_schema(
        request={"multipart/form-data": s.PuntUploadInput},
        responses={201: s.PuntUploadSerializer, 400: ERROR, 403: ERROR, 404: ERROR, 413: ERROR},
        summary="Upload a file to a ticket (members; images are checked and re-encoded)",
    )
    def post(self, request: Request) -> Response:
        data = validated(s.PuntUploadInput, request.data)
        project = project_resolve(request.user, data["projectId"], WRITE)
        ticket = ticket_selectors.ticket_get(project=project, card_id=data["ticketId"])
        attachment = ticket_services.attachment_add(ticket=ticket, upload=data["file"], **_actor(request))
        return Response(
            s.PuntUploadSerializer(attachment, context={"project": project}).data, status=status.HTTP_201_CREATED
        )
