from __future__ import annotations

from typing import Any

from rest_framework import serializers

from audit.models import SHOWN_FIELDS, AuditEntry

PAGE_DEFAULT = 50
PAGE_MAX = 200


class AuditEntrySerializer(serializers.ModelSerializer[AuditEntry]):
    actor = serializers.IntegerField(source="actor_id", allow_null=True, help_text="The user's id; null once deleted.")
    actor_name = serializers.CharField(help_text="The user name when the entry was written.")
    ip = serializers.CharField(allow_null=True, help_text="The client's address, when the change came from a request.")
    project_id = serializers.IntegerField(allow_null=True, help_text="Kept after the project is deleted.")
    project_name = serializers.CharField(help_text="The project's name when the entry was written.")
    before = serializers.JSONField(allow_null=True, help_text="The changed fields' old values.")
    after = serializers.JSONField(allow_null=True, help_text="The changed fields' new values.")

    class Meta:
        model = AuditEntry
        fields = ["id", *SHOWN_FIELDS]
        read_only_fields = fields


class AuditEntryPageSerializer(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = AuditEntrySerializer(many=True)


class AuditLogQuerySerializer(serializers.Serializer[Any]):
    action = serializers.CharField(
        max_length=64, required=False, default="", help_text='An action ("member.added") or a family ("member.").'
    )
    actor = serializers.CharField(max_length=150, required=False, default="", help_text="A user name.")
    target_type = serializers.CharField(
        max_length=100, required=False, default="", help_text='What was changed, as "app.model" ("projects.project").'
    )
    # "from" is a Python keyword: the field is declared under its query name below.
    to = serializers.DateTimeField(required=False, default=None, help_text="Entries before this time (exclusive).")
    limit = serializers.IntegerField(min_value=1, max_value=PAGE_MAX, required=False, default=PAGE_DEFAULT)
    offset = serializers.IntegerField(min_value=0, max_value=2_000_000_000, required=False, default=0)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["from"] = serializers.DateTimeField(
            required=False, default=None, help_text="Entries at or after this time (ISO 8601; a date means midnight)."
        )
        return fields


class AdminAuditLogQuerySerializer(AuditLogQuerySerializer):
    project = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, required=False, default=None, help_text="A project id (deleted ones too)."
    )


CSV_HEADER = (
    "at",
    "actor",
    "ip",
    "action",
    "target_type",
    "target_id",
    "target",
    "project_id",
    "project",
    "before",
    "after",
    "data",
)
