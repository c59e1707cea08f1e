from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from projects.models import Column, Label, Project, Sprint
from punt.files import shows_inline

# Priorities by urgency (Ticket.Priority lists them in that order); anything else ranks as medium.
# The list sorts by this rank (tickets.filters.PRIORITY_RANK) and an index holds it: the index's
# expression and the ORDER BY must be the same SQL for PostgreSQL and SQLite to use it.
PRIORITY_URGENCY = ("low", "medium", "high", "urgent")


def priority_rank() -> models.Case:
    return models.Case(
        *(models.When(priority=value, then=models.Value(rank)) for rank, value in enumerate(PRIORITY_URGENCY)),
        default=models.Value(PRIORITY_URGENCY.index("medium")),
        output_field=models.IntegerField(),
    )


# The list's filters on live (not deleted) and open tickets: partial indexes hold only those rows.
LIVE = models.Q(deleted_at__isnull=True)
OPEN = models.Q(deleted_at__isnull=True, state="opened")


class Ticket(models.Model):
    """A card on the board. `number` is per project and never reused; `key` is `PROJ-42`."""

    class Type(models.TextChoices):
        TASK = "task", "Task"
        BUG = "bug", "Bug"
        FEATURE = "feature", "Feature"
        STORY = "story", "Story"
        EPIC = "epic", "Epic"
        SUBTASK = "subtask", "Subtask"

    class Priority(models.TextChoices):
        LOW = "low", "Low"
        MEDIUM = "medium", "Medium"
        HIGH = "high", "High"
        URGENT = "urgent", "Urgent"

    class State(models.TextChoices):
        OPENED = "opened", "Opened"
        CLOSED = "closed", "Closed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tickets")
    number = models.PositiveIntegerField()
    type = models.CharField(max_length=10, choices=Type.choices, default=Type.TASK)
    title = models.CharField(max_length=500)
    body = models.TextField(blank=True)
    # Rendered and sanitized when the body is written, so lists never render Markdown per row.
    body_html = models.TextField(blank=True, editable=False)
    column = models.ForeignKey(Column, on_delete=models.PROTECT, related_name="tickets")
    # Sparse ordering key inside the column: a move writes one row unless the gap is used up.
    rank = models.BigIntegerField(default=0)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.MEDIUM)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="assigned_tickets"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="reported_tickets"
    )
    labels = models.ManyToManyField(Label, blank=True, related_name="tickets")
    sprint = models.ForeignKey(Sprint, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="subtasks")
    due_date = models.DateField(null=True, blank=True)
    estimate = models.PositiveIntegerField(null=True, blank=True, help_text="Story points.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPENED)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    watchers = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Watcher", related_name="watched_tickets")

    # Not a column: services.ticket_create() attaches the full card it built for its event.
    card: dict[str, Any]

    class Meta:
        ordering = ["column__order", "rank", "id"]
        constraints = [models.UniqueConstraint(fields=["project", "number"], name="ticket_number_unique")]
        indexes = [
            models.Index(fields=["column", "rank", "id"], name="ticket_column_rank"),
            models.Index(fields=["project", "deleted_at", "state"], name="ticket_project_state"),
            models.Index(fields=["project", "assignee"], name="ticket_project_assignee"),
            models.Index(fields=["project", "updated_at"], name="ticket_project_updated"),
            models.Index(fields=["project", "sprint"], name="ticket_project_sprint"),
            # Live cards by status (column) and priority, the list's commonest filters, in
            # updated_at order (the list's default): a filtered page and its count read only
            # the matching index entries, however big the project and however deep the page.
            models.Index(
                fields=["project", "column", "priority", "updated_at"],
                name="ticket_live_col_prio_updated",
                condition=models.Q(deleted_at__isnull=True),
            ),
            # Issue 20's list filters (bench/README.md): each serves its filter's page in order (the
            # first 50 entries, however big the project) and its exact count from the index alone.
            # One person's open tickets by priority (?assignee=&state=open&ordering=-priority).
            models.Index(
                models.F("project"),
                models.F("assignee"),
                priority_rank(),
                models.F("id"),
                name="ticket_open_assignee_prio",
                condition=OPEN,
            ),
            # Open tickets by updated (the default order), under a label or any other filter.
            models.Index(fields=["project", "updated_at", "id"], name="ticket_open_updated", condition=OPEN),
            # The exact count under a label (?label=&state=open): merged, in id order, with the
            # label's link rows (tickets_ticket_labels_label_ticket, migration 0009), both index-only.
            models.Index(fields=["project", "id"], name="ticket_open_id", condition=OPEN),
            # Due dates in a range, by due date.
            models.Index(fields=["project", "due_date", "id"], name="ticket_live_due", condition=LIVE),
            # A sprint's tickets by rank (the sprint board and its PQL list).
            models.Index(fields=["project", "sprint", "rank", "id"], name="ticket_live_sprint_rank", condition=LIVE),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    @property
    def key(self) -> str:
        return f"{self.project.key}-{self.number}"

    @property
    def status(self) -> str:
        return self.column.category


class Watcher(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["ticket", "user"], name="watcher_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} watches {self.ticket_id}"


class Event(models.Model):
    """One entry of a ticket's timeline (seed 003): comment, mention, action or update.

    Comments are events too, so a timeline is one ordered query.
    - comment: `text` is the Markdown body; `minutes` of time logged, if any.
    - mention: `text` is what was mentioned (`@mary`, `#14`, `PROJ-14`); `data` names the target.
    - action: `text` is the verb (close, reopen, move, assign, link, ...); `data` the details.
    - update: `data` is `{"old": {...}, "new": {...}}`.
    """

    class Kind(models.TextChoices):
        COMMENT = "comment", "Comment"
        MENTION = "mention", "Mention"
        ACTION = "action", "Action"
        UPDATE = "update", "Update"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    text = models.TextField(blank=True)
    # Sanitized HTML of a comment's Markdown, rendered on write.
    html = models.TextField(blank=True, editable=False)
    data = models.JSONField(default=dict, blank=True)
    minutes = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "kind", "created_at"], name="event_ticket_kind")]

    def __str__(self) -> str:
        return f"{self.kind} on {self.ticket_id}"


