"""Chat pages: the project channel, topics with replies, and direct/group conversations.

They update live: chat.js listens on the project socket (or the user socket for
conversations) and reloads the message list through htmx. Writes call chat.services.
"""

from __future__ import annotations

from typing import Any, TypedDict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from chat import selectors as chat_selectors
from chat import services as chat_services
from projects.permissions import MANAGE, READ, WRITE
from punt import errors
from punt.api.request import request_user
from punt.ranges import as_id
from web.pages import can, project_for, tab_id

HISTORY = 50
TOPICS = 30
# The reactions the page offers; the API takes any short emoji, the page keeps to a few.
REACTIONS = ("👍", "🎉", "❤️", "😄", "👀")


class _TopicToggle(TypedDict, total=False):
    """What topic_manage's pin/lock actions pass to chat_services.topic_update."""

    pinned: bool
    locked: bool


# A live refresh keeps the older messages a reader has loaded, up to this many.
KEEP_LOADED = 500


def _id_param(request: HttpRequest, name: str) -> int | None:
    """A message id from the query string; anything else (text, negative, huge) means none."""
    return as_id(request.GET.get(name, ""))


def _before(request: HttpRequest) -> int | None:
    """`?before=<message id>` pages back through history; anything else means "the latest"."""
    return _id_param(request, "before")


def _history_context(request: HttpRequest, **where: Any) -> dict[str, Any]:
    before = _before(request)
    since = _id_param(request, "since") if before is None else None
    history: list[Any] = []
    more = False
    if since is not None:
        # A live refresh after "load older": everything from the oldest message on screen, so
        # the reader keeps their place; past KEEP_LOADED it falls back to the latest page.
        history, too_many = chat_selectors.message_history(**where, after=since - 1, limit=KEEP_LOADED)
        if too_many:
            since = None
        elif history:
            more = bool(chat_selectors.message_history(**where, before=history[-1].pk, limit=0)[1])
    if since is None:
        history, more = chat_selectors.message_history(**where, before=before, limit=HISTORY)
    return {
        "chat_messages": list(reversed(history)),
        "more": more,
        "oldest_id": history[-1].pk if history else None,
        "paged_back": before is not None,
        "expanded": since is not None,
        "reaction_choices": REACTIONS,
    }


def _is_older_page(request: HttpRequest) -> bool:
    """htmx "Load older messages": answer with just that page, to go on top of the log."""
    return bool(request.headers.get("HX-Request")) and _before(request) is not None and request.method == "GET"


def _message_action(request: HttpRequest, message: Any) -> None:
    """Edit, delete or react to one message, as the form's `action` says; the service checks who may."""
    action = request.POST.get("action", "")
    if action == "edit":
        chat_services.message_edit(
            user=request_user(request), message=message, body=request.POST.get("body", ""), tab_id=tab_id(request)
        )
    elif action == "delete":
        chat_services.message_delete(user=request_user(request), message=message, tab_id=tab_id(request))
    elif action == "react":
        emoji = request.POST.get("emoji", "")
        if emoji not in REACTIONS:
            raise errors.invalid("emoji", "Pick one of the offered reactions.")
        chat_services.reaction_toggle(user=request_user(request), message=message, emoji=emoji, tab_id=tab_id(request))
    else:
        raise errors.invalid("action", "Unknown action.")


def _is_log_refresh(request: HttpRequest) -> bool:
    return _is_live_list(request, "chat-log")


def _is_live_list(request: HttpRequest, target: str) -> bool:
    """An htmx GET that redraws one list of the page (the element whose id is `target`)."""
    return (
        request.method == "GET"
        and bool(request.headers.get("HX-Request"))
        and request.headers.get("HX-Target") == target
    )


def _conversation_list_fragment(request: HttpRequest, current: Any = None) -> HttpResponse:
    """The Messages list alone; inbox.js redraws it when a message or a conversation arrives."""
    context: dict[str, Any] = {"conversations": list(chat_selectors.conversation_list(user=request.user))}
    if current is not None:
        context.update(conversation=current, list_src=reverse("web:conversation", args=[current.pk]))
    return render(request, "web/_conversation_list.html", context)


