"""Thin /api/v1/ views for cards (tickets), the board and what hangs off a card (seed 004 paths).

Each view resolves the project with the role it needs (projects.selectors.project_for: 404
for outsiders, 403 below the role, 409 for writes to an archived project), validates input
with an …Input serializer, calls one service and serializes the result. Every view here is API key scope "tickets".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.filters import BaseFilterBackend
from rest_framework.generics import GenericAPIView
from rest_framework.pagination import BasePagination
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from projects.models import Column, Project
from projects.permissions import MANAGE, READ, WRITE
from projects.selectors import project_check, project_for
from punt import errors
from punt.api.parsers import JSONParser
from punt.api.request import tab_id, validated
from punt.errors import Invalid
from punt.files import ATTACHMENT_CACHE, stored_file_response
from tickets import as_of, cards, detail, pql, selectors, services
from tickets import serializers as s
from tickets.filters import (
    CardPagination,
    CountedIds,
    KeysetCursorPagination,
    PqlCardFilter,
    ProjectFilterBackend,
)
from tickets.models import Attachment, Ticket
from tickets.pql import complete

if TYPE_CHECKING:
    from rest_framework.generics import BaseFilterProtocol  # only in the stubs

SLUG = OpenApiParameter(
    "slug",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Project URL slug (chosen at creation; by default the lowercased key).",
)
CARD = OpenApiParameter(
    "card_id", OpenApiTypes.STR, OpenApiParameter.PATH, description='Card id, or its key like "BLOG-42".'
)
CURSOR = OpenApiParameter(
    "cursor",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    description="Cursor mode: send it empty for the first page, then follow next/previous.",
)

INCLUDE = OpenApiParameter(
    "include",
    OpenApiTypes.STR,
    OpenApiParameter.QUERY,
    enum=list(detail.INCLUDES),
    explode=False,
    style="form",
    many=True,
    description="What else to read with the card, comma-separated: " + ", ".join(detail.INCLUDES) + ".",
)


class EventPagination(CardPagination):
    default_limit = 100
    max_limit = 500


# A view under /projects/<slug>/; the role a method needs is READ for reads, WRITE otherwise.
# (Comments, not docstrings, on base classes: drf-spectacular would show them on every endpoint.)
class TicketsApiView(GenericAPIView):
    api_scope = "tickets"
    # The project comes from the URL, never from a queryset DRF could list unscoped.
    pagination_class: type[BasePagination] | None = None

    def needed_role(self) -> str:
        return READ if self.request.method in ("GET", "HEAD", "OPTIONS") else WRITE

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        # The project and the caller's role first: outsiders get 404 and low roles 403 before
        # any payload is read, so a bad body never tells them anything else.
        self.project()

    def project(self, needed: str | None = None) -> Project:
        if not hasattr(self, "_project"):
            self._project = project_for(
                self.request.user, slug=self.kwargs["slug"], min_role=needed or self.needed_role()
            )
        elif needed is not None:
            project_check(self.request.user, self._project, min_role=needed)
        return self._project

    def card(self, *, deleted: bool = False) -> Ticket:
        return selectors.ticket_get(project=self.project(), card_id=self.kwargs["card_id"], deleted=deleted)

    def actor(self) -> dict[str, Any]:
        return {"by": self.request.user, "tab_id": tab_id(self.request)}

    def paginated(self, queryset: Any, serializer_class: type) -> Response:
        """A page of `queryset` by the view's pagination_class ({"count", "next", "previous", "results"})."""
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(serializer_class(page, many=True, context=self.ctx()).data)

    def ctx(self) -> dict[str, Any]:
        return {"request": self.request, "project": self.project()}

    def detail_response(self, ticket: Ticket, code: int = status.HTTP_200_OK) -> Response:
        user_id = getattr(self.request.user, "pk", None)
        return Response(detail.card_detail(project=self.project(), card_id=ticket.pk, user_id=user_id)[1], status=code)

    def card_page(self, queryset: Any, shape: str) -> Response:
        """A page (view's pagination_class) of `queryset`'s cards in `shape`: ids, then the cards."""
        ids = self.paginate_queryset(queryset.values_list("pk", flat=True))
        assert ids is not None  # None only for a view without a pagination_class
        return self.get_paginated_response(cards.cards(list(ids), project=self.project(), shape=shape))


