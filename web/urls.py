"""Page routes (issue 8). Addresses follow seed 003's html_url: /projects/<namespace>/<project>/…

Mounted last in punt/urls.py, after /api/, so no page route ever shadows the API.
"""

from __future__ import annotations

from django.urls import path, re_path

from web.views import (
    auth,
    backlog,
    board,
    chat,
    editing,
    home,
    imports,
    inbox,
    insights,
    invitations,
    project_settings,
    ticket,
    user_settings,
)
from web.views.saved_views import view_create

app_name = "web"

# <namespace>/<project path>: user names and org slugs, project paths (slugs).
P = r"^projects/(?P<namespace>[A-Za-z0-9][A-Za-z0-9._-]*)/(?P<path>[A-Za-z0-9_-]+)"
T = P + r"/tickets/(?P<number>[0-9]+)"

urlpatterns = [
    path("", home.home, name="home"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    path("register/", auth.register, name="register"),
    path("forgot-password", auth.forgot_password, name="forgot_password"),
    path("reset-password", auth.reset_password, name="reset_password"),
    path("projects/", home.projects, name="projects"),
    path("invite/<slug:token>", invitations.invite, name="invite"),
    path("settings/", user_settings.user_settings, name="user_settings"),
    path("messages/", chat.conversations, name="conversations"),
    path("notifications/", inbox.notifications, name="notifications"),
    path("notifications/read-all", home.notifications_read_all, name="notifications_read_all"),
    path("notifications/<int:notification_id>", home.notification_open, name="notification"),
    path("notifications/<int:notification_id>/read", inbox.notification_read, name="notification_read"),
    path("inbox/counts", inbox.inbox_counts, name="inbox_counts"),
    path("messages/<int:conversation_id>", chat.conversation, name="conversation"),
    path(
        "messages/<int:conversation_id>/messages/<int:message_id>",
        chat.conversation_message,
        name="conversation_message",
    ),
    # The board answers with and without the trailing slash (seed 003's html_url has none).
    re_path(P + r"/$", board.board, name="board"),
    re_path(P + r"$", board.board),
    re_path(P + r"/tickets/new$", ticket.ticket_new, name="ticket_new"),
    re_path(P + r"/quick-add$", board.quick_add, name="quick_add"),
    re_path(P + r"/board/more$", board.board_more, name="board_more"),
    re_path(P + r"/cards/(?P<number>[0-9]+)$", board.board_card, name="board_card"),
    re_path(P + r"/markdown-preview$", editing.markdown_preview, name="markdown_preview"),
    re_path(P + r"/autocomplete$", editing.autocomplete, name="autocomplete"),
    re_path(P + r"/backlog$", backlog.backlog, name="backlog"),
    re_path(P + r"/views$", view_create, name="view_create"),
    re_path(P + r"/sprints$", backlog.sprint_create, name="sprint_create"),
    re_path(P + r"/sprints/(?P<sprint_id>[0-9]+)/start$", backlog.sprint_start, name="sprint_start"),
    re_path(P + r"/sprints/(?P<sprint_id>[0-9]+)/complete$", backlog.sprint_complete, name="sprint_complete"),
    re_path(P + r"/insights$", insights.insights, name="insights"),
    re_path(P + r"/chat$", chat.channel, name="chat"),
    re_path(P + r"/chat/topics$", chat.topic_create, name="topic_create"),
    re_path(P + r"/chat/messages/(?P<message_id>[0-9]+)$", chat.channel_message, name="chat_message"),
    re_path(P + r"/topics/(?P<topic_id>[0-9]+)$", chat.topic, name="topic"),
    re_path(P + r"/topics/(?P<topic_id>[0-9]+)/manage$", chat.topic_manage, name="topic_manage"),
    re_path(P + r"/settings$", project_settings.project_settings, name="project_settings"),
    re_path(P + r"/settings/people$", invitations.member_candidates, name="member_candidates"),
    re_path(P + r"/settings/hooks/(?P<hook_id>[0-9]{1,18})$", project_settings.hook_deliveries, name="hook_deliveries"),
    re_path(P + r"/settings/audit-log$", project_settings.project_audit_log, name="project_audit_log"),
    re_path(P + r"/settings/import$", imports.import_page, name="project_import"),
    re_path(P + r"/settings/import/runs/(?P<run_id>[0-9]{1,18})$", imports.import_run_status, name="import_run"),
    re_path(P + r"/archive$", project_settings.project_archive, name="project_archive"),
    re_path(P + r"/restore$", project_settings.project_restore, name="project_restore"),
    re_path(T + r"$", ticket.ticket_page, name="ticket"),
    re_path(T + r"/move$", board.ticket_move, name="ticket_move"),
    re_path(T + r"/plan$", backlog.ticket_plan, name="ticket_plan"),
    re_path(T + r"/edit$", ticket.ticket_edit, name="ticket_edit"),
    re_path(T + r"/custom-fields$", ticket.ticket_custom_field, name="ticket_custom_field"),
    re_path(T + r"/comment$", ticket.comment_add, name="ticket_comment"),
    re_path(T + r"/comments/(?P<comment_id>[0-9]+)$", ticket.comment_change, name="ticket_comment_change"),
    re_path(T + r"/checklist$", ticket.checklist_add, name="ticket_checklist"),
    re_path(T + r"/checklist/(?P<item_id>[0-9]+)$", ticket.checklist_toggle, name="ticket_checklist_item"),
    re_path(T + r"/attachments$", ticket.attachment_add, name="ticket_attachment"),
    re_path(T + r"/attachments/(?P<attachment_id>[0-9]+)$", ticket.attachment_file, name="ticket_attachment_file"),
    re_path(T + r"/watch$", ticket.watch_toggle, name="ticket_watch"),
    re_path(T + r"/relations$", ticket.relation_add, name="ticket_relation_add"),
    re_path(T + r"/relations/(?P<relation_id>[0-9]+)/delete$", ticket.relation_remove, name="ticket_relation_remove"),
    re_path(T + r"/delete$", ticket.ticket_delete, name="ticket_delete"),
    re_path(T + r"/restore$", editing.ticket_restore, name="ticket_restore"),
    re_path(T + r"/close$", editing.ticket_close, name="ticket_close"),
]
