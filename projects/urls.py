"""/api/v1/ routes for organizations, projects, members, columns, labels and sprints (seed 004 paths)."""

from __future__ import annotations

from django.urls import path

from projects import api

P = "projects/<slug:slug>"

urlpatterns = [
    path("orgs", api.OrganizationListView.as_view(), name="org-list"),
    path("orgs/<slug:org_slug>", api.OrganizationDetailView.as_view(), name="org-detail"),
    path("orgs/<slug:org_slug>/members", api.OrganizationMemberListView.as_view(), name="org-member-list"),
    path(
        "orgs/<slug:org_slug>/members/<str:username>",
        api.OrganizationMemberDetailView.as_view(),
        name="org-member-detail",
    ),
    path("projects", api.ProjectListView.as_view(), name="project-list"),
    path(P, api.ProjectDetailView.as_view(), name="project-detail"),
    path(f"{P}/restore", api.ProjectRestoreView.as_view(), name="project-restore"),
    path(f"{P}/transfer-ownership", api.TransferOwnershipView.as_view(), name="project-transfer-ownership"),
    path(f"{P}/members", api.MemberListView.as_view(), name="member-list"),
    # Before members/<username>: "leave" is an action, not a user name.
    path(f"{P}/members/leave", api.MemberLeaveView.as_view(), name="member-leave"),
    path(f"{P}/members/<str:username>", api.MemberDetailView.as_view(), name="member-detail"),
    path(f"{P}/columns", api.ColumnListView.as_view(), name="column-list"),
    path(f"{P}/columns/reorder", api.ColumnReorderView.as_view(), name="column-reorder"),
    path(f"{P}/columns/<int:column_id>", api.ColumnDetailView.as_view(), name="column-detail"),
    path(f"{P}/labels", api.LabelListView.as_view(), name="label-list"),
    path(f"{P}/labels/<int:label_id>", api.LabelDetailView.as_view(), name="label-detail"),
    path(f"{P}/sprints", api.SprintListView.as_view(), name="sprint-list"),
    path(f"{P}/sprints/<int:sprint_id>", api.SprintDetailView.as_view(), name="sprint-detail"),
    path(f"{P}/sprints/<int:sprint_id>/start", api.SprintStartView.as_view(), name="sprint-start"),
    path(f"{P}/sprints/<int:sprint_id>/complete", api.SprintCompleteView.as_view(), name="sprint-complete"),
    path(f"{P}/sprints/<int:sprint_id>/tickets", api.SprintTicketsView.as_view(), name="sprint-tickets"),
    path(f"{P}/sprints/<int:sprint_id>/burndown", api.SprintBurndownView.as_view(), name="sprint-burndown"),
]
