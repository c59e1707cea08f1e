"""Sign in, sign out, register, forgot and reset password. All writes go through accounts.services."""

from __future__ import annotations

from allauth.account.internal.flows import login as allauth_login_flows
from allauth.account.models import Login as AllauthLogin
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from accounts import services as account_services
from accounts.api import PASSWORD_RESET_RATE, REGISTER_RATE, device_cookie_set
from accounts.forms import LoginForm
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
        # The password is right: allauth's login flow takes over, so an account with two-factor
        # gets its second step (/accounts/2fa/authenticate/) before the session is signed in.
        user = form.get_user()
        stage = AllauthLogin(user=user, redirect_url=self.get_success_url())
        response = allauth_login_flows.perform_password_login(self.request, {"username": user.get_username()}, stage)
        if isinstance(form, LoginForm) and form.result is not None:
            device_cookie_set(response, form.result)
        return response


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
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and (limited := _rate_limited(request, group="auth.register", rate=REGISTER_RATE)):
        return limited
    if request.method == "POST" and form.is_valid():
        try:
            user = account_services.user_register(**form.cleaned_data)
        except errors.Invalid as exc:
            add_service_errors(form, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, f"Welcome to PUNT, {user.name}!")
            return redirect(_safe_next(request))
    return render(request, "registration/register.html", {"form": form})


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
