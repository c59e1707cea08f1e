from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

PROJECT_SLUG_MAX_LENGTH = 50


class Organization(models.Model):
    """A namespace shared by several people. Its slug shares one namespace with user names."""

    slug = models.SlugField(max_length=150, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="OrganizationMembership", related_name="orgs")
    # Where AgentsMesh creates without `repository_id` go (seed 002); unset: the first live project.
    default_project = models.ForeignKey(
        "Project",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="Tickets created without a repository go here; empty: the organization's first project.",
    )

    class Meta:
        ordering = ["slug"]
        constraints = [models.UniqueConstraint(Lower("slug"), name="organization_slug_ci_unique")]

    def __str__(self) -> str:
        return self.slug


class OrganizationMembership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="org_memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="org_membership_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.organization_id} ({self.role})"


class Project(models.Model):
    """A board of tickets in a namespace: a user (`owner_user`) or an organization."""

    owner_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="owned_projects"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=200)
    path = models.SlugField(max_length=200, help_text="URL form of the name, unique within the namespace.")
    key = models.CharField(max_length=10, unique=True, help_text="2-10 uppercase letters/digits; immutable.")
    # Stored lowercase only (projects.services checks it), so plain uniqueness is case-insensitive.
    slug = models.CharField(
        max_length=PROJECT_SLUG_MAX_LENGTH,
        unique=True,
        help_text="URL form in /api/v1/projects/<slug>: lowercase letters, digits, dashes; immutable.",
    )
    description = models.TextField(blank=True)
    color = models.CharField(max_length=7)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    # The last ticket number handed out; incremented under the row lock (never reused).
    ticket_counter = models.PositiveIntegerField(default=0)
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="projects")

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(owner_user__isnull=False, organization__isnull=True))
                | (models.Q(owner_user__isnull=True, organization__isnull=False)),
                name="project_has_one_namespace",
            ),
            models.UniqueConstraint(
                "owner_user",
                Lower("path"),
                condition=models.Q(owner_user__isnull=False),
                name="project_path_user_unique",
            ),
            models.UniqueConstraint(
                "organization",
                Lower("path"),
                condition=models.Q(organization__isnull=False),
                name="project_path_org_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.name}"

    @property
    def namespace(self) -> str:
        """The user name or organization slug the project lives in (needs the FK loaded)."""
        organization = self.organization  # None without a query when the id is NULL
        if organization is not None:
            return organization.slug
        owner = self.owner_user
        assert owner is not None, "a project belongs to an organization or a user"
        return owner.username


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"
        VIEWER = "viewer", "Viewer"

    # Higher outranks lower; see projects/permissions.py.
    RANK = {Role.VIEWER: 0, Role.MEMBER: 1, Role.ADMIN: 2, Role.OWNER: 3}

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique"),
            models.UniqueConstraint(fields=["project"], condition=models.Q(role="owner"), name="one_owner_per_project"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.project_id} ({self.role})"

    @property
    def rank(self) -> int:
        return self.RANK[self.Role(self.role)]


class Column(models.Model):
    class Category(models.TextChoices):
        BACKLOG = "backlog", "Backlog"
        TODO = "todo", "To do"
        IN_PROGRESS = "in_progress", "In progress"
        IN_REVIEW = "in_review", "In review"
        DONE = "done", "Done"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="columns")
    name = models.CharField(max_length=100)
    order = models.PositiveIntegerField(default=0)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.TODO)
    wip_limit = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "id"]
        indexes = [models.Index(fields=["project", "order"])]
        constraints = [models.UniqueConstraint("project", Lower("name"), name="column_name_unique_per_project")]

    def __str__(self) -> str:
        return self.name


class Label(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="labels")
    name = models.CharField(max_length=50)
    color = models.CharField(max_length=7)
    description = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint("project", Lower("name"), name="label_name_unique_per_project")]

    def __str__(self) -> str:
        return self.name


class Sprint(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        ACTIVE = "active", "Active"
        CLOSED = "closed", "Closed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="sprints")
    name = models.CharField(max_length=100)
    goal = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project"], condition=models.Q(status="active"), name="one_active_sprint"),
        ]

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    """An invitation to a project or an organization with a role.

    `email`: one invitee, whose token only their mail carries (the mail task sets it, so the
    raw token is never stored nor seen by the inviter); `link`: a shareable link, shown to its
    creator once, with an optional expiry and use limit. Only the token's SHA-256 is stored.
    """

    class Kind(models.TextChoices):
        EMAIL = "email", "E-mail"
        LINK = "link", "Link"

    kind = models.CharField(max_length=5, choices=Kind.choices)
    project = models.ForeignKey(Project, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.CASCADE, related_name="invitations"
    )
    # Membership.Role for a project, OrganizationMembership.Role for an organization.
    role = models.CharField(max_length=10)
    email = models.EmailField(blank=True)
    hashed_token = models.CharField(max_length=64, unique=True, editable=False)
    # None: no expiry (links only; e-mail invitations always expire).
    expires_at = models.DateTimeField(null=True, blank=True)
    # None: any number of uses (links only; an e-mail invitation is used once).
    max_uses = models.PositiveIntegerField(null=True, blank=True)
    uses = models.PositiveIntegerField(default=0)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(project__isnull=False, organization__isnull=True))
                | (models.Q(project__isnull=True, organization__isnull=False)),
                name="invitation_has_one_target",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="link") | ~models.Q(email=""), name="invitation_email_has_address"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "revoked_at"], name="invitation_project_idx"),
            models.Index(fields=["organization", "revoked_at"], name="invitation_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} invitation {self.pk} ({self.role})"


# The categories as a plain list, for the API schema's enums (settings.ENUM_NAME_OVERRIDES).
COLUMN_CATEGORIES = Column.Category.values