class ChecklistItem(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="checklist")
    text = models.CharField(max_length=500)
    done = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text


class Attachment(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to="attachments/%Y/%m/")
    thumbnail = models.FileField(upload_to="attachments/thumbs/%Y/%m/", blank=True)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.filename

    @property
    def is_image(self) -> bool:
        """A picture pages show and downloads serve inline (never SVG: it can carry scripts)."""
        return shows_inline(self.content_type)


class GitLink(models.Model):
    class Kind(models.TextChoices):
        COMMIT = "commit", "Commit"
        BRANCH = "branch", "Branch"
        PULL_REQUEST = "pull_request", "Pull request"
        ISSUE = "issue", "Issue"
        TAG = "tag", "Tag"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="git_links")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    url = models.URLField(max_length=500)
    title = models.CharField(max_length=500, blank=True)
    ref = models.CharField(max_length=255, blank=True, help_text="Commit SHA, branch or tag name, or PR number.")
    provider = models.CharField(max_length=20, blank=True)
    state = models.CharField(max_length=20, blank=True, help_text="open, merged, closed for pull requests.")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["ticket", "url"], name="gitlink_unique_per_ticket")]

    def __str__(self) -> str:
        return self.url


class TicketRelation(models.Model):
    """A link between two tickets, stored once: `source` blocks / duplicates / relates to `target`.

    The target's side reads the inverse (is blocked by, is duplicated by, relates to):
    tickets.services.relations presents both. Either ticket may be in another project.
    """

    class Kind(models.TextChoices):
        BLOCKS = "blocks", "Blocks"
        DUPLICATES = "duplicates", "Duplicates"
        RELATES_TO = "relates_to", "Relates to"

    source = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="relations_out")
    target = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="relations_in")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "target", "kind"], name="ticketrelation_unique"),
            models.CheckConstraint(condition=~models.Q(source=models.F("target")), name="ticketrelation_not_self"),
        ]
        # The target side's reads (its blockers when it moves to done, its inverse links).
        indexes = [models.Index(fields=["target", "kind"], name="ticketrelation_target_kind")]

    def __str__(self) -> str:
        return f"{self.source_id} {self.kind} {self.target_id}"


class TimeEntry(models.Model):
    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="time_entries")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="time_entries")
    minutes = models.PositiveIntegerField()
    date = models.DateField()
    note = models.CharField(max_length=500, blank=True)
    comment = models.OneToOneField(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="time_entry")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-date", "-id"]
        indexes = [models.Index(fields=["user", "date"]), models.Index(fields=["ticket", "date"])]

    def __str__(self) -> str:
        return f"{self.minutes} min on {self.ticket_id}"


