"""Thin DRF views for chat: resolve what the URL names, validate input, call a service, serialize.

Project resources 404 for outsiders before anything else is looked at; conversations 404 for
anyone they do not belong to.
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from chat import selectors, services
from chat.serializers import (
    HISTORY_MAX_LIMIT,
    ConversationInputSerializer,
    ConversationSerializer,
    HistoryQuerySerializer,
    MessageInputSerializer,
    MessagePageSerializer,
    MessageSerializer,
    ReactionInputSerializer,
    ReadInputSerializer,
    ReadStateSerializer,
    TopicDetailSerializer,
    TopicInputSerializer,
    TopicPageSerializer,
    TopicReplySerializer,
    TopicSerializer,
    TopicUpdateSerializer,
    UnreadSerializer,
    message_page,
)
from projects.permissions import READ, WRITE
from projects.selectors import project_for
from punt.api.ratelimit import check_rate
from punt.api.request import request_user, tab_id, validated
from punt.api.schema import integer_parameter
from punt.ranges import ID_MAX

# Per user, across project chat, conversations, topics and replies: stops a runaway
# script from flooding a channel without getting in the way of a fast typist.
DEFAULT_SEND_RATE = "30/m"

HISTORY_PARAMETERS = [
    OpenApiParameter("before", integer_parameter(1, ID_MAX), description="Only messages older than this message id."),
    OpenApiParameter(
        "after",
        integer_parameter(0, ID_MAX),
        description="Only messages newer than this message id (the oldest of them first).",
    ),
    OpenApiParameter("limit", integer_parameter(1, HISTORY_MAX_LIMIT), description="Page size, 1-100 (default 50)."),
]


def check_send_rate(request: Request) -> None:
    rate = getattr(settings, "PUNT_CHAT_SEND_RATE", DEFAULT_SEND_RATE)
    check_rate(request, group="chat.send", rate=rate, key=f"user:{request.user.pk}")


class ChatView(APIView):
    api_scope = "chat"


# --- project chat ------------------------------------------------------------------------


class ProjectMessagesView(ChatView):
    @extend_schema(
        operation_id="project_chat_messages_list",
        parameters=HISTORY_PARAMETERS,
        responses=MessagePageSerializer,
        summary="Message history, newest first",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug=slug, min_role=READ)
        query = validated(HistoryQuerySerializer, request.query_params)
        messages, has_more = selectors.message_history(project=project, **query)
        return Response(message_page(messages, has_more, {"request": request}))

    @extend_schema(
        operation_id="project_chat_messages_create",
        request=MessageInputSerializer,
        responses={201: MessageSerializer},
        summary="Send a message (Markdown; ticket keys link, @mentions notify)",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug=slug, min_role=WRITE)
        check_send_rate(request)
        data = validated(MessageInputSerializer, request.data)
        message = services.message_post(
            user=request_user(request), project=project, body=data["body"], tab_id=tab_id(request)
        )
        return Response(MessageSerializer(message, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ProjectMessageView(ChatView):
    @extend_schema(
        operation_id="project_chat_message_update",
        request=MessageInputSerializer,
        responses=MessageSerializer,
        summary="Edit one's own message",
    )
    def put(self, request: Request, slug: str, message_id: int) -> Response:
        project = project_for(request.user, slug=slug, min_role=WRITE)
        message = selectors.message_get(project=project, message_id=message_id)
        data = validated(MessageInputSerializer, request.data)
        message = services.message_edit(
            user=request_user(request), message=message, body=data["body"], tab_id=tab_id(request)
        )
        return Response(MessageSerializer(message, context={"request": request}).data)

    @extend_schema(
        operation_id="project_chat_message_delete",
        request=None,
        responses={204: OpenApiResponse(description="Deleted: a tombstone stays in the history.")},
        summary="Delete a message (own, or any as a project admin)",
    )
    def delete(self, request: Request, slug: str, message_id: int) -> Response:
        project = project_for(request.user, slug=slug, min_role=WRITE)
        message = selectors.message_get(project=project, message_id=message_id)
        services.message_delete(user=request_user(request), message=message, tab_id=tab_id(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProjectMessageReactionsView(ChatView):
    @extend_schema(
        operation_id="project_chat_message_react",
        request=ReactionInputSerializer,
        responses=MessageSerializer,
        summary="Toggle the caller's reaction",
    )
    def post(self, request: Request, slug: str, message_id: int) -> Response:
        project = project_for(request.user, slug=slug, min_role=WRITE)
        message = selectors.message_get(project=project, message_id=message_id)
        data = validated(ReactionInputSerializer, request.data)
        message = services.reaction_toggle(
            user=request_user(request), message=message, emoji=data["emoji"], tab_id=tab_id(request)
        )
        return Response(MessageSerializer(message, context={"request": request}).data)


class ProjectChatReadView(ChatView):
    @extend_schema(
        operation_id="project_chat_mark_read",
        request=ReadInputSerializer,
        responses=ReadStateSerializer,
        summary="Mark the project channel read",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug=slug, min_role=READ)
        data = validated(ReadInputSerializer, request.data)
        last_read_id, unread = services.channel_mark_read(
            user=request_user(request), project=project, message_id=data.get("message_id")
        )
        return Response({"last_read_id": last_read_id, "unread": unread})


class UnreadView(ChatView):
    @extend_schema(operation_id="chat_unread", responses=UnreadSerializer, summary="Unread counts")
    def get(self, request: Request) -> Response:
        return Response(selectors.unread_counts(user=request.user))


# --- conversations -----------------------------------------------------------------------


class ConversationsView(ChatView):
    @extend_schema(
        operation_id="conversations_list",
        responses=ConversationSerializer(many=True),
        summary="The caller's conversations, most recent first",
    )
    def get(self, request: Request) -> Response:
        conversations = selectors.conversation_list(user=request.user)
        return Response(ConversationSerializer(conversations, many=True).data)

    @extend_schema(
        operation_id="conversations_create",
        request=ConversationInputSerializer,
        responses={200: ConversationSerializer, 201: ConversationSerializer},
        summary="Open the DM with one person (200 if it exists) or create a group",
    )
    def post(self, request: Request) -> Response:
        data = validated(ConversationInputSerializer, request.data)
        conversation, created = services.conversation_open(
            user=request_user(request), usernames=data["usernames"], title=data["title"], tab_id=tab_id(request)
        )
        return Response(
            ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class ConversationView(ChatView):
    @extend_schema(operation_id="conversations_retrieve", responses=ConversationSerializer)
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        return Response(ConversationSerializer(conversation).data)


class ConversationMessagesView(ChatView):
    @extend_schema(
        operation_id="conversation_messages_list",
        parameters=HISTORY_PARAMETERS,
        responses=MessagePageSerializer,
        summary="Conversation history, newest first",
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        query = validated(HistoryQuerySerializer, request.query_params)
        messages, has_more = selectors.message_history(conversation=conversation, **query)
        return Response(message_page(messages, has_more, {"request": request}))

    @extend_schema(
        operation_id="conversation_messages_create",
        request=MessageInputSerializer,
        responses={201: MessageSerializer},
        summary="Send a message to a conversation",
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        check_send_rate(request)
        data = validated(MessageInputSerializer, request.data)
        message = services.conversation_message_post(
            user=request_user(request), conversation=conversation, body=data["body"], tab_id=tab_id(request)
        )
        return Response(MessageSerializer(message, context={"request": request}).data, status=status.HTTP_201_CREATED)


class ConversationReadView(ChatView):
    @extend_schema(
        operation_id="conversation_mark_read",
        request=ReadInputSerializer,
        responses=ReadStateSerializer,
        summary="Mark a conversation read",
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        conversation = selectors.conversation_get(user=request.user, conversation_id=conversation_id)
        data = validated(ReadInputSerializer, request.data)
        last_read_id, unread = services.conversation_mark_read(
            user=request_user(request), conversation=conversation, message_id=data.get("message_id")
        )
        return Response({"last_read_id": last_read_id, "unread": unread})


# --- topics ------------------------------------------------------------------------------


class TopicPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100


class TopicsView(ChatView):
    @extend_schema(
        operation_id="project_topics_list",
        parameters=[
            OpenApiParameter("page", int, description="1-based page number."),
            OpenApiParameter("page_size", int, description="Topics per page, up to 100 (default 50)."),
        ],
        responses=TopicPageSerializer,
        summary="Topics, pinned first, then by latest activity",
    )
    def get(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug=slug, min_role=READ)
        paginator = TopicPagination()
        page = paginator.paginate_queryset(selectors.topic_list(project=project), request, view=self)
        return paginator.get_paginated_response(TopicSerializer(page, many=True).data)

    @extend_schema(
        operation_id="project_topics_create",
        request=TopicInputSerializer,
        responses={201: TopicSerializer},
        summary="Start a topic",
    )
    def post(self, request: Request, slug: str) -> Response:
        project = project_for(request.user, slug=slug, min_role=WRITE)
        check_send_rate(request)
        data = validated(TopicInputSerializer, request.data)
        topic = services.topic_create(
            user=request_user(request), project=project, title=data["title"], body=data["body"], tab_id=tab_id(request)
        )
        return Response(TopicSerializer(topic).data, status=status.HTTP_201_CREATED)


class TopicView(ChatView):
    @extend_schema(
        operation_id="project_topic_retrieve", responses=TopicDetailSerializer, summary="A topic and its replies"
    )
    def get(self, request: Request, slug: str, topic_id: int) -> Response:
        project = project_for(request.user, slug=slug, min_role=READ)
        topic = selectors.topic_get(project=project, topic_id=topic_id)
        return Response(TopicDetailSerializer(topic).data)

    @extend_schema(
        operation_id="project_topic_update",
        request=TopicUpdateSerializer,
        responses=TopicDetailSerializer,
        summary="Edit (author or admin); pin or lock (admin)",
    )
    def put(self, request: Request, slug: str, topic_id: int) -> Response:
        project = project_for(request.user, slug=slug, min_role=WRITE)
        topic = selectors.topic_get(project=project, topic_id=topic_id, with_replies=False)
        topic.project = project
        data = validated(TopicUpdateSerializer, request.data)
        services.topic_update(user=request_user(request), topic=topic, tab_id=tab_id(request), **data)
        topic = selectors.topic_get(project=project, topic_id=topic_id)
        return Response(TopicDetailSerializer(topic).data)

    @extend_schema(
        operation_id="project_topic_delete",
        request=None,
        responses={204: OpenApiResponse(description="Deleted with its replies.")},
        summary="Delete a topic (author or admin)",
    )
    def delete(self, request: Request, slug: str, topic_id: int) -> Response:
        project = project_for(request.user, slug=slug, min_role=WRITE)
        topic = selectors.topic_get(project=project, topic_id=topic_id, with_replies=False)
        topic.project = project
        services.topic_delete(user=request_user(request), topic=topic, tab_id=tab_id(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TopicRepliesView(ChatView):
    @extend_schema(
        operation_id="project_topic_reply",
        request=MessageInputSerializer,
        responses={201: TopicReplySerializer},
        summary="Reply to a topic (403 when it is locked)",
    )
    def post(self, request: Request, slug: str, topic_id: int) -> Response:
        project = project_for(request.user, slug=slug, min_role=WRITE)
        topic = selectors.topic_get(project=project, topic_id=topic_id, with_replies=False)
        topic.project = project
        check_send_rate(request)
        data = validated(MessageInputSerializer, request.data)
        reply = services.topic_reply(user=request_user(request), topic=topic, body=data["body"], tab_id=tab_id(request))
        return Response(TopicReplySerializer(reply).data, status=status.HTTP_201_CREATED)
