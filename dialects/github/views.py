"""The GitHub-v3-style API (seed 003) under /api/v3/.

Projects live in a namespace (a user name or an organization slug) and are addressed as
/projects/<owner>/<project-path>; tickets by their per-project number. Any of PUNT's
credentials work. Beyond the read-only document, as GitHub does: create and edit tickets,
close and reopen them with PATCH {"state"}, create and edit comments. Lists page with
?page=&per_page= and a Link header.
"""

from __future__ import annotations

import math
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from accounts.models import User
from dialects.common import ERROR, MAX_PAGING, DialectErrorsMixin
from dialects.github import serializers as s
from projects import selectors as project_selectors
from projects.models import Organization, Project
from projects.permissions import READ, WRITE
from punt.api.request import tab_id, validated
from punt.errors import NotFound
from punt.ranges import as_int
from tickets import pql
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.models import Event, Ticket

TAG = "github-v3"
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="1-based page number."),
    OpenApiParameter("per_page", OpenApiTypes.INT, description=f"Default {DEFAULT_PER_PAGE}, at most {MAX_PER_PAGE}."),
]
OWNER = OpenApiParameter("owner", OpenApiTypes.STR, OpenApiParameter.PATH, description="User name or organization.")
PROJECT = OpenApiParameter("project", OpenApiTypes.STR, OpenApiParameter.PATH, description="The project's URL name.")
NUMBER = OpenApiParameter("number", OpenApiTypes.INT, OpenApiParameter.PATH, description="The ticket's number.")
EVENT_ID = OpenApiParameter("event_id", OpenApiTypes.INT, OpenApiParameter.PATH)
COMMENT_ID = OpenApiParameter("comment_id", OpenApiTypes.INT, OpenApiParameter.PATH)


def _positive(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    value = as_int(raw, 1, MAX_PAGING)
    if value is None:
        raise ValidationError({name: [f"Must be an integer from 1 to {MAX_PAGING}."]})
    return value


def paginate(request: Request, rows: QuerySet[Any] | list[Any]) -> tuple[list[Any], dict[str, str]]:
    """One page of `rows` and the Link header GitHub sends (first, prev, next, last)."""
    page = _positive(request, "page", 1)
    per_page = min(_positive(request, "per_page", DEFAULT_PER_PAGE), MAX_PER_PAGE)
    total = rows.count() if isinstance(rows, QuerySet) else len(rows)
    last = max(1, math.ceil(total / per_page))
    items = list(rows[(page - 1) * per_page : page * per_page])
    url = replace_query_param(request.build_absolute_uri(), "per_page", per_page)
    links = []
    if page > 1:
        links.append(f'<{replace_query_param(url, "page", 1)}>; rel="first"')
        links.append(f'<{replace_query_param(url, "page", min(page - 1, last))}>; rel="prev"')
    if page < last:
        links.append(f'<{replace_query_param(url, "page", page + 1)}>; rel="next"')
        links.append(f'<{replace_query_param(url, "page", last)}>; rel="last"')
    return items, ({"Link": ", ".join(links)} if links else {})


def namespace_filter(owner: str) -> Q:
    """Projects in the namespace `owner`: a user's own projects or an organization's."""
    return Q(owner_user__username__iexact=owner, organization__isnull=True) | Q(organization__slug__iexact=owner)


@extend_schema(tags=[TAG])
class GithubView(DialectErrorsMixin, GenericAPIView):
    api_scope = "projects"
    pagination_class = None

    def ctx(self, **extra: Any) -> dict[str, Any]:
        return {"request": self.request, **extra}

    def project(self, needed: str = READ) -> Project:
        return project_selectors.project_for(
            self.request.user, owner=self.kwargs["owner"], path=self.kwargs["project"], min_role=needed
        )

    def actor(self) -> dict[str, Any]:
        return {"by": self.request.user, "tab_id": tab_id(self.request)}


# --------------------------------------------------------------------------- users and projects


class UserProjectsView(GithubView):
    serializer_class = s.GhProjectSerializer

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: s.GhProjectSerializer(many=True), 401: ERROR},
        summary="List your own projects (every project you are a member of)",
    )
    def get(self, request: Request) -> Response:
        projects = project_selectors.projects_for_user(user=request.user)
        page, headers = paginate(request, projects)
        return Response(s.GhProjectSerializer(page, many=True, context=self.ctx()).data, headers=headers)


