from __future__ import annotations

from django.contrib import admin

from imports.models import ImportRun, SourceMap


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = ("id", "project", "source", "status", "progress", "total", "dry_run", "created_at")
    list_filter = ("source", "status")
    raw_id_fields = ("project", "created_by")


@admin.register(SourceMap)
class SourceMapAdmin(admin.ModelAdmin):
    list_display = ("project", "source", "kind", "source_id", "object_id", "reference")
    list_filter = ("source", "kind")
    search_fields = ("source_id", "reference")
    raw_id_fields = ("project",)