# --------------------------------------------------------------------------- cards


# Filters from query parameters (tickets.filters.PqlCardFilter), also shown in the schema, and
# `?q=`, a PQL query applied after them.
class FilteredCardsMixin:
    filter_backends: Sequence[type[BaseFilterBackend | BaseFilterProtocol[Any]]] = [ProjectFilterBackend]
    filterset_class = PqlCardFilter

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Ticket.objects.none()
        return selectors.cards_for_project(project=self.project())  # type: ignore[attr-defined]

    def pql_query(self) -> pql.Compiled | None:
        """The compiled `?q=` (None without one); compiled once per request."""
        if not hasattr(self, "_pql"):
            text = self.request.query_params.get("q", "").strip()  # type: ignore[attr-defined]
            scope = pql.project_scope(self.project(), self.request.user)  # type: ignore[attr-defined]
            self._pql = pql.compile_query(text, scope) if text else None
        return self._pql

    def filter_queryset(self, queryset: Any) -> Any:
        queryset = super().filter_queryset(queryset)  # type: ignore[misc]
        compiled = self.pql_query()
        return queryset.filter(compiled.q()) if compiled is not None else queryset


class CardListView(FilteredCardsMixin, TicketsApiView):
    serializer_class = s.CardSerializer
    pagination_class = CardPagination

    @extend_schema(
        parameters=[SLUG, CURSOR],
        responses=s.CardSerializer(many=True),
        summary="List and search cards (limit/offset with a count, or cursor mode)",
        description=(
            "Pages by `limit`/`offset` with a total `count`. With `?cursor=` (empty for the first page) "
            "the response is `{next, previous, results}` without a count: opaque keyset cursors that stay "
            "stable while cards are added (orderings number, created_at, updated_at, priority)."
        ),
    )
    def get(self, request: Request, slug: str) -> Response:
        queryset = self.filter_queryset(self.get_queryset())
        ordering = request.query_params.get("ordering")
        compiled = self.pql_query()
        if compiled is not None and compiled.order:
            if "cursor" in request.query_params:
                raise Invalid(
                    "Cursor mode keeps its own order; use limit/offset with a PQL ORDER BY.",
                    details=[{"field": "cursor", "message": "Not with a PQL ORDER BY."}],
                )
            # The ORM pages it: an ORDER BY on a related field needs its join in the statement.
            ids = self.paginate_queryset(pql.apply(queryset, compiled).values_list("pk", flat=True))
            assert ids is not None
            return self.get_paginated_response(self.cards(list(ids)))
        if "cursor" in request.query_params:
            paginator = KeysetCursorPagination(request, ordering)
            keys = paginator.paginate(queryset, values=lambda page, extra: page.values("id", *extra))
            return paginator.get_paginated_response(self.cards([key["id"] for key in keys]))
        # LimitOffsetPagination needs only count() and slicing, which CountedIds provides.
        page = self.paginate_queryset(cast("Sequence[int]", CountedIds(queryset, ordering)))
        assert page is not None  # CardPagination always pages
        return self.get_paginated_response(self.cards(page))

    def cards(self, ids: list[int]) -> list[dict[str, Any]]:
        """The page's full cards, in the order of `ids` (two queries: the rows and their labels)."""
        return cards.cards(ids, project=self.project(), shape=cards.FULL)


