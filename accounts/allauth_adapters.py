"""PUNT's rules inside django-allauth's flows (settings: ACCOUNT_ADAPTER, SOCIALACCOUNT_ADAPTER).

allauth runs the web sign-in (password through web.views.auth, company sign-in through its own
views); the rules stay in accounts.services and the system settings, read at each sign-in:
registration open, sign-up domains, e-mail verification. Mail leaves through a task
(accounts.tasks), never inside the request.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.app_settings import EmailVerificationMethod
from allauth.account.models import EmailAddress
from allauth.account.stages import EmailVerificationStage as AllauthEmailVerificationStage
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from allauth.socialaccount.models import SocialLogin
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.shortcuts import render

from accounts import services
from punt import errors

_STAGE = "allauth.account.stages.EmailVerificationStage"


def email_verification_method() -> str:
    """The site's e-mail verification ("none", "optional", "mandatory"), as allauth names it."""
    return services.system_settings().email_verification


class EmailVerificationStage(AllauthEmailVerificationStage):
    """allauth's stage with the method read from the system settings at each sign-in (allauth
    reads a constant): an admin switching to "mandatory" applies from the next sign-in.

    An account without an address (made by an admin) has nothing to verify and goes through.
    """

    def handle(self) -> tuple[Any, bool]:
        user = self.login.user
        if user is None or not getattr(user, "email", ""):
            return None, True
        self.login.email_verification = EmailVerificationMethod(email_verification_method())
        return super().handle()


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # allauth's own sign-up page is a password sign-up (and redirects to web:register).
        return services.password_signup_open()

    def get_login_stages(self) -> list[str]:
        return [
            "accounts.allauth_adapters.EmailVerificationStage" if path == _STAGE else path
            for path in super().get_login_stages()
        ]

    def clean_username(self, username: str, shallow: bool = False) -> str:
        # PUNT's rules (URL-safe, one namespace with organizations), also for the names allauth
        # derives from a provider's profile: a taken or ill-formed one makes it try the next.
        try:
            return services.username_check(username=username)
        except errors.Invalid as exc:
            raise ValidationError(exc.first_message()) from None

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        from accounts.tasks import email_send

        # allauth's mail templates name the site after django.contrib.sites, which PUNT does not
        # use: they get the site's name (system settings) and SITE_URL's host instead.
        site = SimpleNamespace(name=services.system_settings().site_name, domain=urlsplit(settings.SITE_URL).netloc)
        ctx = {"email": email, "current_site": site, **context}
        msg = self.render_mail(template_prefix, email, ctx)
        html = next((body for body, kind in getattr(msg, "alternatives", []) if kind == "text/html"), "")
        email_send.enqueue(
            subject=str(msg.subject), body=str(msg.body), html=str(html), to=list(msg.to), from_email=msg.from_email
        )


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest, sociallogin: SocialLogin) -> bool:
        # Company sign-in opens accounts while registration is open, with or without password sign-up.
        return services.registration_open()

    def pre_social_login(self, request: HttpRequest, sociallogin: SocialLogin) -> None:
        """Refuse a new account whose address is outside the sign-up domains (existing accounts,
        found by their link or their verified address, sign in as before)."""
        if sociallogin.is_existing:
            _takeover_sign_out(sociallogin)
            return
        email = sociallogin.user.email if sociallogin.user is not None else ""
        if not email and sociallogin.email_addresses:
            email = sociallogin.email_addresses[0].email
        _signup_email_check(request, email or "")

    def save_user(self, request: HttpRequest, sociallogin: SocialLogin, form: Any = None) -> Any:
        # The sign-up form (shown when the provider's address is missing or taken) lets the
        # newcomer type another address: it must be at the sign-up domains too.
        if form is not None:
            _signup_email_check(request, form.cleaned_data.get("email") or "")
        return super().save_user(request, sociallogin, form)


def _takeover_sign_out(sociallogin: SocialLogin) -> None:
    """An account found by the provider's verified address, whose own address was never
    verified, may have been opened by someone else with that address (to wait for its owner):
    allauth wipes its password; ending its tokens, sessions and sockets here finishes the job,
    or a holder of a JWT would stay in."""
    email = getattr(sociallogin, "_did_authenticate_by_email", None)
    user = sociallogin.user
    if not email or user is None:
        return
    if not EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists():
        services.user_sign_out_everywhere(user=user)


def _signup_email_check(request: HttpRequest, email: str) -> None:
    """The sign-up domains rule, answered with a page saying why (403)."""
    try:
        services.signup_email_check(email=email)
    except errors.Invalid as exc:
        response = render(request, "socialaccount/signup_refused.html", {"message": exc.first_message()}, status=403)
        raise ImmediateHttpResponse(response) from None
