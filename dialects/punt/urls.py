"""PUNT-dialect routes (seeds 000, 001), included under /api/ after the SSE and auth routes."""

from __future__ import annotations

from django.urls import path, re_path

from dialects.punt import views

# A project is named by its id or its key, a ticket by its id or key; other ids are digits.
P = r"^projects/(?P<project_id>[A-Za-z0-9]{1,20})"
ID = r"[0-9]{1,18}"

urlpatterns = [
    path("projects", views.ProjectListView.as_view(), name="punt-project-list"),
    re_path(rf"{P}$", views.ProjectDetailView.as_view(), name="punt-project-detail"),
    re_path(rf"{P}/columns$", views.ColumnListView.as_view(), name="punt-column-list"),
    re_path(rf"{P}/members$", views.MemberListView.as_view(), name="punt-member-list"),
    re_path(rf"{P}/members/(?P<member_id>{ID})$", views.MemberDetailView.as_view(), name="punt-member-detail"),
    re_path(rf"{P}/labels$", views.LabelListView.as_view(), name="punt-label-list"),
    re_path(rf"{P}/labels/(?P<label_id>{ID})$", views.LabelDetailView.as_view(), name="punt-label-detail"),
    re_path(rf"{P}/tickets$", views.TicketListView.as_view(), name="punt-ticket-list"),
    re_path(
        rf"{P}/tickets/(?P<ticket_id>{ID}|[A-Za-z][A-Za-z0-9]{{1,9}}-[0-9]{{1,9}})$",
        views.TicketDetailView.as_view(),
        name="punt-ticket-detail",
    ),
    re_path(rf"{P}/sprints$", views.SprintListView.as_view(), name="punt-sprint-list"),
    re_path(rf"{P}/sprints/(?P<sprint_id>{ID})$", views.SprintDetailView.as_view(), name="punt-sprint-detail"),
    re_path(rf"{P}/sprints/(?P<sprint_id>{ID})/start$", views.SprintStartView.as_view(), name="punt-sprint-start"),
    re_path(
        rf"{P}/sprints/(?P<sprint_id>{ID})/complete$", views.SprintCompleteView.as_view(), name="punt-sprint-complete"
    ),
    path("admin/users", views.AdminUserListView.as_view(), name="punt-admin-users"),
    re_path(rf"^admin/users/(?P<user_id>{ID})$", views.AdminUserDetailView.as_view(), name="punt-admin-user"),
    path("admin/settings", views.AdminSettingsView.as_view(), name="punt-admin-settings"),
    path("upload/config", views.UploadConfigView.as_view(), name="punt-upload-config"),
    path("upload", views.UploadView.as_view(), name="punt-upload"),
]
