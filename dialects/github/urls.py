"""GitHub-v3-style routes (seed 003), included under /api/v3/."""

from __future__ import annotations

from django.urls import path, register_converter

from dialects.github import views


class IdConverter:
    """An integer that fits the database's bigint: longer digit strings are simply not routes (404)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: object) -> str:
        return str(value)


register_converter(IdConverter, "gh_id")

P = "projects/<str:owner>/<str:project>"
T = f"{P}/tickets/<gh_id:number>"

urlpatterns = [
    path("user/projects", views.UserProjectsView.as_view(), name="gh-user-projects"),
    path("users/<str:username>", views.UserDetailView.as_view(), name="gh-user"),
    path("users/<str:username>/projects", views.UserProjectListView.as_view(), name="gh-user-project-list"),
    path(P, views.ProjectDetailView.as_view(), name="gh-project"),
    path(f"{P}/tickets", views.TicketListView.as_view(), name="gh-ticket-list"),
    path(T, views.TicketDetailView.as_view(), name="gh-ticket"),
    path(f"{T}/events", views.EventListView.as_view(), name="gh-event-list"),
    path(f"{T}/events/<gh_id:event_id>", views.EventDetailView.as_view(), name="gh-event"),
    path(f"{T}/comments", views.CommentListView.as_view(), name="gh-comment-list"),
    path(f"{T}/comments/<gh_id:comment_id>", views.CommentDetailView.as_view(), name="gh-comment"),
    path("comments/<gh_id:comment_id>", views.CommentByIdView.as_view(), name="gh-comment-by-id"),
]
