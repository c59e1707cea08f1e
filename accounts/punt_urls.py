from __future__ import annotations

from django.urls import path

from accounts import api

# PUNT-dialect (seed 000) session endpoints, mounted at /api/.
urlpatterns = [
    path("auth/callback/credentials", api.PuntCredentialsView.as_view(), name="punt-auth-credentials"),
    path("auth/register", api.PuntRegisterView.as_view(), name="punt-auth-register"),
    path("auth/session", api.PuntSessionView.as_view(), name="punt-auth-session"),
    path("auth/csrf", api.PuntCsrfView.as_view(), name="punt-auth-csrf"),
    path("auth/signout", api.PuntSignoutView.as_view(), name="punt-auth-signout"),
]
