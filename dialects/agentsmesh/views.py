"""AgentsMesh's external Tickets API (seed 002) under /api/v1/ext/orgs/<org>/.

API keys only (`X-API-Key`, or `Authorization: Bearer <key>`); a JWT or a session cookie
is not accepted here (401). Every endpoint is scope `tickets` (tickets:read for GET,
tickets:write otherwise), on top of the key owner's role in the project. Only the
organization's projects ("repositories", `repository_id` = project id) are reachable.
"""

from __future__ import annotations

from typing import Any, overload

from django.db import transaction
from django.db.models import Q, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import ApiKeyAuthentication
from dialects.agentsmesh import cards as am_cards
from dialects.agentsmesh import serializers as s
from dialects.common import ERROR, MAX_PAGING, DialectErrorsMixin
from projects import fastpath as project_fastpath
from projects import selectors as project_selectors
from projects import services as project_services
from projects.models import Organization, Project
from projects.permissions import READ, WRITE, visible_projects
from punt import errors
from punt.api.request import request_user, tab_id, validated
from punt.api.schema import integer_parameter
from punt.errors import NotFound
from tickets import pql
from tickets import selectors as ticket_selectors
from tickets import services as ticket_services
from tickets.filters import MAX_LABEL_VALUES, CardFilter, CountedIds
from tickets.models import Ticket

TAG = "agentsmesh"
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
ORG = OpenApiParameter("org", OpenApiTypes.STR, OpenApiParameter.PATH, description="Organization slug.")
SLUG = OpenApiParameter(
    "slug", OpenApiTypes.STR, OpenApiParameter.PATH, description="Ticket slug (e.g., AM-123): project key and number."
)
REPOSITORY = OpenApiParameter(
    "repository_id", integer_parameter(0, MAX_PAGING), description="Filter by repository (project) id."
)
PQL = OpenApiParameter(
    "q",
    OpenApiTypes.STR,
    description=(
        "A PQL query (PUNT's extension), e.g. `priority >= high AND label = backend ORDER BY updated DESC`, "
        "within `repository_id` or every repository of the organization you can see; combined with the other "
        "filters. Its ORDER BY replaces the default order (newest first). A bad query is a 400 whose `details` "
        "name `q` with the position."
    ),
)


@overload
def _int_param(request: Request, name: str, default: int, *, minimum: int = 0) -> int: ...
@overload
def _int_param(request: Request, name: str, default: None, *, minimum: int = 0) -> int | None: ...
def _int_param(request: Request, name: str, default: int | None, *, minimum: int = 0) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError({name: ["Must be an integer."]}) from None
    if not minimum <= value <= MAX_PAGING:
        raise ValidationError({name: [f"Must be between {minimum} and {MAX_PAGING}."]})
    return value


