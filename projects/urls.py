"""/api/v1/ routes for organizations, projects, members, columns, labels and sprints (seed 004 paths)."""

from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from projects import api

P = "projects/<slug:slug>"

# Plain collections: one ViewSet each; the router names routes <basename>-list/-detail/-<action>.
router = SimpleRouter(trailing_slash=False, use_regex_path=False)
router.register("orgs/<slug:org_slug>/members", api.OrganizationMemberViewSet, basename="org-member")
router.register(f"{P}/members", api.MemberViewSet, basename="member")
router.register(f"{P}/columns", api.ColumnViewSet, basename="column")
router.register(f"{P}/labels", api.LabelViewSet, basename="label")
router.register(f"{P}/sprints", api.SprintViewSet, basename="sprint")

urlpatterns = [
    path("orgs", api.OrganizationListView.as_view(), name="org-list"),
    path("orgs/<slug:org_slug>", api.OrganizationDetailView.as_view(), name="org-detail"),
    path("projects", api.ProjectListView.as_view(), name="project-list"),
    path(P, api.ProjectDetailView.as_view(), name="project-detail"),
    path(f"{P}/restore", api.ProjectRestoreView.as_view(), name="project-restore"),
    path(f"{P}/audit-log", api.ProjectAuditLogView.as_view(), name="project-audit-log"),
    path(f"{P}/transfer-ownership", api.TransferOwnershipView.as_view(), name="project-transfer-ownership"),
    *router.urls,
]