def _namespace_exists(owner: str) -> bool:
    return (
        User.objects.filter(username__iexact=owner).exists() or Organization.objects.filter(slug__iexact=owner).exists()
    )


@extend_schema(parameters=[OpenApiParameter("username", OpenApiTypes.STR, OpenApiParameter.PATH)])
class UserDetailView(GithubView):
    serializer_class = s.GhUserSerializer

    @extend_schema(responses={200: s.GhUserSerializer, 404: ERROR}, summary="A user (or organization) namespace")
    def get(self, request: Request, username: str) -> Response:
        user = User.objects.filter(username__iexact=username).values_list("username", flat=True).first()
        org = Organization.objects.filter(slug__iexact=username).values_list("slug", flat=True).first()
        name = user or org
        if name is None:
            raise NotFound("User not found.")
        url = f"{s.API}/users/{name}"
        body = {
            "username": name,
            "url": request.build_absolute_uri(url),
            "projects_url": request.build_absolute_uri(f"{url}/projects"),
        }
        return Response(s.GhUserSerializer(body).data)


@extend_schema(parameters=[OpenApiParameter("username", OpenApiTypes.STR, OpenApiParameter.PATH)])
class UserProjectListView(GithubView):
    serializer_class = s.GhProjectSerializer

    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: s.GhProjectSerializer(many=True), 401: ERROR, 404: ERROR},
        summary="List projects owned by a user (those you can see)",
    )
    def get(self, request: Request, username: str) -> Response:
        if not _namespace_exists(username):
            raise NotFound("User not found.")
        projects = project_selectors.projects_for_user(user=request.user).filter(namespace_filter(username))
        page, headers = paginate(request, projects)
        return Response(s.GhProjectSerializer(page, many=True, context=self.ctx()).data, headers=headers)


@extend_schema(parameters=[OWNER, PROJECT])
class ProjectDetailView(GithubView):
    serializer_class = s.GhProjectSerializer

    @extend_schema(responses={200: s.GhProjectSerializer, 401: ERROR, 404: ERROR}, summary="Get a single project")
    def get(self, request: Request, owner: str, project: str) -> Response:
        return Response(s.GhProjectSerializer(self.project(READ), context=self.ctx()).data)


# --------------------------------------------------------------------------- tickets


