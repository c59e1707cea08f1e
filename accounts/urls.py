from __future__ import annotations

from django.urls import path

from accounts import api

# Canonical API, mounted at /api/v1/ (seed 004).
urlpatterns = [
    path("auth/login", api.LoginView.as_view(), name="auth-login"),
    path("auth/login/2fa", api.TwoFactorLoginView.as_view(), name="auth-login-2fa"),
    path("auth/refresh", api.RefreshView.as_view(), name="auth-refresh"),
    path("auth/logout", api.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all", api.LogoutAllView.as_view(), name="auth-logout-all"),
    path("auth/register", api.RegisterView.as_view(), name="auth-register"),
    path("auth/forgot-password", api.ForgotPasswordView.as_view(), name="auth-forgot-password"),
    path("auth/reset-password", api.ResetPasswordView.as_view(), name="auth-reset-password"),
    path("users/me", api.MeView.as_view(), name="users-me"),
    path("users/me/password", api.PasswordChangeView.as_view(), name="users-me-password"),
    path("users/me/avatar", api.AvatarView.as_view(), name="users-me-avatar"),
    # One ViewSet mapped by hand: a router's <basename>-list/-detail names would not keep these URL names.
    path("users/me/api-keys", api.ApiKeyViewSet.as_view({"get": "list", "post": "create"}), name="users-me-api-keys"),
    path(
        "users/me/api-keys/<int:key_id>",
        api.ApiKeyViewSet.as_view({"delete": "destroy"}),
        name="users-me-api-key",
    ),
    path("users", api.UserListView.as_view(), name="users"),
    path("users/<int:user_id>", api.UserDetailView.as_view(), name="user-detail"),
    path("admin/system-settings", api.SystemSettingsView.as_view(), name="admin-system-settings"),
    path("admin/audit-log", api.AuditLogAdminView.as_view(), name="admin-audit-log"),
]
