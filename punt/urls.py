from __future__ import annotations

from csp.constants import SELF
from csp.decorators import csp_update
from django.conf import settings
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from accounts.media import avatar_file
from punt import views
from punt.api.errors import api_not_found

# Each app adds its /api/v1/ routes in its own urls.py.
api_v1: list[URLPattern | URLResolver] = [
    path("ping", views.Ping.as_view(), name="ping"),
    path("", include("accounts.urls")),
    path("", include("projects.urls")),
    path("", include("tickets.urls")),
    path("", include("tickets.time_urls")),
    path("", include("chat.urls")),
    path("", include("notifications.urls")),
    path("", include("webhooks.urls")),
    path("", include("imports.urls")),
    path("", include("insights.urls")),
    path("", include("punt.ops.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file of its own (no inline script).
    path("swagger/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("swagger/index.html", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui-index"),
    # ReDoc runs its search index in a Worker built from a blob: URL.
    path("redoc/", csp_update({"worker-src": [SELF, "blob:"]})(SpectacularRedocView.as_view()), name="redoc"),
    path("api/v1/", include(api_v1)),
    # SSE streams first: /api/projects/events must not read as a project called "events".
    path("api/", include("punt.realtime.urls")),
    path("api/", include("accounts.punt_urls")),
    # Seed dialects (issue 7): AgentsMesh tickets, GitHub-v3-style, PUNT projects/tickets/admin.
    path("api/v1/ext/orgs/<slug:org>/", include("dialects.agentsmesh.urls")),
    path("api/v3/", include("dialects.github.urls")),
    path("api/", include("dialects.punt.urls")),
    # Anything else under /api/ is a JSON 404 (keep this last).
    re_path(r"^api/.*$", api_not_found),
    # Uploaded avatars, also without DEBUG; other uploads only through their permission-checked views.
    re_path(rf"^{settings.MEDIA_URL.strip('/')}/avatars/(?P<name>[^/]+)$", avatar_file, name="avatar-file"),
    # Server-rendered pages (issue 8); last, so they never shadow the API.
    # django-allauth: social sign-in callbacks, e-mail verification, two-factor (issue 23).
    # Its own password sign-in, sign-up, reset and address pages lead to PUNT's, which apply
    # PUNT's sign-in limits, device cookies and sign-up rules, then allauth's login flow.
    path("accounts/login/", RedirectView.as_view(pattern_name="web:login", query_string=True)),
    path("accounts/signup/", RedirectView.as_view(pattern_name="web:register", query_string=True)),
    path("accounts/password/reset/", RedirectView.as_view(pattern_name="web:forgot_password")),
    # One address per account, changed in the settings page (accounts.services.user_update).
    path("accounts/email/", RedirectView.as_view(pattern_name="web:user_settings")),
    path("accounts/", include("allauth.urls")),
    path("", include("web.urls")),
]