@extend_schema(tags=[TAG], parameters=[ORG])
class AgentsMeshView(DialectErrorsMixin, GenericAPIView):
    authentication_classes = [ApiKeyAuthentication]
    api_scope = "tickets"
    pagination_class = None
    error_fields = {"assignee": "assignee_id", "parent": "parent_slug"}

    def organization(self) -> Organization:
        if not hasattr(self, "_org"):
            user = request_user(self.request)
            # One statement: the organization and whether the caller belongs to it or to one of
            # its projects (archived ones count: they stay readable by their members).
            org = project_fastpath.organization_with_access(slug=self.kwargs["org"], user_id=user.pk)
            if org is None or not (user.is_staff or org.caller_belongs):  # type: ignore[attr-defined]
                raise NotFound("Organization not found.")
            self._org = org
        return self._org

    def repositories(self, org: Organization | None = None) -> QuerySet[Project]:
        """The organization's live projects the key's owner can see."""
        return visible_projects(self.request.user).filter(organization=org or self.organization())

    def repository(self, repository_id: int | None, needed: str) -> Project:
        """One of the organization's projects (archived ones read-only, as everywhere), through
        projects.selectors.project_for; another organization's project is not found here.

        None: the organization's default project (seed 002's create example names none).
        """
        if repository_id is not None:
            return self.in_organization(repository_id=repository_id, needed=needed, missing="Repository not found.")
        default_id = project_selectors.organization_default_project_id(org=self.organization())
        if default_id is None:
            raise ValidationError({"repository_id": ["Required: this organization has no repository yet."]})
        try:
            return self.in_organization(repository_id=default_id, needed=needed, missing="Repository not found.")
        except errors.NotFound:
            raise ValidationError(
                {"repository_id": ["Required: the organization's default repository is not open to you."]}
            ) from None

    def in_organization(self, *, needed: str, missing: str, repository_id: int | None = None, key: str = "") -> Project:
        organization = self.organization()
        try:
            if repository_id is not None:
                project = project_selectors.project_for(self.request.user, project_id=repository_id)
            else:
                project = project_selectors.project_for(self.request.user, key=key)
        except errors.NotFound:
            raise errors.NotFound(missing) from None
        if project.organization_id != organization.pk:
            raise errors.NotFound(missing)
        project_selectors.project_check(self.request.user, project, min_role=needed)
        return project

    def ticket_project(self, needed: str) -> Project:
        """The project of the slug's ticket (checked for `needed`)."""
        match = ticket_selectors.CARD_KEY_RE.match(self.kwargs["slug"])
        if not match:
            raise NotFound("Ticket not found.")
        return self.in_organization(key=match.group(1), needed=needed, missing="Ticket not found.")

    def ticket(self, needed: str) -> Ticket:
        project = self.ticket_project(needed)
        return ticket_selectors.ticket_get(project=project, card_id=self.kwargs["slug"])

    def ticket_id(self, needed: str) -> int:
        """The slug's live ticket's id, for a read that builds its JSON from the card (one
        statement, no joins or prefetches)."""
        project = self.ticket_project(needed)
        return ticket_selectors.ticket_row(project=project, card_id=self.kwargs["slug"]).pk

    def actor(self) -> dict[str, Any]:
        return {"by": self.request.user, "tab_id": tab_id(self.request)}

    def tickets(self) -> QuerySet[Ticket]:
        """The live tickets of `?repository_id=` or of the organization's repositories the caller
        sees: unjoined (the list reads its page through the card module)."""
        queryset = Ticket.objects.filter(project__in=self.repositories(), deleted_at__isnull=True)
        repository_id = _int_param(self.request, "repository_id", None)
        if repository_id is not None:
            # Named, an archived repository lists too (read-only, as everywhere).
            project = self.repository(repository_id, READ)
            queryset = Ticket.objects.filter(project=project, deleted_at__isnull=True)
        return queryset

    def pql_scope(self) -> pql.Scope:
        """Where `?q=` looks: the named repository, else the organization's that the caller can see."""
        repository_id = _int_param(self.request, "repository_id", None)
        if repository_id is not None:
            return pql.project_scope(self.repository(repository_id, READ), self.request.user)
        return pql.Scope(projects=list(self.repositories().order_by("pk")), user=self.request.user)

    def with_labels(self, project: Project, names: list[str] | None) -> list[str] | None:
        """Labels are plain strings here: create the ones the project lacks (projects.services)."""
        if names is None:
            return None
        wanted = list(dict.fromkeys(name.strip() for name in names if name.strip()))
        existing = {name.lower() for name in project.labels.values_list("name", flat=True)}
        for name in wanted:
            if name.lower() not in existing:
                project_services.label_create(project=project, name=name, **self.actor())
                existing.add(name.lower())
        return wanted

    def envelope(self, ticket_id: int, code: int = status.HTTP_200_OK) -> Response:
        """`{"ticket": ...}`, read fresh (two statements: the card's row and its labels)."""
        return Response({"ticket": am_cards.TICKET.read([ticket_id])[0]}, status=code)


