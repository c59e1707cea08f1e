"""/api/v1/projects/<slug>/export.csv and export.json: a project's tickets for spreadsheets, and
PUNT's archive (imports/export.py) that `punt_import punt FILE` and the import page read back.

Project admins and owners only (the archive lists members' e-mail addresses); API key scope
"projects" (read).
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.views import APIView

from imports.export import export_archive, export_csv
from projects.permissions import MANAGE
from projects.selectors import project_for
from punt import db

ERROR = OpenApiResponse(description='Error: {"error": "...", "details": [{"field", "message"}]}')


@extend_schema(tags=["projects"])
class ExportCsvView(APIView):
    api_scope = "projects"

    @extend_schema(
        operation_id="project_export_csv",
        summary="Export a project's tickets as CSV (admins and owners)",
        description="One row per live ticket, every field; board order.",
        responses={
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="The CSV file."),
            401: ERROR,
            403: ERROR,
            404: ERROR,
        },
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        project = project_for(request.user, slug=slug, min_role=MANAGE)
        with db.long_statements():
            text = "".join(export_csv(project))
        response = HttpResponse(text, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{project.key}-tickets.csv"'
        return response


@extend_schema(tags=["projects"])
class ExportJsonView(APIView):
    api_scope = "projects"

    @extend_schema(
        operation_id="project_export_json",
        summary="Export a project as a PUNT archive (admins and owners)",
        description="Project, columns, labels, sprints, members, tickets with comments and checklists; "
        "`manage.py punt_import punt FILE` and the import page read it back.",
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The archive."),
            401: ERROR,
            403: ERROR,
            404: ERROR,
        },
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        project = project_for(request.user, slug=slug, min_role=MANAGE)
        with db.long_statements():
            archive = export_archive(project)
        response = HttpResponse(json.dumps(archive, ensure_ascii=False), content_type="application/json")
        response["Content-Disposition"] = f'attachment; filename="{project.key}-archive.json"'
        return response