class ColumnCardsView(TicketsApiView):
    serializer_class = s.CardSerializer
    pagination_class = CardPagination

    def column(self) -> Column:
        return selectors.column_get(project=self.project(), column_id=self.kwargs["column_id"])

    @extend_schema(
        parameters=[SLUG, OpenApiParameter("column_id", int, OpenApiParameter.PATH)],
        responses=s.CardSerializer(many=True),
        summary="Cards of one column, in board order",
    )
    def get(self, request: Request, slug: str, column_id: int) -> Response:
        column = self.column()
        queryset = selectors.cards_for_project(project=self.project()).filter(column=column).order_by("rank", "id")
        return self.card_page(queryset, cards.FULL)

    @extend_schema(
        parameters=[SLUG, OpenApiParameter("column_id", int, OpenApiParameter.PATH)],
        request=s.CardCreateInput,
        responses={201: s.CardDetailSerializer},
        summary="Create a card at the bottom of a column",
    )
    def post(self, request: Request, slug: str, column_id: int) -> Response:
        column = self.column()
        data = validated(s.CardCreateInput, request.data)
        data.pop("status", None)  # the column decides the status
        ticket = services.ticket_create(project=self.project(), column=column, **data, **self.actor())
        # The card the service read for its event, completed: nothing to read back.
        return Response(s.new_card_detail(ticket.card, user_id=request.user.pk), status=status.HTTP_201_CREATED)


class CardDetailView(TicketsApiView):
    serializer_class = s.CardDetailSerializer

    @extend_schema(
        parameters=[SLUG, CARD, INCLUDE],
        responses=s.CardDetailIncludedSerializer,
        summary="One card with its details (and, with ?include=, the first page of its comments, ...)",
        description=(
            "With `?include=comments,events,checklist,attachments,links,relations` (any of them, comma-separated) "
            "the card also carries `included`: per name, the first page its own list endpoint "
            "(`/cards/<id>/comments`, ...) answers, as `{count, next, previous, results}` in that "
            "endpoint's order and shape. Comments and events page by 100 (`next` is the URL of their "
            "second page, null when there is none); checklist, attachments, links and relations are whole lists. "
            "An unknown name is a 400. Without `include` the response has no `included` key."
        ),
    )
    def get(self, request: Request, slug: str, card_id: str) -> Response:
        names = detail.parse_include(request.query_params.getlist("include"))
        ticket, payload = detail.card_detail(
            project=self.project(), card_id=card_id, user_id=getattr(request.user, "pk", None)
        )
        if names:
            payload["included"] = detail.included(
                ticket=ticket,
                detail=payload,
                names=names,
                endpoint=lambda name: request.build_absolute_uri(f"{request.path}/{name}"),
                user=request.user,
            )
        return Response(payload)

    @extend_schema(
        parameters=[SLUG, CARD],
        request=s.CardUpdateInput,
        responses=s.CardDetailSerializer,
        summary="Update a card (only the fields sent change)",
    )
    def put(self, request: Request, slug: str, card_id: str) -> Response:
        data = validated(s.CardUpdateInput, request.data)
        ticket = services.ticket_update(ticket=self.card(), **data, **self.actor())
        return self.detail_response(ticket)

    @extend_schema(
        parameters=[SLUG, CARD],
        request=s.CardUpdateInput,
        responses=s.CardDetailSerializer,
        summary="Update a card (only the fields sent change)",
    )
    def patch(self, request: Request, slug: str, card_id: str) -> Response:
        return self.put(request, slug, card_id)

    @extend_schema(parameters=[SLUG, CARD], responses={204: None}, summary="Soft-delete a card")
    def delete(self, request: Request, slug: str, card_id: str) -> Response:
        services.ticket_delete(ticket=self.card(), **self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)


class CardMoveView(TicketsApiView):
    serializer_class = s.CardSerializer

    @extend_schema(
        parameters=[SLUG, CARD],
        request=s.CardMoveToColumnInput,
        responses={200: s.CardSerializer, 409: OpenApiResponse(description="WIP limit reached (send force)")},
        summary="Move a card to a column, before/after a neighbour or at an index",
    )
    def patch(self, request: Request, slug: str, card_id: str) -> Response:
        data = validated(s.CardMoveToColumnInput, request.data)
        column = selectors.column_get(project=self.project(), column_id=data.pop("column_id"))
        card = selectors.ticket_row(project=self.project(), card_id=card_id)
        return Response(services.ticket_move(ticket=card, column=column, reload=False, **data, **self.actor()).card)


