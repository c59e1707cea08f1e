"""Input validation (…InputSerializer) kept apart from output (…Serializer), as in taiga-back.

Output serializers read only what the selectors loaded: no query per row.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.serializers import UserBriefSerializer
from projects.models import (
    PROJECT_SLUG_MAX_LENGTH,
    Column,
    Invitation,
    Label,
    Membership,
    Organization,
    OrganizationMembership,
    Project,
    Sprint,
)
from projects.permissions import role_of
from projects.selectors import prime_role
from projects.services import SLUG_RE
from projects.services.invitations import invitation_status
from punt.api.fields import id_field, id_list, model_integer
from punt.api.schema import HEX_COLOR_PATTERN, documented

# For the schema; the service also lowercases what it is given before checking it.
PROJECT_SLUG_PATTERN = SLUG_RE.pattern

# --------------------------------------------------------------------------- organizations


class OrganizationSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField(help_text="The caller's role in the organization.")
    member_count = serializers.IntegerField(read_only=True)
    project_count = serializers.IntegerField(read_only=True)
    default_project_id = serializers.IntegerField(
        source="effective_default_project_id",
        read_only=True,
        allow_null=True,
        help_text="Where AgentsMesh creates without repository_id go: the chosen project while it is "
        "not archived, else the first live one; null while the organization has no live project.",
    )

    class Meta:
        model = Organization
        fields = [
            "id",
            "slug",
            "name",
            "description",
            "role",
            "member_count",
            "project_count",
            "default_project_id",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=OrganizationMembership.Role.choices, allow_null=True))
    def get_role(self, org: Organization) -> str | None:
        return getattr(org, "caller_role", None)


class OrganizationCreateInputSerializer(serializers.Serializer):
    slug = serializers.CharField(max_length=150)
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(required=False, allow_blank=True, default="")


class OrganizationUpdateInputSerializer(serializers.Serializer):
    slug = serializers.CharField(max_length=150, required=False, help_text="Immutable: must match if sent.")
    name = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True)
    default_project_id = id_field(
        required=False,
        allow_null=True,
        help_text="A live project of this organization; null: back to its first project.",
    )


class OrganizationMemberSerializer(serializers.ModelSerializer):
    user = UserBriefSerializer(read_only=True)

    class Meta:
        model = OrganizationMembership
        fields = ["id", "user", "role", "created_at"]
        read_only_fields = fields


class OrganizationMemberInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(
        choices=OrganizationMembership.Role.choices, default=OrganizationMembership.Role.MEMBER
    )


class OrganizationRoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=OrganizationMembership.Role.choices)


# --------------------------------------------------------------------------- projects


class ProjectSerializer(serializers.ModelSerializer):
    slug = serializers.CharField(
        read_only=True, help_text="URL form in /api/v1/projects/<slug>: chosen at creation, else the lowercased key."
    )
    namespace = serializers.CharField(read_only=True, help_text="The user name or organization slug it lives in.")
    namespace_kind = serializers.SerializerMethodField()
    role = serializers.SerializerMethodField(help_text="The caller's role in the project.")
    member_count = serializers.IntegerField(read_only=True)
    open_ticket_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Project
        fields = [
            "id",
            "key",
            "slug",
            "name",
            "path",
            "namespace",
            "namespace_kind",
            "description",
            "color",
            "role",
            "member_count",
            "open_ticket_count",
            "archived_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=["user", "org"]))
    def get_namespace_kind(self, project: Project) -> str:
        return "org" if project.organization_id else "user"

    @extend_schema_field(serializers.ChoiceField(choices=Membership.Role.choices, allow_null=True))
    def get_role(self, project: Project) -> str | None:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        if hasattr(project, "caller_role"):
            prime_role(project, user, project.caller_role)
        return role_of(user, project)


HEX_HELP = "Hex colour #RRGGBB; auto-assigned when absent."


SLUG_HELP = "URL slug (lowercase letters, digits, dashes; unique site-wide); default: the lowercased key."


def project_slug_field(**kwargs: Any) -> serializers.CharField:
    """The optional `slug` of a project create (projects.services.slug_validate checks it)."""
    field = serializers.CharField(
        max_length=PROJECT_SLUG_MAX_LENGTH, required=False, allow_blank=True, help_text=SLUG_HELP, **kwargs
    )
    return documented(field, pattern=PROJECT_SLUG_PATTERN)


class ProjectCreateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    key = serializers.CharField(max_length=10, help_text="2-10 uppercase letters/digits, starting with a letter.")
    slug = project_slug_field()
    namespace = serializers.CharField(
        max_length=150, required=False, allow_blank=True, help_text="User name or organization slug."
    )
    description = serializers.CharField(required=False, allow_blank=True, default="")
    color = documented(
        serializers.CharField(max_length=7, required=False, allow_blank=True, allow_null=True, help_text=HEX_HELP),
        pattern=HEX_COLOR_PATTERN,
    )


class ProjectListQuerySerializer(serializers.Serializer):
    archived = serializers.BooleanField(required=False, default=False)


class ProjectUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False)
    key = serializers.CharField(max_length=10, required=False, help_text="Immutable: must match if sent.")
    slug = serializers.CharField(
        max_length=PROJECT_SLUG_MAX_LENGTH, required=False, help_text="Immutable: must match if sent."
    )
    description = serializers.CharField(required=False, allow_blank=True)
    color = documented(
        serializers.CharField(max_length=7, required=False, help_text="Hex colour #RRGGBB."), pattern=HEX_COLOR_PATTERN
    )


class MemberSerializer(serializers.ModelSerializer):
    user = UserBriefSerializer(read_only=True)
    user_id = serializers.IntegerField(read_only=True)
    project_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Membership
        fields = ["id", "user_id", "project_id", "user", "role", "created_at"]
        read_only_fields = fields


class MemberInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(
        choices=Membership.Role.choices, required=False, help_text="Default: the site's default member role."
    )


class MemberRoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class TransferOwnershipInputSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)


# --------------------------------------------------------------------------- columns


class ColumnSerializer(serializers.ModelSerializer):
    project_id = serializers.IntegerField(read_only=True)
    ticket_count = serializers.IntegerField(read_only=True, required=False)

    class Meta:
        model = Column
        fields = ["id", "project_id", "name", "order", "category", "wip_limit", "ticket_count", "created_at"]
        read_only_fields = fields


class ColumnInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    category = serializers.ChoiceField(choices=Column.Category.choices, default=Column.Category.TODO)
    wip_limit = model_integer(Column, "wip_limit", min_value=1, required=False, allow_null=True, default=None)


class ColumnUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    category = serializers.ChoiceField(choices=Column.Category.choices, required=False)
    wip_limit = model_integer(
        Column, "wip_limit", min_value=1, required=False, allow_null=True, help_text="null removes it."
    )


class ColumnReorderInputSerializer(serializers.Serializer):
    order = id_list(allow_empty=False, min_length=1)


class ColumnDeleteInputSerializer(serializers.Serializer):
    target_column_id = id_field(required=False, allow_null=True)


# --------------------------------------------------------------------------- labels


class LabelSerializer(serializers.ModelSerializer):
    project_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = Label
        fields = ["id", "project_id", "name", "color", "description", "created_at"]
        read_only_fields = fields


class LabelInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    color = documented(
        serializers.CharField(max_length=7, required=False, allow_blank=True, allow_null=True, help_text=HEX_HELP),
        pattern=HEX_COLOR_PATTERN,
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class LabelUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=50, required=False)
    color = documented(
        serializers.CharField(max_length=7, required=False, help_text="Hex colour #RRGGBB."), pattern=HEX_COLOR_PATTERN
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


# --------------------------------------------------------------------------- sprints


class SprintSerializer(serializers.ModelSerializer):
    project_id = serializers.IntegerField(read_only=True)
    ticket_count = serializers.IntegerField(read_only=True)
    done_count = serializers.IntegerField(read_only=True)
    estimate_total = serializers.IntegerField(read_only=True)

    class Meta:
        model = Sprint
        fields = [
            "id",
            "project_id",
            "name",
            "goal",
            "status",
            "start_date",
            "end_date",
            "started_at",
            "completed_at",
            "ticket_count",
            "done_count",
            "estimate_total",
            "created_at",
        ]
        read_only_fields = fields


class SprintInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    goal = serializers.CharField(required=False, allow_blank=True, default="")
    start_date = serializers.DateField(required=False, allow_null=True, default=None)
    end_date = serializers.DateField(required=False, allow_null=True, default=None)


class SprintUpdateInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100, required=False)
    goal = serializers.CharField(required=False, allow_blank=True)
    start_date = serializers.DateField(required=False, allow_null=True)
    end_date = serializers.DateField(required=False, allow_null=True)


class SprintCompleteInputSerializer(serializers.Serializer):
    move_to_sprint_id = id_field(
        required=False, allow_null=True, default=None, help_text="A planned sprint; null sends them to the backlog."
    )


class SprintCompleteResultSerializer(serializers.Serializer):
    sprint = SprintSerializer()
    moved = serializers.IntegerField()
    move_to_sprint_id = serializers.IntegerField(allow_null=True)


class SprintTicketSerializer(serializers.Serializer):
    """A compact ticket for sprint lists (tickets/ has the full one)."""

    id = serializers.IntegerField()
    key = serializers.CharField()
    number = serializers.IntegerField()
    title = serializers.CharField()
    type = serializers.CharField()
    status = serializers.CharField()
    state = serializers.CharField()
    priority = serializers.CharField()
    column_id = serializers.IntegerField()
    position = serializers.IntegerField(source="rank")
    assignee = UserBriefSerializer(allow_null=True)
    estimate = serializers.IntegerField(allow_null=True)
    due_date = serializers.DateField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)


class BurndownDaySerializer(serializers.Serializer):
    date = serializers.DateField()
    remaining = serializers.IntegerField(allow_null=True, help_text="Open estimate at the end of the day.")
    ideal = serializers.FloatField()


class BurndownSerializer(serializers.Serializer):
    sprint_id = serializers.IntegerField()
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    total_estimate = serializers.IntegerField()
    days = BurndownDaySerializer(many=True)


# --------------------------------------------------------------------------- invitations

# A project's owner is only ever made by transfer-ownership, so an invitation never carries it.
INVITABLE_PROJECT_ROLES = [r for r in Membership.Role.values if r != Membership.Role.OWNER]
INVITATION_STATUSES = ["pending", "accepted", "used_up", "revoked", "expired"]
INVITATION_KINDS = Invitation.Kind.values


class InvitationSerializer(serializers.ModelSerializer):
    kind = serializers.ChoiceField(choices=INVITATION_KINDS, read_only=True)
    email = serializers.CharField(read_only=True, help_text="The invitee's address; empty for a link.")
    status = serializers.SerializerMethodField()
    invited_by = UserBriefSerializer(read_only=True, allow_null=True)
    expires_at = serializers.DateTimeField(read_only=True, allow_null=True, help_text="null: never expires.")
    max_uses = serializers.IntegerField(read_only=True, allow_null=True, help_text="null: no limit.")

    class Meta:
        model = Invitation
        fields = [
            "id",
            "kind",
            "role",
            "email",
            "status",
            "expires_at",
            "max_uses",
            "uses",
            "invited_by",
            "created_at",
            "sent_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=INVITATION_STATUSES))
    def get_status(self, invitation: Invitation) -> str:
        return invitation_status(invitation)


class InvitationCreatedSerializer(InvitationSerializer):
    token = serializers.CharField(
        read_only=True, allow_null=True, help_text="A link's token, shown only now; null for an e-mail invitation."
    )
    url = serializers.CharField(read_only=True, allow_null=True, help_text="The link to share, shown only now.")

    class Meta(InvitationSerializer.Meta):
        fields = [*InvitationSerializer.Meta.fields, "token", "url"]
        read_only_fields = fields


class _InvitationInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=INVITATION_KINDS, default="email", help_text="email: one invitee; link: a shareable link."
    )
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254, help_text="For kind=email.")
    expires_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="In the future, within a year. Default: in 14 days for an e-mail invitation, never for a link.",
    )
    max_uses = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=10_000, help_text="Links only; null: no limit."
    )


class ProjectInvitationInputSerializer(_InvitationInputSerializer):
    role = serializers.ChoiceField(
        choices=INVITABLE_PROJECT_ROLES, default="member", help_text="At most the inviter's own role."
    )


class OrganizationInvitationInputSerializer(_InvitationInputSerializer):
    role = serializers.ChoiceField(
        choices=OrganizationMembership.Role.choices, default="member", help_text="At most the inviter's own role."
    )


class InvitationTargetSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["project", "organization"])
    name = serializers.CharField()
    slug = serializers.CharField(help_text="The project's URL slug or the organization's slug.")


class InvitationInfoSerializer(serializers.Serializer):
    """What an invitation link opens, for whoever holds the token."""

    kind = serializers.ChoiceField(choices=INVITATION_KINDS)
    role = serializers.CharField()
    status = serializers.ChoiceField(choices=INVITATION_STATUSES)
    email = serializers.CharField(help_text="The invited address; empty for a link.")
    expires_at = serializers.DateTimeField(allow_null=True)
    target = InvitationTargetSerializer()
    invited_by = UserBriefSerializer(allow_null=True)


class InvitationAcceptedSerializer(serializers.Serializer):
    joined = serializers.BooleanField(help_text="false: the caller was already a member; nothing changed.")
    role = serializers.CharField(help_text="The caller's role in the project or organization now.")
    target = InvitationTargetSerializer()


class MemberCandidateSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    email = serializers.CharField(required=False, help_text="Only for site admins.")
