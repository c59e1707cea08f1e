"""Sign in, sign out, register, forgot and reset password. All writes go through accounts.services."""

from __future__ import annotations

from typing import Any

from allauth.account.internal.flows.login import perform_password_login
from allauth.account.models import Login
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts import services as account_services
from accounts.api import PASSWORD_RESET_RATE, REGISTER_RATE, device_cookie_set
from accounts.forms import LoginForm
from accounts.models import User
from punt import errors
from punt.api.ratelimit import RateLimited, check_rate, client_ip
from web.forms import ForgotPasswordForm, RegisterForm, ResetPasswordForm, add_service_errors


def _rate_limited_page(request: HttpRequest, exc: errors.RateLimited) -> HttpResponse:
    response = render(request, "web/rate_limited.html", {"message": errors.message(exc)}, status=429)
    response["Retry-After"] = str(int(exc.retry_after or 60))
    return response


def _rate_limited(request: HttpRequest, *, group: str, rate: str) -> HttpResponse | None:
    """Count a POST against the same counters as the API's auth endpoints (one budget per address)."""
    try:
        check_rate(request, group=group, rate=rate, key=f"ip:{client_ip(request)}")
    except RateLimited as exc:
        return _rate_limited_page(request, exc)
    return None


def web_sign_in(request: HttpRequest, user: User, *, redirect_url: str, signup: bool = False) -> HttpResponseBase:
    """Sign `user` (whose password was just checked, or who just signed up) in to the web app
    through allauth's login flow, so its stages run: e-mail verification (mandatory: a page
    saying a link was mailed instead of a session), then two-factor. Every password sign-in and
    sign-up of the web app comes through here; company sign-in runs the same stages in allauth.
    """
    login = Login(user=user, redirect_url=redirect_url, email=user.email or None, signup=signup)
    return perform_password_login(request, {"username": user.username}, login)


class LoginView(auth_views.LoginView):
    template_name = "registration/login.html"
    redirect_authenticated_user = True
    authentication_form = LoginForm

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        try:
            return super().post(request, *args, **kwargs)
        except errors.RateLimited as exc:
            return _rate_limited_page(request, exc)

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = web_sign_in(self.request, form.get_user(), redirect_url=self.get_success_url())
        # The password was right: this browser is a known device, whatever the later stages say.
        if isinstance(form, LoginForm) and form.result is not None:
            device_cookie_set(response, form.result)
        return response  # type: ignore[return-value]

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["password_signup_open"] = account_services.password_signup_open()
        return context


login_view = LoginView.as_view()
logout_view = auth_views.LogoutView.as_view(next_page="web:login")


def _safe_next(request: HttpRequest, fallback: str = "web:home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    if not account_services.registration_open():
        raise Http404("Registration is closed on this server.")
    if request.user.is_authenticated:
        return redirect("web:home")
    if not account_services.system_settings().password_signup:
        # Company sign-in still opens accounts: the page offers it instead of the form.
        context = {"password_signup_off": account_services.PASSWORD_SIGNUP_OFF, "next": _safe_next(request, "")}
        return render(request, "registration/register.html", context, status=403)
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and (limited := _rate_limited(request, group="auth.register", rate=REGISTER_RATE)):
        return limited
    if request.method == "POST" and form.is_valid():
        try:
            user = account_services.user_register(**form.cleaned_data)
        except (errors.Invalid, errors.Forbidden) as exc:
            add_service_errors(form, exc)
        else:
            user.backend = "django.contrib.auth.backends.ModelBackend"
            messages.success(request, f"Welcome to PUNT, {user.name}!")
            response = web_sign_in(request, user, redirect_url=_resolve(_safe_next(request)), signup=True)
            return response  # type: ignore[return-value]
    return render(request, "registration/register.html", {"form": form, "next": _safe_next(request, "")})


def _resolve(target: str) -> str:
    """A URL for a URL name (the fallback of _safe_next) or the URL itself."""
    return target if "/" in target else reverse(target)


@require_http_methods(["GET", "POST"])
def forgot_password(request: HttpRequest) -> HttpResponse:
    form = ForgotPasswordForm(request.POST or None)
    if request.method == "POST" and (limited := _rate_limited(request, group="auth.forgot", rate=PASSWORD_RESET_RATE)):
        return limited
    if request.method == "POST" and form.is_valid():
        account_services.password_reset_request(email=form.cleaned_data["email"])
        # Same answer whether or not the address has an account: no account enumeration.
        return render(request, "registration/forgot_password_sent.html", {"email": form.cleaned_data["email"]})
    return render(request, "registration/forgot_password.html", {"form": form})


@require_http_methods(["GET", "POST"])
def reset_password(request: HttpRequest) -> HttpResponse:
    # The mailed link is /reset-password?token=… (accounts.services.password_reset_request).
    initial = {"token": request.GET.get("token", "")}
    form = ResetPasswordForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            account_services.password_reset_confirm(**form.cleaned_data)
        except errors.Invalid as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your password was changed. Sign in with the new one.")
            return redirect("web:login")
    return render(request, "registration/reset_password.html", {"form": form})