class SavedView(models.Model):
    """A named PQL query: personal (`owner` set) or shared with the project (`owner` empty).

    The sort lives in the query itself (`... ORDER BY updated DESC`): one text to validate,
    show and edit, read the same way by every surface. `position` orders the switcher.
    """

    class Display(models.TextChoices):
        BOARD = "board", "Board"
        LIST = "list", "List"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="saved_views")
    name = models.CharField(max_length=100)
    query = models.TextField(max_length=2000, blank=True)
    display = models.CharField(max_length=10, choices=Display.choices, default=Display.BOARD)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="saved_views"
    )
    position = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["project", "owner", "position"])]
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                "project",
                "owner",
                condition=models.Q(owner__isnull=False),
                name="savedview_personal_name",
            ),
            models.UniqueConstraint(
                Lower("name"), "project", condition=models.Q(owner__isnull=True), name="savedview_shared_name"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def shared(self) -> bool:
        return self.owner_id is None


# Plain value lists, for the API schema's enums (settings.ENUM_NAME_OVERRIDES).
TICKET_TYPES = Ticket.Type.values
TICKET_PRIORITIES = Ticket.Priority.values


# --------------------------------------------------------------------------- custom fields


class CustomField(models.Model):
    """A field a project adds to its tickets (issue 21). Values live in CustomFieldValue rows.

    `key` is the stable machine name (API JSON key, PQL `cf[key]`), unique among the project's
    live fields. Deleting is soft: `deleted_at` hides the field and its values for 30 days,
    during which it can be restored; tickets.services.custom_fields_purge() removes it for good.
    `default` is the API JSON value (a select's default is its option's name).
    """

    class Type(models.TextChoices):
        TEXT = "text", "Text"
        LONG_TEXT = "long_text", "Long text (Markdown)"
        NUMBER = "number", "Number"
        DATE = "date", "Date"
        SELECT = "select", "Single select"
        MULTI_SELECT = "multi_select", "Multi select"
        USER = "user", "User"
        CHECKBOX = "checkbox", "Checkbox"
        URL = "url", "URL"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="custom_fields")
    key = models.SlugField(max_length=50, allow_unicode=False)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, max_length=2000)
    type = models.CharField(max_length=20, choices=Type.choices)
    unit = models.CharField(max_length=20, blank=True, help_text="Shown after a number (h, EUR, %).")
    required = models.BooleanField(default=False)
    default = models.JSONField(null=True, blank=True)
    show_on_card = models.BooleanField(default=False)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "key"], condition=LIVE, name="customfield_live_key"),
        ]
        indexes = [models.Index(fields=["project", "deleted_at", "position"], name="customfield_project")]

    def __str__(self) -> str:
        return self.name


class CustomFieldOption(models.Model):
    """A choice of a select or multi select field. Values point at the option's id, so a rename
    or a new colour keeps every ticket's value."""

    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="options")
    name = models.CharField(max_length=100)
    color = models.CharField(max_length=7, default="#6b7280")
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["field", "name"], name="customfieldoption_name")]

    def __str__(self) -> str:
        return self.name


class CustomFieldValue(models.Model):
    """One ticket's value of one custom field, in the column of its type (a typed table rather
    than a JSON column: one composite index per column type serves every field of every project;
    bench/README.md has the measurements). A multi select has one row per chosen option; every
    other type at most one row per (ticket, field). No row means no value."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="custom_values")
    field = models.ForeignKey(CustomField, on_delete=models.CASCADE, related_name="values")
    text = models.TextField(null=True, blank=True)  # noqa: DJ001  # null: a row of another type
    number = models.FloatField(null=True, blank=True)
    date = models.DateField(null=True, blank=True)
    option = models.ForeignKey(CustomFieldOption, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    flag = models.BooleanField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["ticket", "field"], name="cfvalue_ticket"),
            # PQL filters: the field first, then the typed value, then the ticket (index-only).
            models.Index(fields=["field", "option", "ticket"], name="cfvalue_option"),
            models.Index(fields=["field", "number", "ticket"], name="cfvalue_number"),
            models.Index(fields=["field", "date", "ticket"], name="cfvalue_date"),
            models.Index(fields=["field", "user", "ticket"], name="cfvalue_user"),
            models.Index(fields=["field", "flag", "ticket"], name="cfvalue_flag"),
        ]

    def __str__(self) -> str:
        return f"{self.field_id} of {self.ticket_id}"


class Placement(models.Model):
    """Where a ticket was put, and when: the board's history in typed rows (insights/).

    One row each time a ticket lands somewhere on its board: created, moved to another column,
    reordered, its column re-categorised, deleted (`category` null: off the board) or restored
    (`from_category` null). The row says both the category it left and the one it entered, so
    a day's change per category is one aggregate over rows, with no row ever rewritten. The
    services that write a ticket's timeline write these in the same transaction; the timeline
    stays the record people read, these rows are its index for counting (tests replay one
    against the other).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="placements")
    # The ticket's project, repeated so per-project aggregates read one index. No database
    # constraint: its check would lock the project row (KEY SHARE) inside every move, and a move
    # that makes a missing column holds that row for update (deadlocks under parallel moves).
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    column = models.ForeignKey(Column, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    category = models.CharField(max_length=12, null=True, blank=True)  # noqa: DJ001  # null: off the board
    from_category = models.CharField(max_length=12, null=True, blank=True)  # noqa: DJ001  # null: was not on it
    rank = models.BigIntegerField(default=0)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # Per-project counts by time read the index alone (insights' cumulative flow).
            models.Index(fields=["project", "at", "category", "from_category"], name="placement_flow"),
            models.Index(fields=["ticket", "at"], name="placement_ticket_at"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} to {self.category} at {self.at}"
