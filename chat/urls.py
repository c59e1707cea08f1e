from __future__ import annotations

from django.urls import path

from chat import api

urlpatterns = [
    path("projects/<str:slug>/chat/messages", api.ProjectMessagesView.as_view(), name="chat-messages"),
    path("projects/<str:slug>/chat/messages/<int:message_id>", api.ProjectMessageView.as_view(), name="chat-message"),
    path(
        "projects/<str:slug>/chat/messages/<int:message_id>/reactions",
        api.ProjectMessageReactionsView.as_view(),
        name="chat-message-reactions",
    ),
    path("projects/<str:slug>/chat/read", api.ProjectChatReadView.as_view(), name="chat-read"),
    path("chat/unread", api.UnreadView.as_view(), name="chat-unread"),
    path("conversations", api.ConversationsView.as_view(), name="chat-conversations"),
    path("conversations/<int:conversation_id>", api.ConversationView.as_view(), name="chat-conversation"),
    path(
        "conversations/<int:conversation_id>/messages",
        api.ConversationMessagesView.as_view(),
        name="chat-conversation-messages",
    ),
    path("conversations/<int:conversation_id>/read", api.ConversationReadView.as_view(), name="chat-conversation-read"),
    path("projects/<str:slug>/topics", api.TopicsView.as_view(), name="chat-topics"),
    path("projects/<str:slug>/topics/<int:topic_id>", api.TopicView.as_view(), name="chat-topic"),
    path(
        "projects/<str:slug>/topics/<int:topic_id>/replies", api.TopicRepliesView.as_view(), name="chat-topic-replies"
    ),
]