class CardReorderView(TicketsApiView):
    serializer_class = s.CardSerializer

    @extend_schema(
        parameters=[SLUG, CARD],
        request=s.CardMoveInput,
        responses=s.CardSerializer,
        summary="Reorder a card within its column",
    )
    def patch(self, request: Request, slug: str, card_id: str) -> Response:
        data = validated(s.CardMoveInput, request.data)
        data.pop("column_id", None)
        ticket = self.card()
        moved = services.ticket_move(ticket=ticket, column=ticket.column, reload=False, **data, **self.actor())
        return Response(moved.card)


class DeletedCardsView(TicketsApiView):
    serializer_class = s.DeletedCardSerializer
    pagination_class = CardPagination

    def needed_role(self) -> str:
        return MANAGE

    @extend_schema(
        parameters=[SLUG], responses=s.DeletedCardSerializer(many=True), summary="Soft-deleted cards (admins)"
    )
    def get(self, request: Request, slug: str) -> Response:
        queryset = selectors.cards_for_project(project=self.project(), deleted=True).order_by("-deleted_at", "-id")
        return self.card_page(queryset, cards.DELETED)


class CardRestoreView(TicketsApiView):
    """Members may ask; the service lets an admin restore any card, a member their own deletes."""

    serializer_class = s.CardDetailSerializer

    def needed_role(self) -> str:
        return WRITE

    @extend_schema(parameters=[SLUG, CARD], request=None, responses=s.CardDetailSerializer, summary="Restore a card")
    def post(self, request: Request, slug: str, card_id: str) -> Response:
        ticket = services.ticket_restore(ticket=self.card(deleted=True), **self.actor())
        return self.detail_response(ticket)


class BoardView(FilteredCardsMixin, TicketsApiView):
    serializer_class = s.BoardSerializer

    @extend_schema(
        parameters=[
            SLUG,
            OpenApiParameter(
                "as_of",
                OpenApiTypes.STR,
                description="The board as it was at this moment (ISO date-time, or a date: the end of that "
                "day; today's date is now), rebuilt from its history: columns, order, titles, assignees, "
                "labels and state. A moment still to come is a 400. Other filters do not apply to it.",
            ),
        ],
        responses=s.BoardSerializer,
        summary="The whole board: columns with their cards in order",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = self.project()
        if "as_of" in request.query_params:
            moment, _ = as_of.parse_past_moment(request.query_params["as_of"])
            return Response(as_of.board_as_of(project=project, at=moment))
        columns = selectors.board_columns(project=project)
        by_column: dict[int, list[dict[str, Any]]] = {column.pk: [] for column in columns}
        for card in cards.cards(self.filter_queryset(self.get_queryset()), project=project):
            by_column.setdefault(card["column_id"], []).append(card)
        board = {
            "project": {"id": project.pk, "key": project.key, "slug": project.slug, "name": project.name},
            "columns": [
                {
                    "id": column.pk,
                    "name": column.name,
                    "category": column.category,
                    "order": column.order,
                    "wip_limit": column.wip_limit,
                    "card_count": len(by_column[column.pk]),
                    "cards": by_column[column.pk],
                }
                for column in columns
            ],
        }
        # Already plain JSON types, shaped as BoardSerializer (the schema) says.
        return Response(board)


class SearchView(GenericAPIView):
    """Cards of every project the caller can see that match a PQL query."""

    api_scope = "tickets"
    serializer_class = s.SearchCardSerializer
    pagination_class = CardPagination

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                required=True,
                description="A PQL query, e.g. `assignee = me() AND state = open ORDER BY priority DESC`; "
                "`project = KEY` narrows it. Without ORDER BY: most recently updated first.",
            )
        ],
        responses=s.SearchCardSerializer(many=True),
        summary="Search cards across projects (PQL)",
    )
    def get(self, request: Request) -> Response:
        text = request.query_params.get("q", "").strip()
        if not text:
            raise Invalid("A query is required.", details=[{"field": "q", "message": "A query is required."}])
        scope = pql.user_scope(request.user)
        compiled = pql.compile_query(text, scope)
        tickets = Ticket.objects.filter(project_id__in=scope.project_ids, deleted_at__isnull=True)
        tickets = pql.apply(tickets, compiled)
        if not compiled.order:
            tickets = tickets.order_by("-updated_at", "-id")
        page = self.paginate_queryset(tickets.values_list("pk", "project_id"))
        assert page is not None  # CardPagination always pages
        projects = {project.pk: project for project in scope.projects}
        return self.get_paginated_response(cards.cards_across(list(page), projects=projects))


