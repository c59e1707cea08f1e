"""The project's Import page (settings, admins and owners): upload a file, read the dry run's
report, run the import in the background and watch its progress (the page reloads itself
while a run is going; /settings/import/runs/<id> answers the same as JSON).
Links to the project's CSV and JSON exports."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.models import User
from imports import services as import_services
from imports.models import ImportRun
from imports.sources import SOURCES
from imports.sources.csv_generic import FIELDS
from projects.permissions import MANAGE
from punt import errors
from web.pages import project_for

# How many past runs the page lists.
RUNS_SHOWN = 10


@login_required
@require_http_methods(["GET", "POST"])
def import_page(request: HttpRequest, namespace: str, path: str) -> HttpResponse:
    project, role = project_for(request, namespace, path, MANAGE)
    user = request.user
    assert isinstance(user, User)  # login_required
    here = reverse("web:project_import", args=[project.namespace, project.path])
    if request.method == "POST":
        try:
            if request.POST.get("run"):
                dry = get_object_or_404(ImportRun, project=project, pk=_id(request.POST["run"]), dry_run=True)
                import_services.import_run_create(
                    project=project, by=user, source=dry.source, from_run=dry, dry_run=False
                )
                messages.success(request, "The import is running.")
            else:
                mapping = {f: request.POST.get(f"map_{f}", "").strip() for f in FIELDS}
                import_services.import_run_create(
                    project=project,
                    by=user,
                    source=request.POST.get("source", ""),
                    upload=request.FILES.get("file"),
                    mapping={f: column for f, column in mapping.items() if column},
                    dry_run=True,
                )
                messages.success(request, "Checking the file (a dry run: nothing is changed yet).")
        except errors.PuntError as exc:
            messages.error(request, errors.message(exc))
        return redirect(here)
    runs = [
        import_services.import_run_progress(run)
        for run in ImportRun.objects.filter(project=project).order_by("-created_at", "-id")[:RUNS_SHOWN]
    ]
    context = {
        "project": project,
        "role": role,
        "tab": "settings",
        "can_manage": True,
        "sources": [(s.name, s.label) for s in SOURCES.values()],
        "fields": FIELDS,
        "runs": runs,
        "busy": any(r["status"] in (ImportRun.Status.PENDING, ImportRun.Status.RUNNING) for r in runs),
    }
    return render(request, "web/imports.html", context)


@login_required
@require_GET
def import_run_status(request: HttpRequest, namespace: str, path: str, run_id: str) -> JsonResponse:
    project, _ = project_for(request, namespace, path, MANAGE)
    run = get_object_or_404(ImportRun, project=project, pk=_id(run_id))
    return JsonResponse(import_services.import_run_progress(run))


def _id(value: str) -> int:
    return int(value) if value.isdigit() and len(value) < 19 else 0
