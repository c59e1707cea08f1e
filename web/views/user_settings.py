"""The signed-in user's settings: profile, password, avatar, API keys (the secret shown once) and
notification e-mails, and where two-factor stands (managed on allauth.mfa's pages, templates/mfa/).
Every change goes through accounts.services (notifications.services for the e-mails)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.services import two_factor
from notifications import services as notification_services
from punt import errors
from punt.api.request import request_user
from punt.ranges import as_id
from web.forms import (
    ApiKeyForm,
    AvatarForm,
    NotificationEmailForm,
    PasswordChangeForm,
    ProfileForm,
    add_service_errors,
)

NEW_KEY = "punt_new_api_key"


@login_required
@require_http_methods(["GET", "POST"])
def user_settings(request: HttpRequest) -> HttpResponse:
    user = request_user(request)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    profile = ProfileForm(
        request.POST if action == "profile" else None, initial={"display_name": user.display_name, "email": user.email}
    )
    password = PasswordChangeForm(request.POST if action == "password" else None)
    avatar = AvatarForm(request.POST if action == "avatar" else None, request.FILES if action == "avatar" else None)
    api_key = ApiKeyForm(request.POST if action == "api_key" else None)
    notification_email = NotificationEmailForm(
        request.POST if action == "notifications" else None,
        initial=notification_services.notification_preferences(user=user),
    )

    if action == "profile" and profile.is_valid():
        try:
            account_services.user_update(user=user, **profile.cleaned_data)
        except errors.Invalid as exc:
            add_service_errors(profile, exc)
        else:
            messages.success(request, "Profile saved.")
            return redirect("web:user_settings")
    elif action == "password" and password.is_valid():
        try:
            account_services.password_change(user=user, **password.cleaned_data)
        except errors.Invalid as exc:
            add_service_errors(password, exc)
        else:
            # The password is part of the session hash: keep this browser signed in.
            update_session_auth_hash(request, user)
            messages.success(request, "Password changed. Other sessions' tokens were revoked.")
            return redirect("web:user_settings")
    elif action == "notifications" and notification_email.is_valid():
        notification_services.notification_preferences_update(user=user, changes=notification_email.cleaned_data)
        messages.success(request, "Notification e-mails saved.")
        return redirect("web:user_settings")
    elif action == "avatar" and avatar.is_valid():
        try:
            account_services.avatar_set(user=user, upload=avatar.cleaned_data["avatar"])
        except errors.Invalid as exc:
            add_service_errors(avatar, exc)
        else:
            messages.success(request, "Avatar updated.")
            return redirect("web:user_settings")
    elif action == "avatar_clear":
        account_services.avatar_clear(user=user)
        messages.success(request, "Avatar removed.")
        return redirect("web:user_settings")
    elif action == "api_key" and api_key.is_valid():
        data = api_key.cleaned_data
        try:
            key, raw = account_services.api_key_create(
                user=user,
                name=data["name"],
                scopes=list(data["scopes"]),
                expires_at=data.get("expires_at"),
                request=request,
            )
        except errors.Invalid as exc:
            add_service_errors(api_key, exc)
        else:
            # Kept in the session for exactly one page view: the secret is never stored anywhere else.
            request.session[NEW_KEY] = {"name": key.name, "key": raw}
            return redirect("web:user_settings")
    elif action == "api_key_revoke":
        key_id = as_id(request.POST.get("key", ""))
        revoked = account_selectors.api_key_list(user=user).filter(pk=key_id).first() if key_id is not None else None
        if revoked is None:
            raise Http404("No such key.")
        account_services.api_key_revoke(api_key=revoked, by=user, request=request)
        messages.success(request, f"Key {revoked.name} revoked.")
        return redirect("web:user_settings")

    context: dict[str, Any] = {
        "profile_form": profile,
        "password_form": password,
        "avatar_form": avatar,
        "api_key_form": api_key,
        "notification_email_form": notification_email,
        "api_keys": list(account_selectors.api_key_list(user=user)),
        "new_key": request.session.pop(NEW_KEY, None),
        "now": timezone.now(),
        "two_factor": two_factor.two_factor_status(user),
    }
    return render(request, "web/user_settings.html", context, status=400 if action else 200)
