"""Writes for namespaces, projects, members, columns, labels and sprints.

Every function here is keyword-only, runs in one transaction and publishes its events
on commit (punt.events.publish). Callers have already checked the actor's role with
projects.permissions.check_role; the rules checked here are the ones that depend on the
data (owner invariants, uniqueness, state machines), so every adapter gets them.

One module per subject (as Zulip's zerver/actions/): organizations, projects, members, invitations,
columns, labels, sprints, and common for what they share. Callers import from here
(`from projects import services`). What a column, sprint or project holds (tickets) is
reached through projects.board_contents, which the tickets app fills in.
"""

from __future__ import annotations

from projects.services.columns import (
    DEFAULT_COLUMNS,
    column_create,
    column_delete,
    column_for_category,
    column_update,
    columns_create_defaults,
    columns_reorder,
)
from projects.services.common import COLOR_RE, PALETTE, RANK_GAP, OrgRole, Role, User, color_pick, color_validate
from projects.services.invitation_mail import invitation_send
from projects.services.invitations import (
    invitation_accept,
    invitation_by_token,
    invitation_create,
    invitation_revoke,
    invitation_status,
)
from projects.services.labels import label_create, label_delete, label_update
from projects.services.members import (
    membership_add,
    membership_leave,
    membership_remove,
    membership_update,
    project_transfer_ownership,
)
from projects.services.organizations import (
    ORG_SLUG_RE,
    namespace_taken,
    organization_create,
    organization_delete,
    organization_member_add,
    organization_member_remove,
    organization_member_update,
    organization_slug_taken,
    organization_update,
)
from projects.services.projects import (
    KEY_RE,
    SLUG_RE,
    key_validate,
    namespace_resolve,
    project_archive,
    project_create,
    project_delete,
    project_restore,
    project_update,
    slug_validate,
)
from projects.services.sprints import (
    BURNDOWN_MAX_DAYS,
    sprint_complete,
    sprint_create,
    sprint_delete,
    sprint_start,
    sprint_update,
)

__all__ = [
    "BURNDOWN_MAX_DAYS",
    "COLOR_RE",
    "DEFAULT_COLUMNS",
    "KEY_RE",
    "ORG_SLUG_RE",
    "PALETTE",
    "RANK_GAP",
    "SLUG_RE",
    "OrgRole",
    "Role",
    "User",
    "color_pick",
    "color_validate",
    "column_create",
    "column_delete",
    "column_for_category",
    "column_update",
    "columns_create_defaults",
    "columns_reorder",
    "invitation_accept",
    "invitation_by_token",
    "invitation_create",
    "invitation_revoke",
    "invitation_send",
    "invitation_status",
    "key_validate",
    "label_create",
    "label_delete",
    "label_update",
    "membership_add",
    "membership_leave",
    "membership_remove",
    "membership_update",
    "namespace_resolve",
    "namespace_taken",
    "organization_create",
    "organization_delete",
    "organization_member_add",
    "organization_member_remove",
    "organization_member_update",
    "organization_slug_taken",
    "organization_update",
    "project_archive",
    "project_create",
    "project_delete",
    "project_restore",
    "project_transfer_ownership",
    "project_update",
    "slug_validate",
    "sprint_complete",
    "sprint_create",
    "sprint_delete",
    "sprint_start",
    "sprint_update",
]
