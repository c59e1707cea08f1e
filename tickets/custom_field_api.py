"""Thin /api/v1/ views for a project's custom fields (issue 21) under /projects/<slug>/custom-fields.

Reads need READ (viewers list the fields: forms and cards need them); every write needs
MANAGE (project admins, owners, site admins). Members set values on tickets through the
card endpoints (`custom_fields` in the card payload), not here. API key scope "tickets".

- GET  custom-fields                      live fields in order (`?deleted=true`: the bin)
- POST custom-fields                      create; options go inside the payload
- GET/PUT/PATCH/DELETE custom-fields/<id>  one field (GET adds tickets_with_value); PUT/PATCH
  change only what is sent, `options` is the whole list (see CustomFieldUpdateInput)
- DELETE without ?confirm=true is a 409 naming how many tickets hold a value when any do
- POST custom-fields/<id>/restore          undo a delete (within 30 days)
- POST custom-fields/reorder               {"order": [ids]}
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from projects.permissions import MANAGE, READ
from punt.api.request import validated
from punt.errors import invalid
from tickets import custom_field_selectors as selectors
from tickets import serializers as s
from tickets.api import SLUG, TicketsApiView
from tickets.models import CustomField
from tickets.services import custom_fields as services

FIELD = OpenApiParameter("field_id", int, OpenApiParameter.PATH, description="Custom field id.")
DELETED = OpenApiParameter(
    "deleted", OpenApiTypes.BOOL, OpenApiParameter.QUERY, description="true: the deleted fields (restorable 30 days)."
)
CONFIRM = OpenApiParameter(
    "confirm",
    OpenApiTypes.BOOL,
    OpenApiParameter.QUERY,
    description="true: delete even though tickets hold values (without it such a delete is a 409 with the count).",
)


FLAGS = {"": False, "0": False, "false": False, "1": True, "true": True}


def _flag(request: Request, name: str) -> bool:
    """A boolean query parameter (?confirm=true): anything but true/false/1/0 is a 400."""
    value = FLAGS.get(request.query_params.get(name, "").lower())
    if value is None:
        raise invalid(name, "Use true or false.")
    return value


class CustomFieldsApiView(TicketsApiView):
    serializer_class = s.CustomFieldSerializer

    def needed_role(self) -> str:
        return READ if self.request.method in ("GET", "HEAD", "OPTIONS") else MANAGE

    def field(self, *, deleted: bool | None = False) -> CustomField:
        return selectors.custom_field_get(project=self.project(), field_id=self.kwargs["field_id"], deleted=deleted)


class CustomFieldListView(CustomFieldsApiView):
    @extend_schema(
        parameters=[SLUG, DELETED],
        responses=s.CustomFieldSerializer(many=True),
        summary="List the project's custom fields, in order",
    )
    def get(self, request: Request, slug: str) -> Response:
        fields = selectors.custom_fields_for_project(project=self.project(), deleted=_flag(request, "deleted"))
        return Response([selectors.custom_field_payload(field) for field in fields])

    @extend_schema(
        parameters=[SLUG],
        request=s.CustomFieldCreateInput,
        responses={201: s.CustomFieldSerializer},
        summary="Add a custom field (project admins)",
    )
    def post(self, request: Request, slug: str) -> Response:
        data = validated(s.CustomFieldCreateInput, request.data)
        field = services.custom_field_create(project=self.project(), by=request.user, **data)
        return Response(selectors.custom_field_payload(field), status=status.HTTP_201_CREATED)


class CustomFieldReorderView(CustomFieldsApiView):
    @extend_schema(
        parameters=[SLUG],
        request=s.CustomFieldReorderInput,
        responses=s.CustomFieldSerializer(many=True),
        summary="Reorder the custom fields (project admins)",
    )
    def post(self, request: Request, slug: str) -> Response:
        data = validated(s.CustomFieldReorderInput, request.data)
        fields = services.custom_fields_reorder(project=self.project(), by=request.user, order=data["order"])
        return Response([selectors.custom_field_payload(field) for field in fields])


class CustomFieldDetailView(CustomFieldsApiView):
    @extend_schema(
        parameters=[SLUG, FIELD],
        responses=s.CustomFieldDetailSerializer,
        summary="One custom field, with how many tickets hold a value",
    )
    def get(self, request: Request, slug: str, field_id: int) -> Response:
        return Response(selectors.custom_field_payload(self.field(deleted=None), with_count=True))

    @extend_schema(
        parameters=[SLUG, FIELD],
        request=s.CustomFieldUpdateInput,
        responses=s.CustomFieldDetailSerializer,
        summary="Update a custom field (only what is sent changes; project admins)",
    )
    def put(self, request: Request, slug: str, field_id: int) -> Response:
        data = validated(s.CustomFieldUpdateInput, request.data)
        field = services.custom_field_update(field=self.field(), by=request.user, **data)
        return Response(selectors.custom_field_payload(field, with_count=True))

    @extend_schema(
        parameters=[SLUG, FIELD],
        request=s.CustomFieldUpdateInput,
        responses=s.CustomFieldDetailSerializer,
        summary="Update a custom field (only what is sent changes; project admins)",
    )
    def patch(self, request: Request, slug: str, field_id: int) -> Response:
        return self.put(request, slug, field_id)

    @extend_schema(
        parameters=[SLUG, FIELD, CONFIRM],
        responses={
            204: None,
            409: OpenApiResponse(description="Tickets hold values of the field: the message says how many."),
        },
        summary="Delete a custom field (restorable for 30 days; project admins)",
    )
    def delete(self, request: Request, slug: str, field_id: int) -> Response:
        services.custom_field_delete(field=self.field(), by=request.user, confirm=_flag(request, "confirm"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CustomFieldRestoreView(CustomFieldsApiView):
    @extend_schema(
        parameters=[SLUG, FIELD],
        request=None,
        responses=s.CustomFieldDetailSerializer,
        summary="Restore a deleted custom field with its values (project admins)",
    )
    def post(self, request: Request, slug: str, field_id: int) -> Response:
        field = services.custom_field_restore(field=self.field(deleted=True), by=request.user)
        return Response(selectors.custom_field_payload(field, with_count=True))
