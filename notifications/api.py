"""Thin DRF views for the caller's own notifications (anyone else's are 404)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from notifications import selectors, services
from notifications.serializers import (
    PAGE_MAX_LIMIT,
    NotificationPageSerializer,
    NotificationPreferencesInputSerializer,
    NotificationPreferencesSerializer,
    NotificationQuerySerializer,
    NotificationSerializer,
    ReadAllSerializer,
)
from punt.api.request import request_user, validated
from punt.api.schema import integer_parameter
from punt.ranges import ID_MAX


class NotificationView(APIView):
    # Notifications came with chat: API keys with the chat scopes keep reaching them.
    api_scope = "chat"


class NotificationsView(NotificationView):
    @extend_schema(
        operation_id="notifications_list",
        parameters=[
            OpenApiParameter("unread", bool, description="Only unread notifications."),
            OpenApiParameter(
                "before", integer_parameter(1, ID_MAX), description="Only notifications older than this id."
            ),
            OpenApiParameter(
                "limit", integer_parameter(1, PAGE_MAX_LIMIT), description="Page size, 1-100 (default 50)."
            ),
        ],
        responses=NotificationPageSerializer,
        summary="The caller's notifications, newest first",
    )
    def get(self, request: Request) -> Response:
        query = validated(NotificationQuerySerializer, request.query_params)
        notifications, has_more = selectors.notification_list(
            user=request.user, unread_only=query["unread"], before=query.get("before"), limit=query["limit"]
        )
        return Response(
            {
                "results": NotificationSerializer(notifications, many=True).data,
                "has_more": has_more,
                "oldest_id": notifications[-1].pk if notifications else None,
                "unread_count": selectors.notification_unread_count(user=request.user),
            }
        )


class NotificationReadView(NotificationView):
    @extend_schema(operation_id="notification_mark_read", request=None, responses=NotificationSerializer)
    def post(self, request: Request, notification_id: int) -> Response:
        notification = selectors.notification_get(user=request.user, notification_id=notification_id)
        notification = services.notification_mark_read(user=request_user(request), notification=notification)
        return Response(NotificationSerializer(notification).data)


class NotificationsReadAllView(NotificationView):
    @extend_schema(operation_id="notifications_mark_all_read", request=None, responses=ReadAllSerializer)
    def post(self, request: Request) -> Response:
        return Response({"marked": services.notification_mark_all_read(user=request_user(request))})


@extend_schema(tags=["users"])
class NotificationPreferencesView(APIView):
    """No api_scope: e-mail settings are the account's own, so only an unrestricted key may change them."""

    @extend_schema(
        operation_id="notification_preferences_get",
        responses=NotificationPreferencesSerializer,
        summary="How you get each kind of notification by e-mail",
    )
    def get(self, request: Request) -> Response:
        return Response(services.notification_preferences(user=request_user(request)))

    @extend_schema(
        operation_id="notification_preferences_update",
        request=NotificationPreferencesInputSerializer,
        responses=NotificationPreferencesSerializer,
        summary="Change how you get some kinds of notification by e-mail (the others stay)",
    )
    def patch(self, request: Request) -> Response:
        changes = validated(NotificationPreferencesInputSerializer, request.data)
        return Response(services.notification_preferences_update(user=request_user(request), changes=changes))
