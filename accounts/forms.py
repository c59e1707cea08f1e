"""Sign-in forms for pages: Django's own, checking the password under the sign-in limits
(accounts.services.login) like every other way to sign in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from accounts import services
from accounts.api import login_checked
from punt import errors


class LoginForm(AuthenticationForm):
    """The web sign-in form. A throttled attempt raises LoginThrottled: the view answers 429."""

    result: services.LoginResult | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password and self.request is not None:
            self.result = login_checked(self.request, username=username, password=password)
            if self.result.user is None:
                raise self.get_invalid_login_error()
            self.user_cache = self.result.user
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class AdminLoginForm(LoginForm, AdminAuthenticationForm):
    """The admin site's sign-in: the same limits, a throttled attempt shown as a form error
    (the admin's login view has no way to answer 429)."""

    def clean(self) -> dict[str, Any]:
        try:
            return super().clean()
        except services.LoginThrottled as exc:
            raise forms.ValidationError(errors.message(exc), code="throttled") from None
