"""Sign-in forms for pages: Django's own, checking the password under the sign-in limits
(accounts.services.login) like every other way to sign in."""

from __future__ import annotations

from typing import Any

from allauth.core import context
from allauth.mfa.base.forms import AuthenticateForm, ReauthenticateForm
from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from accounts import services
from accounts.api import login_checked
from accounts.models import User
from accounts.services import two_factor
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
            cleaned = super().clean()
        except services.LoginThrottled as exc:
            raise forms.ValidationError(errors.message(exc), code="throttled") from None
        if self.user_cache is not None and two_factor.two_factor_enabled(self.user_cache):
            # This form has no second step: such accounts sign in on the web sign-in page, and
            # the admin then finds them signed in.
            raise forms.ValidationError(
                "This account uses two-factor authentication: sign in on the sign-in page (/login/), "
                "then open the admin.",
                code="two_factor_required",
            )
        return cleaned


class _TwoFactorCodeMixin:
    """allauth's code check, counted against the account's budget of wrong codes
    (accounts.services.two_factor.code_verify), which the API's second step shares."""

    user: User
    authenticator: Any
    cleaned_data: dict[str, Any]
    reauthentication = False

    def clean_code(self) -> str:
        code = str(self.cleaned_data["code"])
        try:
            authenticator = two_factor.code_verify(
                user=self.user, code=code, request=context.request, reauthentication=self.reauthentication
            )
        except errors.RateLimited as exc:
            raise forms.ValidationError(errors.message(exc), code="rate_limited") from None
        if authenticator is None:
            raise forms.ValidationError("Incorrect code.", code="incorrect_code")
        self.authenticator = authenticator
        return code


class TwoFactorCodeForm(_TwoFactorCodeMixin, AuthenticateForm):
    """The sign-in's second step (allauth's page at /accounts/2fa/authenticate/)."""


class TwoFactorReauthenticateForm(_TwoFactorCodeMixin, ReauthenticateForm):
    """Confirming it is you with a code before a two-factor change."""

    reauthentication = True