def _error(request: HttpRequest, exc: errors.PuntError) -> HttpResponse | None:
    if request.headers.get("HX-Request"):
        return JsonResponse({"error": errors.message(exc)}, status=exc.status)
    messages.error(request, errors.message(exc))
    return None


@login_required
@require_http_methods(["GET", "POST"])
def channel(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    project, role = project_for(request, namespace, path, READ if request.method == "GET" else WRITE)
    if request.method == "POST":
        try:
            chat_services.message_post(
                user=request_user(request), project=project, body=request.POST.get("body", ""), tab_id=tab_id(request)
            )
        except errors.PuntError as exc:
            if (response := _error(request, exc)) is not None:
                return response
        if not request.headers.get("HX-Request"):
            return redirect("web:chat", project.namespace, project.path)
    elif _is_live_list(request, "topics"):
        return _topics_fragment(request, project)
    return _channel_page(request, project, role, log_only=request.method == "POST")


def _channel_page(request: HttpRequest, project: Any, role: str, *, log_only: bool) -> HttpResponse:
    context: dict[str, Any] = {
        "project": project,
        "role": role,
        "tab": "chat",
        "can_write": can(role, WRITE),
        "can_manage": can(role, MANAGE),
        **_history_context(request, project=project),
    }
    if _is_older_page(request):
        return render(request, "web/_chat_page.html", context)
    if log_only or _is_log_refresh(request):
        return render(request, "web/_chat_log.html", context)
    context["topics"] = list(chat_selectors.topic_list(project=project)[:TOPICS])
    return render(request, "web/chat.html", context)


def _topics_fragment(request: HttpRequest, project: Any) -> HttpResponse:
    """The topic list alone: chat.js redraws it when a topic is started, changed or answered."""
    topics = list(chat_selectors.topic_list(project=project)[:TOPICS])
    return render(request, "web/_chat_topics.html", {"project": project, "topics": topics})


@login_required
@require_POST
def topic_create(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    project, _ = project_for(request, namespace, path, WRITE)
    try:
        topic = chat_services.topic_create(
            user=request_user(request),
            project=project,
            title=request.POST.get("title", ""),
            body=request.POST.get("body", ""),
            tab_id=tab_id(request),
        )
    except errors.PuntError as exc:
        messages.error(request, errors.message(exc))
        return redirect("web:chat", project.namespace, project.path)
    return redirect("web:topic", project.namespace, project.path, topic.pk)


@login_required
@require_http_methods(["GET", "POST"])
def topic(request: HttpRequest, namespace: str, path: str, topic_id: str) -> HttpResponse:
    project, role = project_for(request, namespace, path, READ if request.method == "GET" else WRITE)
    found = chat_selectors.topic_get(project=project, topic_id=int(topic_id))
    if request.method == "POST":
        try:
            chat_services.topic_reply(
                user=request_user(request), topic=found, body=request.POST.get("body", ""), tab_id=tab_id(request)
            )
        except errors.PuntError as exc:
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
                user=request_user(request), usernames=names, title=request.POST.get("title", ""), tab_id=tab_id(request)
            )
        except errors.PuntError as exc:
            messages.error(request, errors.message(exc))
        else:
            return redirect("web:conversation", conversation.pk)
    elif _is_live_list(request, "conversation-list"):
        return _conversation_list_fragment(request)
    return render(
        request, "web/conversations.html", {"conversations": list(chat_selectors.conversation_list(user=request.user))}
    )


@login_required
@require_http_methods(["GET", "POST"])
def conversation(request: HttpRequest, conversation_id: str) -> HttpResponse:
    found = chat_selectors.conversation_get(user=request.user, conversation_id=int(conversation_id))
    if request.method == "POST":
        try:
            chat_services.conversation_message_post(
                user=request_user(request),
                conversation=found,
                body=request.POST.get("body", ""),
                tab_id=tab_id(request),
            )
        except errors.PuntError as exc:
            if (response := _error(request, exc)) is not None:
                return response
        if not request.headers.get("HX-Request"):
            return redirect("web:conversation", found.pk)
    elif getattr(found, "unread", 0) and _before(request) is None:
        # Looking at the latest messages reads them: the Messages badge and list drop it.
        chat_services.conversation_mark_read(user=request_user(request), conversation=found)
    if _is_live_list(request, "conversation-list"):
        return _conversation_list_fragment(request, found)
    return _conversation_page(request, found, log_only=request.method == "POST")


def _conversation_page(request: HttpRequest, found: Any, *, log_only: bool) -> HttpResponse:
    others = [m.user for m in found.memberships.all() if m.user_id != request.user.pk]
    context = {
        "conversation": found,
        "others": others,
        "can_write": True,
        **_history_context(request, conversation=found),
    }
    if _is_older_page(request):
        return render(request, "web/_chat_page.html", context)
    if log_only or _is_log_refresh(request):
        return render(request, "web/_chat_log.html", context)
    context["conversations"] = list(chat_selectors.conversation_list(user=request.user))
    return render(request, "web/conversation.html", context)


@login_required
@require_POST
def channel_message(request: HttpRequest, namespace: str, path: str, message_id: str) -> HttpResponse:
    """Edit, delete or react to a message in the project channel (members and up)."""
    project, _ = project_for(request, namespace, path, WRITE)
    message = chat_selectors.message_get(message_id=int(message_id), project=project)
    message.project = project  # keeps the namespace the page resolved (for mention links)
    try:
        _message_action(request, message)
    except errors.PuntError as exc:
        if (response := _error(request, exc)) is not None:
            return response
    if request.headers.get("HX-Request"):
        _, role = project_for(request, namespace, path, READ)
        return _channel_page(request, project, role, log_only=True)
    return redirect(reverse("web:chat", args=[project.namespace, project.path]) + f"#message-{message.pk}")


@login_required
@require_POST
def conversation_message(request: HttpRequest, conversation_id: str, message_id: str) -> HttpResponse:
    """Edit, delete or react to a message in one of my conversations."""
    found = chat_selectors.conversation_get(user=request.user, conversation_id=int(conversation_id))
    message = chat_selectors.message_get(message_id=int(message_id), conversation=found)
    try:
        _message_action(request, message)
    except errors.PuntError as exc:
        if (response := _error(request, exc)) is not None:
            return response
    if request.headers.get("HX-Request"):
        return _conversation_page(request, found, log_only=True)
    return redirect(reverse("web:conversation", args=[found.pk]) + f"#message-{message.pk}")


@login_required
@require_POST
def topic_manage(request: HttpRequest, namespace: str, path: str, topic_id: str) -> HttpResponse:
    """Pin/unpin and lock/unlock (admins), delete the topic or one reply (author or admin)."""
    project, _ = project_for(request, namespace, path, WRITE)
    found = chat_selectors.topic_get(project=project, topic_id=int(topic_id))
    found.project = project  # keeps the namespace the page resolved
    action = request.POST.get("action", "")
    here = reverse("web:topic", args=[project.namespace, project.path, found.pk])
    toggles: dict[str, _TopicToggle] = {
        "pin": {"pinned": True},
        "unpin": {"pinned": False},
        "lock": {"locked": True},
        "unlock": {"locked": False},
    }
    try:
        if action in toggles:
            chat_services.topic_update(
                user=request_user(request), topic=found, tab_id=tab_id(request), **toggles[action]
            )
        elif action == "delete":
            chat_services.topic_delete(user=request_user(request), topic=found, tab_id=tab_id(request))
            messages.success(request, f"Topic “{found.title}” deleted.")
            return redirect("web:chat", project.namespace, project.path)
        elif action == "reply_delete":
            reply_id = request.POST.get("reply", "")
            reply = next((r for r in found.replies.all() if str(r.pk) == reply_id), None)
            if reply is None:
                raise Http404("Reply not found.")
            reply.topic = found
            chat_services.topic_reply_delete(user=request_user(request), reply=reply, tab_id=tab_id(request))
        else:
            raise errors.invalid("action", "Unknown action.")
    except errors.PuntError as exc:
        messages.error(request, errors.message(exc))
    return redirect(here)