# --------------------------------------------------------------------------- timeline & comments


class CardEventsView(TicketsApiView):
    serializer_class = s.EventSerializer
    pagination_class = EventPagination

    @extend_schema(
        parameters=[SLUG, CARD], responses=s.EventSerializer(many=True), summary="The card's timeline (seed 003)"
    )
    def get(self, request: Request, slug: str, card_id: str) -> Response:
        return self.paginated(selectors.ticket_events(ticket=self.card()), s.EventSerializer)


class CardCommentsView(TicketsApiView):
    serializer_class = s.CommentSerializer
    pagination_class = EventPagination

    @extend_schema(parameters=[SLUG, CARD], responses=s.CommentSerializer(many=True), summary="Comments on a card")
    def get(self, request: Request, slug: str, card_id: str) -> Response:
        return self.paginated(selectors.ticket_comments(ticket=self.card()), s.CommentSerializer)

    @extend_schema(
        parameters=[SLUG, CARD],
        request=s.CommentInput,
        responses={201: s.CommentSerializer},
        summary="Comment on a card (minutes > 0 also logs time)",
    )
    def post(self, request: Request, slug: str, card_id: str) -> Response:
        data = validated(s.CommentInput, request.data)
        comment = services.comment_create(ticket=self.card(), **data, **self.actor())
        return Response(s.CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class CommentDetailView(TicketsApiView):
    serializer_class = s.CommentSerializer

    def comment(self) -> Any:
        ticket = self.card() if "card_id" in self.kwargs else None
        return selectors.comment_get(project=self.project(), comment_id=self.kwargs["comment_id"], ticket=ticket)

    @extend_schema(
        parameters=[SLUG, OpenApiParameter("comment_id", int, OpenApiParameter.PATH)],
        request=s.CommentUpdateInput,
        responses=s.CommentSerializer,
        summary="Edit your comment",
    )
    def put(self, request: Request, slug: str, comment_id: int, card_id: str | None = None) -> Response:
        data = validated(s.CommentUpdateInput, request.data)
        comment = services.comment_update(comment=self.comment(), **data, **self.actor())
        return Response(s.CommentSerializer(comment).data)

    @extend_schema(
        parameters=[SLUG, OpenApiParameter("comment_id", int, OpenApiParameter.PATH)],
        request=s.CommentUpdateInput,
        responses=s.CommentSerializer,
        summary="Edit your comment",
    )
    def patch(self, request: Request, slug: str, comment_id: int, card_id: str | None = None) -> Response:
        return self.put(request, slug, comment_id, card_id)

    @extend_schema(
        parameters=[SLUG, OpenApiParameter("comment_id", int, OpenApiParameter.PATH)],
        responses={204: None},
        summary="Delete a comment (yours, or any as an admin)",
    )
    def delete(self, request: Request, slug: str, comment_id: int, card_id: str | None = None) -> Response:
        services.comment_delete(comment=self.comment(), **self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- checklist


class CardChecklistView(TicketsApiView):
    serializer_class = s.ChecklistItemSerializer

    @extend_schema(
        parameters=[SLUG, CARD], responses=s.ChecklistItemSerializer(many=True), summary="A card's checklist"
    )
    def get(self, request: Request, slug: str, card_id: str) -> Response:
        items = selectors.checklist_items(ticket=self.card())
        return Response(s.ChecklistItemSerializer(items, many=True).data)

    @extend_schema(
        parameters=[SLUG, CARD],
        request=s.ChecklistItemInput,
        responses={201: s.ChecklistItemSerializer},
        summary="Add a checklist item",
    )
    def post(self, request: Request, slug: str, card_id: str) -> Response:
        data = validated(s.ChecklistItemInput, request.data)
        item = services.checklist_item_add(ticket=self.card(), **data, **self.actor())
        return Response(s.ChecklistItemSerializer(item).data, status=status.HTTP_201_CREATED)


class ChecklistItemView(TicketsApiView):
    serializer_class = s.ChecklistItemSerializer

    def item(self) -> Any:
        ticket = self.card() if "card_id" in self.kwargs else None
        return selectors.checklist_item_get(project=self.project(), item_id=self.kwargs["item_id"], ticket=ticket)

    @extend_schema(
        parameters=[SLUG, OpenApiParameter("item_id", int, OpenApiParameter.PATH)],
        request=s.ChecklistItemUpdateInput,
        responses=s.ChecklistItemSerializer,
        summary="Edit or tick a checklist item",
    )
    def put(self, request: Request, slug: str, item_id: int, card_id: str | None = None) -> Response:
        data = validated(s.ChecklistItemUpdateInput, request.data)
        item = services.checklist_item_update(item=self.item(), **data, **self.actor())
        return Response(s.ChecklistItemSerializer(item).data)

    @extend_schema(
        parameters=[SLUG, OpenApiParameter("item_id", int, OpenApiParameter.PATH)],
        request=s.ChecklistItemUpdateInput,
        responses=s.ChecklistItemSerializer,
        summary="Edit or tick a checklist item",
    )
    def patch(self, request: Request, slug: str, item_id: int, card_id: str | None = None) -> Response:
        return self.put(request, slug, item_id, card_id)

    @extend_schema(
        parameters=[SLUG, OpenApiParameter("item_id", int, OpenApiParameter.PATH)],
        responses={204: None},
        summary="Remove a checklist item",
    )
    def delete(self, request: Request, slug: str, item_id: int, card_id: str | None = None) -> Response:
        services.checklist_item_delete(item=self.item(), **self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChecklistReorderView(TicketsApiView):
    serializer_class = s.ChecklistItemSerializer

    @extend_schema(
        parameters=[SLUG],
        request=s.ChecklistReorderInput,
        responses=s.ChecklistItemSerializer(many=True),
        summary="Reorder a card's checklist (ids of one card's items, in the new order)",
    )
    def patch(self, request: Request, slug: str, card_id: str | None = None) -> Response:
        data = validated(s.ChecklistReorderInput, request.data)
        if card_id is not None:
            ticket = self.card()
        else:
            first = selectors.checklist_item_get(project=self.project(), item_id=data["order"][0])
            ticket = first.ticket
        items = services.checklist_reorder(ticket=ticket, order=data["order"], **self.actor())
        return Response(s.ChecklistItemSerializer(items, many=True).data)


# --------------------------------------------------------------------------- attachments


class CardAttachmentsView(TicketsApiView):
    serializer_class = s.AttachmentSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(parameters=[SLUG, CARD], responses=s.AttachmentSerializer(many=True), summary="A card's attachments")
    def get(self, request: Request, slug: str, card_id: str) -> Response:
        items = selectors.attachments_for(ticket=self.card())
        return Response(s.AttachmentSerializer(items, many=True, context=self.ctx()).data)

    @extend_schema(
        parameters=[SLUG, CARD],
        request={"multipart/form-data": s.AttachmentInput},
        responses={201: s.AttachmentSerializer, 413: OpenApiResponse(description="File too large")},
        summary="Upload an attachment (multipart field 'file')",
    )
    def post(self, request: Request, slug: str, card_id: str) -> Response:
        ticket = self.card()
        data = validated(s.AttachmentInput, request.data)
        attachment = services.attachment_add(ticket=ticket, upload=data["file"], **self.actor())
        return Response(s.AttachmentSerializer(attachment, context=self.ctx()).data, status=status.HTTP_201_CREATED)


class _AttachmentView(TicketsApiView):
    serializer_class = s.AttachmentSerializer

    def attachment(self) -> Attachment:
        ticket = self.card() if "card_id" in self.kwargs else None
        return selectors.attachment_get(
            project=self.project(), attachment_id=self.kwargs["attachment_id"], ticket=ticket
        )


class AttachmentDetailView(_AttachmentView):
    @extend_schema(
        parameters=[SLUG, OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
        responses=s.AttachmentSerializer,
        summary="An attachment's metadata",
    )
    def get(self, request: Request, slug: str, attachment_id: int, card_id: str | None = None) -> Response:
        return Response(s.AttachmentSerializer(self.attachment(), context=self.ctx()).data)

    @extend_schema(
        parameters=[SLUG, OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
        responses={204: None},
        summary="Delete an attachment (yours, or any as an admin)",
    )
    def delete(self, request: Request, slug: str, attachment_id: int, card_id: str | None = None) -> Response:
        services.attachment_delete(attachment=self.attachment(), **self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)


class AttachmentDownloadView(_AttachmentView):
    """The file itself, after the permission check (never a public media URL)."""

    thumbnail = False

    @extend_schema(
        parameters=[SLUG, OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
        summary="Download an attachment",
    )
    def get(self, request: Request, slug: str, attachment_id: int, card_id: str | None = None) -> Any:
        attachment = self.attachment()
        field = attachment.thumbnail if self.thumbnail else attachment.file
        if not field:
            raise NotFound("No such file.")

        def open_file() -> Any:
            try:
                return field.open("rb")
            except FileNotFoundError:
                raise NotFound("The file is missing from storage.") from None

        # Safe images show inline; anything else downloads (punt.files).
        return stored_file_response(
            request,
            open_file,
            name=field.name or "",
            modified=attachment.created_at,
            filename=attachment.filename,
            content_type="image/webp" if self.thumbnail else attachment.content_type,
            cache_control=ATTACHMENT_CACHE,
        )


class AttachmentThumbnailView(AttachmentDownloadView):
    thumbnail = True

    @extend_schema(
        parameters=[SLUG, OpenApiParameter("attachment_id", int, OpenApiParameter.PATH)],
        responses={(200, "image/webp"): OpenApiTypes.BINARY},
        summary="An image attachment's thumbnail (WebP)",
    )
    def get(self, request: Request, slug: str, attachment_id: int, card_id: str | None = None) -> Any:
        return super().get(request, slug, attachment_id, card_id)


# --------------------------------------------------------------------------- git links & watchers


class CardLinksView(TicketsApiView):
    serializer_class = s.GitLinkSerializer

    @extend_schema(parameters=[SLUG, CARD], responses=s.GitLinkSerializer(many=True), summary="A card's git links")
    def get(self, request: Request, slug: str, card_id: str) -> Response:
        return Response(s.GitLinkSerializer(selectors.git_links_for(ticket=self.card()), many=True).data)

    @extend_schema(
        parameters=[SLUG, CARD],
        request=s.GitLinkInput,
        responses={201: s.GitLinkSerializer, 200: s.GitLinkSerializer},
        summary="Link a commit, branch, pull request, issue or tag (idempotent per URL)",
    )
    def post(self, request: Request, slug: str, card_id: str) -> Response:
        data = validated(s.GitLinkInput, request.data)
        link, created = services.git_link_add(ticket=self.card(), **data, **self.actor())
        return Response(s.GitLinkSerializer(link).data, status=status.HTTP_201_CREATED if created else 200)


class CardRelationsView(TicketsApiView):
    serializer_class = s.RelationSerializer

    @extend_schema(
        parameters=[SLUG, CARD],
        responses=s.RelationSerializer(many=True),
        summary="A card's links to other cards (those whose card the caller can see), as this card reads them",
    )
    def get(self, request: Request, slug: str, card_id: str) -> Response:
        return Response(selectors.relations_for(ticket=self.card(), user=request.user))

    @extend_schema(
        parameters=[SLUG, CARD],
        request=s.RelationInput,
        responses={
            201: s.RelationSerializer,
            400: OpenApiResponse(description="Unknown or unseen key, self-link, existing link, or a blocks cycle"),
            409: OpenApiResponse(description="close: the card is blocked (send force)"),
        },
        summary='Link this card to another by its key ("duplicates" with close: true also closes this card)',
    )
    def post(self, request: Request, slug: str, card_id: str) -> Response:
        data = validated(s.RelationInput, request.data)
        ticket = self.card()
        other = services.relation_target(user=request.user, key=data["ticket"])
        relation = services.relation_add(
            ticket=ticket, other=other, kind=data["kind"], close=data["close"], force=data["force"], **self.actor()
        )
        found = [row for row in selectors.relations_for(ticket=ticket, user=request.user) if row["id"] == relation.pk]
        return Response(found[0], status=status.HTTP_201_CREATED)


class CardRelationDetailView(TicketsApiView):
    serializer_class = s.RelationSerializer

    @extend_schema(
        parameters=[SLUG, CARD, OpenApiParameter("relation_id", OpenApiTypes.INT, OpenApiParameter.PATH)],
        responses={204: None},
        summary="Remove a link (from either of its cards)",
    )
    def delete(self, request: Request, slug: str, card_id: str, relation_id: int) -> Response:
        relation = selectors.relation_get(ticket=self.card(), user=request.user, relation_id=relation_id)
        services.relation_remove(relation=relation, **self.actor())
        return Response(status=status.HTTP_204_NO_CONTENT)


class CardWatchView(TicketsApiView):
    serializer_class = s.WatchSerializer

    def needed_role(self) -> str:
        # Watching changes nothing on the ticket: whoever can read it may watch it.
        return READ

    @extend_schema(parameters=[SLUG, CARD], request=None, responses=s.WatchSerializer, summary="Watch a card")
    def post(self, request: Request, slug: str, card_id: str) -> Response:
        services.ticket_watch(ticket=self.card(), user=request.user)
        return Response({"watching": True})

    @extend_schema(parameters=[SLUG, CARD], responses={204: None}, summary="Stop watching a card")
    def delete(self, request: Request, slug: str, card_id: str) -> Response:
        services.ticket_unwatch(ticket=self.card(), user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --------------------------------------------------------------------------- PQL


class PqlCompleteView(TicketsApiView):
    serializer_class = s.PqlCompletionSerializer

    @extend_schema(
        parameters=[SLUG, s.PqlCompleteInput],
        responses=s.PqlCompletionSerializer,
        summary="PQL autocomplete: what may come next at the cursor",
        description=(
            "Fields, operators, values (this project's people, labels, sprints and columns; types, "
            "priorities, statuses, states; functions such as me()) and keywords that fit at `cursor`, "
            "starting with the word typed there. Replace `replace.start`..`replace.end` of `q` with a "
            f"suggestion's `value`. At most {complete.MAX_VALUES} values."
        ),
    )
    def get(self, request: Request, slug: str) -> Response:
        data = validated(s.PqlCompleteInput, request.query_params)
        text = data["q"]
        cursor = data.get("cursor", len(text))
        if cursor > len(text):
            message = f"The cursor is past the end of the query ({len(text)} characters)."
            raise errors.Invalid(message, details=[{"field": "cursor", "message": message}])
        return Response(complete.complete(text, cursor, project=self.project()).as_json())