class GithubTicketView(GithubView):
    api_scope = "tickets"

    def tickets(self, project: Project) -> QuerySet[Ticket]:
        return ticket_selectors.tickets_for_project(project=project).select_related("updated_by", "closed_by")

    def ticket(self, project: Project) -> Ticket:
        ticket = self.tickets(project).filter(number=self.kwargs["number"]).first()
        if ticket is None:
            raise NotFound("Ticket not found.")
        return ticket

    def render(self, project: Project, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.tickets(project).get(pk=ticket.pk)
        return Response(s.GhTicketSerializer(fresh, context=self.ctx(project=project)).data, status=code)


@extend_schema(parameters=[OWNER, PROJECT])
class TicketListView(GithubTicketView):
    serializer_class = s.GhTicketSerializer

    @extend_schema(
        parameters=[
            *PAGE_PARAMETERS,
            OpenApiParameter("state", OpenApiTypes.STR, description="opened, closed or all (the default)."),
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                description=(
                    "A PQL query (PUNT's extension), e.g. `assignee = me() AND priority >= high`, combined with "
                    "`state`. Its ORDER BY replaces the default order (newest first). A bad query is a 400 whose "
                    "`details` name `q` with the position."
                ),
            ),
        ],
        responses={200: s.GhTicketSerializer(many=True), 400: ERROR, 401: ERROR, 404: ERROR},
        summary="List tickets for a project (newest first)",
    )
    def get(self, request: Request, owner: str, project: str) -> Response:
        target = self.project(READ)
        queryset = self.tickets(target)
        state = request.query_params.get("state", "all").strip().lower()
        if state == "open":
            state = Ticket.State.OPENED
        if state not in ("all", *Ticket.State.values):
            raise ValidationError({"state": ["Use opened, closed or all."]})
        if state != "all":
            queryset = queryset.filter(state=state)
        text = request.query_params.get("q", "").strip()
        compiled = pql.compile_query(text, pql.project_scope(target, request.user)) if text else None
        if compiled is not None:
            queryset = pql.apply(queryset, compiled)
        if compiled is None or not compiled.order:
            queryset = queryset.order_by("-number")
        page, headers = paginate(request, queryset)
        data = s.GhTicketSerializer(page, many=True, context=self.ctx(project=target)).data
        return Response(data, headers=headers)

    @extend_schema(
        request=s.GhTicketCreateInput,
        responses={201: s.GhTicketSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Create a ticket",
    )
    def post(self, request: Request, owner: str, project: str) -> Response:
        target = self.project(WRITE)
        data = validated(s.GhTicketCreateInput, request.data)
        ticket = ticket_services.ticket_create(project=target, **data, **self.actor())
        return self.render(target, ticket, status.HTTP_201_CREATED)


@extend_schema(parameters=[OWNER, PROJECT, NUMBER])
class TicketDetailView(GithubTicketView):
    serializer_class = s.GhTicketSerializer

    @extend_schema(responses={200: s.GhTicketSerializer, 401: ERROR, 404: ERROR}, summary="Get a single ticket")
    def get(self, request: Request, owner: str, project: str, number: int) -> Response:
        target = self.project(READ)
        return Response(s.GhTicketSerializer(self.ticket(target), context=self.ctx(project=target)).data)

    @extend_schema(
        request=s.GhTicketUpdateInput,
        responses={200: s.GhTicketSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
        summary='Edit a ticket; "state": "closed" closes it, "opened" reopens it (an action event)',
    )
    def patch(self, request: Request, owner: str, project: str, number: int) -> Response:
        target = self.project(WRITE)
        ticket = self.ticket(target)
        data = validated(s.GhTicketUpdateInput, request.data)
        state = data.pop("state", None)
        with transaction.atomic():
            if data:
                ticket = ticket_services.ticket_update(ticket=ticket, **data, **self.actor())
            if state == Ticket.State.CLOSED:
                ticket = ticket_services.ticket_close(ticket=ticket, **self.actor())
            elif state == Ticket.State.OPENED:
                ticket = ticket_services.ticket_reopen(ticket=ticket, **self.actor())
        return self.render(target, ticket)


# --------------------------------------------------------------------------- events and comments


class TimelineView(GithubTicketView):
    serializer_class = s.GhEventSerializer

    def render_events(self, project: Project, ticket: Ticket, events: Any, **kwargs: Any) -> Any:
        return s.GhEventSerializer(events, context=self.ctx(project=project, ticket=ticket), **kwargs).data


@extend_schema(parameters=[OWNER, PROJECT, NUMBER])
class EventListView(TimelineView):
    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: s.GhEventSerializer(many=True), 401: ERROR, 404: ERROR},
        summary="List a ticket's events (comments, mentions, actions, updates), oldest first",
    )
    def get(self, request: Request, owner: str, project: str, number: int) -> Response:
        target = self.project(READ)
        ticket = self.ticket(target)
        page, headers = paginate(request, ticket_selectors.ticket_events(ticket=ticket))
        return Response(self.render_events(target, ticket, page, many=True), headers=headers)


@extend_schema(parameters=[OWNER, PROJECT, NUMBER, EVENT_ID])
class EventDetailView(TimelineView):
    @extend_schema(responses={200: s.GhEventSerializer, 401: ERROR, 404: ERROR}, summary="Get a single event")
    def get(self, request: Request, owner: str, project: str, number: int, event_id: int) -> Response:
        target = self.project(READ)
        ticket = self.ticket(target)
        event = ticket_selectors.ticket_events(ticket=ticket).filter(pk=event_id).first()
        if event is None:
            raise NotFound("Event not found.")
        return Response(self.render_events(target, ticket, event))