class TicketListView(AgentsMeshView):
    serializer_class = s.AmTicketListSerializer

    @extend_schema(
        parameters=[
            REPOSITORY,
            PQL,
            OpenApiParameter("status", OpenApiTypes.STR, description=f"One of {', '.join(s.STATUSES)}."),
            OpenApiParameter("type", OpenApiTypes.STR, description=f"One of {', '.join(Ticket.Type.values)}."),
            OpenApiParameter(
                "assignee_id", integer_parameter(0, MAX_PAGING), description="Filter by assignee user id."
            ),
            OpenApiParameter(
                "labels",
                OpenApiTypes.STR,
                description=f"Label names, comma-separated (any of them; at most {MAX_LABEL_VALUES}).",
            ),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"Default {DEFAULT_LIMIT}, at most {MAX_LIMIT}."),
            OpenApiParameter("offset", OpenApiTypes.INT, description="Default 0."),
        ],
        responses={200: s.AmTicketListSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="List tickets (tickets:read)",
        operation_id="agentsmesh_tickets_list",
    )
    def get(self, request: Request, org: str) -> Response:
        self.organization()
        limit = min(_int_param(request, "limit", DEFAULT_LIMIT, minimum=1), MAX_LIMIT)
        offset = _int_param(request, "offset", 0)
        assignee_id = _int_param(request, "assignee_id", None)
        criteria = {name: request.query_params[name] for name in ("status", "type") if request.query_params.get(name)}
        if assignee_id is not None:
            criteria["assignee"] = str(assignee_id)
        filterset = CardFilter(criteria, queryset=self.tickets(), request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        queryset = filterset.qs
        raw_labels = request.query_params.get("labels", "").split(",")
        labels = {name.strip().lower(): name.strip() for name in raw_labels if name.strip()}
        if len(labels) > MAX_LABEL_VALUES:
            raise errors.invalid("labels", f"At most {MAX_LABEL_VALUES} labels at once; {len(labels)} were given.")
        if labels:
            condition = Q(pk__in=[])
            for name in labels.values():
                condition |= Q(labels__name__iexact=name)
            queryset = queryset.filter(pk__in=Ticket.objects.filter(condition).values("pk"))
        text = request.query_params.get("q", "").strip()
        compiled = pql.compile_query(text, self.pql_scope()) if text else None
        if compiled is not None and compiled.order:
            # The ORM pages it: an ORDER BY on a related field needs its join in the statement.
            ordered = pql.apply(queryset, compiled)
            ids = list(ordered.values_list("pk", flat=True)[offset : offset + limit])
            total = ordered.count()
        else:
            if compiled is not None:
                queryset = queryset.filter(compiled.q())
            # Newest first; counted and paged as plain SQL over the ORM's filtered statement.
            counted = CountedIds(queryset, "-created_at")
            ids, total = counted[offset : offset + limit], counted.count()
        body = {"tickets": am_cards.LIST_ITEM.read(ids), "total": total, "limit": limit, "offset": offset}
        return Response(body)

    @extend_schema(
        request=s.AmTicketCreateInput,
        responses={201: s.AmTicketEnvelopeSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Create a ticket (tickets:write)",
    )
    def post(self, request: Request, org: str) -> Response:
        self.organization()
        data = validated(s.AmTicketCreateInput, request.data)
        project = self.repository(data.get("repository_id"), WRITE)
        fields = s.ticket_fields(data)
        with transaction.atomic():
            fields["labels"] = self.with_labels(project, fields.get("labels")) or []
            ticket = ticket_services.ticket_create(project=project, **fields, **self.actor())
        return self.envelope(ticket.pk, status.HTTP_201_CREATED)


class BoardView(AgentsMeshView):
    serializer_class = s.AmBoardSerializer

    @extend_schema(
        parameters=[REPOSITORY],
        responses={200: s.AmBoardSerializer, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Kanban board: one column per status (tickets:read)",
    )
    def get(self, request: Request, org: str) -> Response:
        self.organization()
        by_status: dict[str, list[Ticket]] = {name: [] for name in s.STATUSES}
        tickets = self.tickets().select_related("project", "column", "parent").prefetch_related("labels")
        for ticket in tickets.order_by("project_id", "column__order", "rank", "id"):
            by_status[ticket.column.category].append(ticket)
        columns = [{"status": name, "tickets": tickets} for name, tickets in by_status.items()]
        return Response(s.AmBoardSerializer({"board": {"columns": columns}}).data)


@extend_schema(parameters=[SLUG])
class TicketDetailView(AgentsMeshView):
    serializer_class = s.AmTicketEnvelopeSerializer

    @extend_schema(
        responses={200: s.AmTicketEnvelopeSerializer, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Get a ticket by slug (tickets:read)",
        operation_id="agentsmesh_ticket_retrieve",
    )
    def get(self, request: Request, org: str, slug: str) -> Response:
        self.organization()
        return self.envelope(self.ticket_id(READ))

    @extend_schema(
        request=s.AmTicketUpdateInput,
        responses={200: s.AmTicketEnvelopeSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Update a ticket: only the fields given change (tickets:write)",
    )
    def put(self, request: Request, org: str, slug: str) -> Response:
        self.organization()
        ticket = self.ticket(WRITE)
        data = validated(s.AmTicketUpdateInput, request.data)
        fields = s.ticket_fields(data)
        with transaction.atomic():
            if "labels" in fields:
                fields["labels"] = self.with_labels(ticket.project, fields["labels"])
            ticket = ticket_services.ticket_update(ticket=ticket, **fields, **self.actor())
        return self.envelope(ticket.pk)

    @extend_schema(
        request=None,
        responses={200: s.AmMessageSerializer, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Delete a ticket (tickets:write)",
    )
    def delete(self, request: Request, org: str, slug: str) -> Response:
        self.organization()
        ticket_services.ticket_destroy(ticket=self.ticket(WRITE), **self.actor())
        return Response({"message": "Ticket deleted"})


@extend_schema(parameters=[SLUG])
class TicketStatusView(AgentsMeshView):
    serializer_class = s.AmMessageSerializer

    @extend_schema(
        request=s.AmStatusInput,
        responses={200: s.AmMessageSerializer, 400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR},
        summary="Update only the status (tickets:write)",
    )
    def patch(self, request: Request, org: str, slug: str) -> Response:
        self.organization()
        ticket = self.ticket(WRITE)
        data = validated(s.AmStatusInput, request.data)
        ticket_services.ticket_update(ticket=ticket, status=data["status"], **self.actor())
        return Response({"message": "Status updated"})
