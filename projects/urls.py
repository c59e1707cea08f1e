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
    path("orgs/<slug:org_slug>/invitations", api.OrganizationInvitationListView.as_view(), name="org-invitation-list"),
    path(
        "orgs/<slug:org_slug>/invitations/<int:invitation_id>",
        api.OrganizationInvitationDetailView.as_view(),
        name="org-invitation-detail",
    ),
    path(f"{P}/invitations", api.ProjectInvitationListView.as_view(), name="project-invitation-list"),
    path(
        f"{P}/invitations/<int:invitation_id>",
        api.ProjectInvitationDetailView.as_view(),
        name="project-invitation-detail",
    ),
    path(f"{P}/member-candidates", api.MemberCandidatesView.as_view(), name="project-member-candidates"),
    path("invitations/<slug:token>", api.InvitationInfoView.as_view(), name="invitation-info"),
    path("invitations/<slug:token>/accept", api.InvitationAcceptView.as_view(), name="invitation-accept"),
    *router.urls,
]
