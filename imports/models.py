from __future__ import annotations

from django.conf import settings
from django.db import models

from projects.models import Project


class ImportRun(models.Model):
    """One import of one file into one project: its progress and its report survive a reload.

    The uploaded file is kept until the run ends (the background task reads it from storage).
    `report` is imports.report.Report as JSON: counts, matched and unknown users, custom
    fields and links found, warnings, and the error with where it happened.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_runs")
    source = models.CharField(max_length=20)
    file = models.FileField(upload_to="imports/%Y/%m/", blank=True)
    filename = models.CharField(max_length=255, blank=True)
    # Generic CSV's column mapping: {PUNT field: file column}.
    mapping = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # Tickets written so far (of `total`, known once the file has been read through once).
    progress = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    report = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["project", "-created_at"], name="importrun_project_created")]

    def __str__(self) -> str:
        return f"{self.source} import into {self.project_id} ({self.status})"


class SourceMap(models.Model):
    """What an import made from a source's item: (project, source family, kind, source id) -> row.

    Re-importing the same file finds its rows here and updates them instead of adding copies.
    `reference` keeps the original key ("PROJ-123", "#12") users know the item by.
    """

    class Kind(models.TextChoices):
        TICKET = "ticket", "Ticket"
        COMMENT = "comment", "Comment"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=20)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    source_id = models.CharField(max_length=255)
    object_id = models.BigIntegerField()
    reference = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "source", "kind", "source_id"], name="sourcemap_unique")
        ]
        indexes = [models.Index(fields=["project", "reference"], name="sourcemap_reference")]

    def __str__(self) -> str:
        return f"{self.source}:{self.kind}:{self.source_id} -> {self.object_id}"
