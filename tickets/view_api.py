"""Thin /api/v1/ views for saved views (named PQL queries) under /projects/<slug>/views.

Reads need READ (a viewer sees the shared views); writes need WRITE, and the service checks
the rest (sharing and shared views need MANAGE; a personal view is its owner's alone).
API key scope "tickets".

`?counts=1` on the list adds each view's number of open cards: one aggregate query for all
the views, plus the lookups each view's query needs to compile (a label or a person named in
it: one query per name), so N views cost N x (names per query) + a constant.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.serializers import UserBriefSerializer
from punt.api.request import validated
from punt.api.schema import documented
from tickets import cards
from tickets import view_selectors as selectors
from tickets.api import SLUG, TicketsApiView
from tickets.filters import CardPagination, apply_ordering
from tickets.models import SavedView
from tickets.serializers import CardSerializer
from tickets.services import views as services

VIEW = OpenApiParameter("view_id", int, OpenApiParameter.PATH, description="Saved view id.")
COUNTS = OpenApiParameter(
    "counts",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    description="1: add each view's number of open cards (`count`; null when its query no longer compiles).",
)


class SavedViewSerializer(serializers.Serializer):
    """A named PQL query; the sort is its ORDER BY. `owner` is null for a view shared with the project."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    query = serializers.CharField()
    display = documented(serializers.CharField(), enum=SavedView.Display.values)
    shared = serializers.BooleanField()
    owner = UserBriefSerializer(allow_null=True)
    position = serializers.IntegerField()
    created_by = UserBriefSerializer(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    count = serializers.IntegerField(
        allow_null=True, help_text="Open cards the query matches (with ?counts=1; null otherwise)."
    )


class SavedViewListQuery(serializers.Serializer):
    counts = serializers.BooleanField(required=False, default=False)


class SavedViewInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    query = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")
    display = documented(
        serializers.ChoiceField(choices=SavedView.Display.choices, required=False, default=SavedView.Display.BOARD),
        enum=SavedView.Display.values,
    )
    shared = serializers.BooleanField(required=False, default=False)
    position = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)


class SavedViewUpdateInput(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    query = serializers.CharField(max_length=2000, allow_blank=True, required=False)
    display = documented(
        serializers.ChoiceField(choices=SavedView.Display.choices, required=False), enum=SavedView.Display.values
    )
    shared = serializers.BooleanField(required=False)
    position = serializers.IntegerField(min_value=0, max_value=1_000_000, required=False)


def _person(user: Any) -> dict[str, Any] | None:
    return None if user is None else dict(UserBriefSerializer(user).data)


def _payload(view: SavedView, count: int | None = None) -> dict[str, Any]:
    return {
        "id": view.pk,
        "name": view.name,
        "query": view.query,
        "display": view.display,
        "shared": view.shared,
        "owner": _person(view.owner),
        "position": view.position,
        "created_by": _person(view.created_by),
        "created_at": serializers.DateTimeField().to_representation(view.created_at),
        "updated_at": serializers.DateTimeField().to_representation(view.updated_at),
        "count": count,
    }


class SavedViewListView(TicketsApiView):
    serializer_class = SavedViewSerializer

    @extend_schema(
        parameters=[SLUG, COUNTS],
        responses=SavedViewSerializer(many=True),
        summary="The saved views the caller sees: the project's shared views, then their own",
    )
    def get(self, request: Request, slug: str) -> Response:
        with_counts = validated(SavedViewListQuery, request.query_params)["counts"]
        views = list(selectors.views_for_user(project=self.project(), user=request.user))
        counts: dict[int, int | None] = {}
        if with_counts:
            counts = selectors.view_counts(views, project=self.project(), user=request.user)
        return Response([_payload(view, counts.get(view.pk)) for view in views])

    @extend_schema(
        parameters=[SLUG],
        request=SavedViewInput,
        responses={201: SavedViewSerializer},
        summary="Save a view (personal; `shared: true` needs the admin role)",
    )
    def post(self, request: Request, slug: str) -> Response:
        data = validated(SavedViewInput, request.data)
        view = services.saved_view_create(project=self.project(), by=request.user, **data)
        return Response(_payload(view), status=status.HTTP_201_CREATED)


class SavedViewDetailView(TicketsApiView):
    serializer_class = SavedViewSerializer

    def view(self) -> SavedView:
        return selectors.view_get(project=self.project(), user=self.request.user, view_id=self.kwargs["view_id"])

    @extend_schema(parameters=[SLUG, VIEW], responses=SavedViewSerializer, summary="One saved view")
    def get(self, request: Request, slug: str, view_id: int) -> Response:
        return Response(_payload(self.view()))

    @extend_schema(
        parameters=[SLUG, VIEW],
        request=SavedViewUpdateInput,
        responses=SavedViewSerializer,
        summary="Change a saved view (only the fields sent change)",
    )
    def patch(self, request: Request, slug: str, view_id: int) -> Response:
        data = validated(SavedViewUpdateInput, request.data)
        view = services.saved_view_update(view=self.view(), by=request.user, **data)
        return Response(_payload(view))

    @extend_schema(parameters=[SLUG, VIEW], responses={204: None}, summary="Delete a saved view")
    def delete(self, request: Request, slug: str, view_id: int) -> Response:
        services.saved_view_delete(view=self.view(), by=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class SavedViewCardsView(TicketsApiView):
    serializer_class = CardSerializer
    pagination_class = CardPagination

    @extend_schema(
        parameters=[SLUG, VIEW],
        responses=CardSerializer(many=True),
        summary="The cards a saved view shows, in its ORDER BY (else newest first), paged by limit/offset",
    )
    def get(self, request: Request, slug: str, view_id: int) -> Response:
        view = selectors.view_get(project=self.project(), user=request.user, view_id=view_id)
        queryset = selectors.view_tickets(view, user=request.user)
        if not queryset.query.order_by:
            queryset = apply_ordering(queryset, None)
        return self.card_page(queryset, cards.FULL)
