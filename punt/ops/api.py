"""/api/v1/admin/backup, /api/v1/admin/restore and /api/v1/metrics."""

from __future__ import annotations

import json
from tempfile import TemporaryFile
from typing import Any

from django.http import FileResponse, HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ApiKeyScope
from punt import errors
from punt.ops import backup, metrics
from punt.ops.site_counts import SiteCountsCollector


class HasGlobalRole(permissions.BasePermission):
    """The user holds one of `view.global_roles` (site admins hold "admin")."""

    message = "This needs a global role you do not have."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        roles: tuple[str, ...] = view.global_roles
        if any(user.has_global_role(role) for role in roles):
            return True
        self.message = f"This needs the {' or '.join(roles)} global role."
        return False


class _AnyBodyRenderer(BaseRenderer):
    """Lets clients ask for the success type; error bodies still come out as JSON text."""

    charset: str | None = None

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()


class ZipRenderer(_AnyBodyRenderer):
    media_type = "application/zip"
    format = "zip"


class PrometheusTextRenderer(_AnyBodyRenderer):
    media_type = "text/plain"
    format = "txt"
    charset = "utf-8"


class OpsErrorSerializer(serializers.Serializer):
    error = serializers.CharField()


class RestoreRequestSerializer(serializers.Serializer):
    archive = serializers.FileField(help_text="A zip archive made by POST /api/v1/admin/backup or punt_backup.")


class RestoreResultSerializer(serializers.Serializer):
    created_at = serializers.CharField(help_text="When the restored archive was made.")
    objects = serializers.DictField(child=serializers.IntegerField(), help_text="Rows restored per model.")
    files = serializers.IntegerField(help_text="Uploaded files written back.")


# Errors are JSON whatever the success type is.
_ROLE_ERRORS = {
    (401, "application/json"): OpenApiResponse(OpsErrorSerializer, description="Not authenticated."),
    (403, "application/json"): OpenApiResponse(OpsErrorSerializer, description="Missing global role or API-key scope."),
}


class BackupView(APIView):
    permission_classes = [permissions.IsAuthenticated, ApiKeyScope, HasGlobalRole]
    api_scope = "admin"
    global_roles = ("admin", "backup")
    renderer_classes = [JSONRenderer, ZipRenderer]

    @extend_schema(
        operation_id="admin_backup_create",
        summary="Download a backup archive",
        description=(
            "A zip with data.json (every row, Django serialization format), the uploaded files "
            "under media/, and manifest.json (format version, schema version, created_at, SHA-256 "
            "of every member). Site admins or the backup global role."
        ),
        request=None,
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            **_ROLE_ERRORS,
            (503, "application/json"): OpenApiResponse(
                OpsErrorSerializer, description="The database is not migrated: run migrate first."
            ),
        },
        tags=["admin"],
    )
    def post(self, request: Request) -> FileResponse:
        # On disk, not in memory: uploads can make an archive large. Not a `with` block:
        # FileResponse closes (and so deletes) the temporary file once it is sent.
        archive = TemporaryFile()  # noqa: SIM115
        try:
            backup.backup_write(archive, by=request.user, request=request)
        except backup.BackupError as exc:
            archive.close()
            raise errors.Unavailable(str(exc)) from exc
        except BaseException:
            archive.close()
            raise
        archive.seek(0)
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        return FileResponse(
            archive, as_attachment=True, filename=f"punt-backup-{stamp}.zip", content_type="application/zip"
        )


class RestoreView(APIView):
    permission_classes = [permissions.IsAuthenticated, ApiKeyScope, HasGlobalRole]
    api_scope = "admin"
    global_roles = ("admin",)
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="admin_restore_create",
        summary="Restore a backup archive",
        description=(
            "Replaces all data and writes the archive's files back, all or nothing. Refuses (400) an "
            "archive that is corrupt, truncated, edited, incomplete or made with a newer schema; "
            "the existing data is then untouched. Site admins only."
        ),
        request={"multipart/form-data": RestoreRequestSerializer},
        responses={
            200: RestoreResultSerializer,
            (400, "application/json"): OpenApiResponse(OpsErrorSerializer, description="Invalid or refused archive."),
            **_ROLE_ERRORS,
        },
        tags=["admin"],
    )
    def post(self, request: Request) -> Response:
        form = RestoreRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        upload = form.validated_data["archive"]
        try:
            result = backup.restore_archive(upload, by=request.user, request=request)
        except backup.BackupError as exc:
            raise errors.Invalid(str(exc), code="invalid_archive") from exc
        return Response(RestoreResultSerializer(result).data)


class MetricsView(APIView):
    permission_classes = [permissions.IsAuthenticated, ApiKeyScope, HasGlobalRole]
    api_scope = "admin"
    global_roles = ("admin", "metrics")
    # JSON first: errors read as JSON unless the client asks for text (Prometheus does).
    renderer_classes = [JSONRenderer, PrometheusTextRenderer]

    @extend_schema(
        operation_id="metrics_retrieve",
        summary="Prometheus metrics",
        description=(
            "Prometheus text exposition format 0.0.4: HTTP requests and latency by route and status, "
            "open WebSocket and SSE connections, events published, webhook deliveries by outcome, "
            "counts of users, projects and open tickets. Needs the metrics or admin global role."
        ),
        responses={(200, "text/plain"): OpenApiTypes.STR, **_ROLE_ERRORS},
        tags=["admin"],
    )
    def get(self, request: Request) -> HttpResponse:
        return HttpResponse(metrics.render(collectors=[SiteCountsCollector()]), content_type=metrics.CONTENT_TYPE)