@extend_schema(parameters=[OWNER, PROJECT, NUMBER])
class CommentListView(TimelineView):
    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: s.GhEventSerializer(many=True), 401: ERROR, 404: ERROR},
        summary="List a ticket's comments, oldest first",
    )
    def get(self, request: Request, owner: str, project: str, number: int) -> Response:
        target = self.project(READ)
        ticket = self.ticket(target)
        page, headers = paginate(request, ticket_selectors.ticket_comments(ticket=ticket))
        return Response(self.render_events(target, ticket, page, many=True), headers=headers)

    @extend_schema(
        request=s.GhCommentInput,
        responses={201: s.GhEventSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Comment on a ticket",
    )
    def post(self, request: Request, owner: str, project: str, number: int) -> Response:
        target = self.project(WRITE)
        ticket = self.ticket(target)
        data = validated(s.GhCommentInput, request.data)
        comment = ticket_services.comment_create(ticket=ticket, body=data["body"], **self.actor())
        return Response(self.render_events(target, ticket, comment), status=status.HTTP_201_CREATED)


class CommentScopedView(TimelineView):
    def comment_response(self, project: Project, ticket: Ticket, comment: Event) -> Response:
        return Response(self.render_events(project, ticket, comment))

    def edit(self, request: Request, project: Project, ticket: Ticket, comment: Event) -> Response:
        data = validated(s.GhCommentInput, request.data)
        comment = ticket_services.comment_update(comment=comment, body=data["body"], **self.actor())
        return self.comment_response(project, ticket, comment)


@extend_schema(parameters=[OWNER, PROJECT, NUMBER, COMMENT_ID])
class CommentDetailView(CommentScopedView):
    def target(self, needed: str) -> tuple[Project, Ticket, Event]:
        project = self.project(needed)
        ticket = self.ticket(project)
        comment = ticket_selectors.comment_get(project=project, comment_id=self.kwargs["comment_id"], ticket=ticket)
        return project, ticket, comment

    @extend_schema(responses={200: s.GhEventSerializer, 401: ERROR, 404: ERROR}, summary="Get a single comment")
    def get(self, request: Request, owner: str, project: str, number: int, comment_id: int) -> Response:
        return self.comment_response(*self.target(READ))

    @extend_schema(
        request=s.GhCommentInput,
        responses={200: s.GhEventSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Edit a comment (its author)",
    )
    def patch(self, request: Request, owner: str, project: str, number: int, comment_id: int) -> Response:
        return self.edit(request, *self.target(WRITE))


@extend_schema(parameters=[COMMENT_ID])
class CommentByIdView(CommentScopedView):
    """The comment `url` of seed 003: /comments/<id>, without the ticket in the path."""

    def target(self, needed: str) -> tuple[Project, Ticket, Event]:
        row = (
            Event.objects.filter(pk=self.kwargs["comment_id"], kind=Event.Kind.COMMENT)
            .values_list("ticket__project__key", flat=True)
            .first()
        )
        if row is None:
            raise NotFound("Comment not found.")
        project = project_selectors.project_for(self.request.user, key=row, min_role=needed)
        comment = ticket_selectors.comment_get(project=project, comment_id=self.kwargs["comment_id"])
        ticket = self.tickets(project).filter(pk=comment.ticket_id).first()
        if ticket is None:
            raise NotFound("Comment not found.")
        return project, ticket, comment

    @extend_schema(
        responses={200: s.GhEventSerializer, 401: ERROR, 404: ERROR},
        summary="Get a comment by its id",
        operation_id="github_comment_by_id_retrieve",
    )
    def get(self, request: Request, comment_id: int) -> Response:
        return self.comment_response(*self.target(READ))

    @extend_schema(
        request=s.GhCommentInput,
        responses={200: s.GhEventSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Edit a comment by its id (its author)",
        operation_id="github_comment_by_id_partial_update",
    )
    def patch(self, request: Request, comment_id: int) -> Response:
        return self.edit(request, *self.target(WRITE))
