"""Chat pages: the project channel, topics with replies, and direct/group conversations.

They update live: chat.js listens on the project socket (or the user socket for
conversations) and reloads the message list through htmx. Writes call chat.services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.exceptions import APIException, NotFound

from chat import selectors as chat_selectors
from chat import services as chat_services
from projects.permissions import MANAGE, READ, WRITE
from web.forms import service_error_text
from web.pages import can, project_for, tab_id

HISTORY = 50


def _is_log_refresh(request: HttpRequest) -> bool:
    return bool(request.headers.get("HX-Request")) and request.headers.get("HX-Target") == "chat-log"


def _error(request: HttpRequest, exc: Exception) -> HttpResponse | None:
    if request.headers.get("HX-Request"):
        return JsonResponse({"error": service_error_text(exc)}, status=getattr(exc, "status_code", 400))
    messages.error(request, service_error_text(exc))
    return None


@login_required
@require_http_methods(["GET", "POST"])
def channel(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    project, role = project_for(request, namespace, path, READ if request.method == "GET" else WRITE)
    if request.method == "POST":
        try:
            chat_services.message_post(
                user=request.user, project=project, body=request.POST.get("body", ""), tab_id=tab_id(request)
            )
        except APIException as exc:
            if (response := _error(request, exc)) is not None:
                return response
        if not request.headers.get("HX-Request"):
            return redirect("web:chat", project.namespace, project.path)
    history, more = chat_selectors.message_history(project=project, limit=HISTORY)
    context: dict[str, Any] = {
        "project": project,
        "role": role,
        "tab": "chat",
        "can_write": can(role, WRITE),
        "can_manage": can(role, MANAGE),
        "chat_messages": list(reversed(history)),
        "more": more,
        "topics": list(chat_selectors.topic_list(project=project)[:30]),
    }
    if _is_log_refresh(request) or request.method == "POST":
        return render(request, "web/_chat_log.html", context)
    return render(request, "web/chat.html", context)


@login_required
@require_POST
def topic_create(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    project, _ = project_for(request, namespace, path, WRITE)
    try:
        topic = chat_services.topic_create(
            user=request.user,
            project=project,
            title=request.POST.get("title", ""),
            body=request.POST.get("body", ""),
            tab_id=tab_id(request),
        )
    except APIException as exc:
        messages.error(request, service_error_text(exc))
        return redirect("web:chat", project.namespace, project.path)
    return redirect("web:topic", project.namespace, project.path, topic.pk)


@login_required
@require_http_methods(["GET", "POST"])
def topic(request: HttpRequest, namespace: str, path: str, topic_id: str) -> HttpResponse:
    project, role = project_for(request, namespace, path, READ if request.method == "GET" else WRITE)
    try:
        found = chat_selectors.topic_get(project=project, topic_id=int(topic_id))
    except NotFound as exc:
        raise Http404("Topic not found.") from exc
    if request.method == "POST":
        try:
            chat_services.topic_reply(
                user=request.user, topic=found, body=request.POST.get("body", ""), tab_id=tab_id(request)
            )
        except APIException as exc:
            if (response := _error(request, exc)) is not None:
                return response
        if not request.headers.get("HX-Request"):
            return redirect("web:topic", project.namespace, project.path, found.pk)
        found = chat_selectors.topic_get(project=project, topic_id=found.pk)
    context = {
        "project": project,
        "role": role,
        "tab": "chat",
        "can_write": can(role, WRITE) and not found.locked,
        "can_manage": can(role, MANAGE),
        "topic": found,
    }
    if _is_log_refresh(request) or request.method == "POST":
        return render(request, "web/_topic_replies.html", context)
    return render(request, "web/topic.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def conversations(request: HttpRequest) -> HttpResponse:
    """My direct and group conversations, and a form to open one."""
    if request.method == "POST":
        names = [n for n in request.POST.get("usernames", "").replace(",", " ").split() if n]
        try:
            conversation, _ = chat_services.conversation_open(
                user=request.user, usernames=names, title=request.POST.get("title", ""), tab_id=tab_id(request)
            )
        except APIException as exc:
            messages.error(request, service_error_text(exc))
        else:
            return redirect("web:conversation", conversation.pk)
    return render(
        request, "web/conversations.html", {"conversations": list(chat_selectors.conversation_list(user=request.user))}
    )


@login_required
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, conversation_id: str) -> HttpResponse:
    try:
        found = chat_selectors.conversation_get(user=request.user, conversation_id=int(conversation_id))
    except NotFound as exc:
        raise Http404("Conversation not found.") from exc
    if request.method == "POST":
        try:
            chat_services.conversation_message_post(
                user=request.user, conversation=found, body=request.POST.get("body", ""), tab_id=tab_id(request)
            )
        except APIException as exc:
            if (response := _error(request, exc)) is not None:
                return response
        if not request.headers.get("HX-Request"):
            return redirect("web:conversation", found.pk)
    history, more = chat_selectors.message_history(conversation=found, limit=HISTORY)
    others = [m.user for m in found.memberships.all() if m.user_id != request.user.pk]
    context = {
        "conversation": found,
        "others": others,
        "chat_messages": list(reversed(history)),
        "more": more,
        "can_write": True,
        "conversations": list(chat_selectors.conversation_list(user=request.user)),
    }
    if _is_log_refresh(request) or request.method == "POST":
        return render(request, "web/_chat_log.html", context)
    return render(request, "web/conversation.html", context)
