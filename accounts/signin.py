"""Company sign-in plumbing for pages: where the configured providers send the browser.

The Content-Security-Policy's form-action is 'self'. Chrome applies form-action to the
redirects that follow a form's POST as well, so the sign-in buttons (POST
/accounts/<provider>/login/, answered with a redirect to the provider) would be blocked. The
pages that carry such a form add the origins of the configured providers, and only those
(SignInFormActionMiddleware); every other page keeps 'self' alone.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from allauth.socialaccount import app_settings as social_settings
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.models import SocialApp
from django.http import HttpRequest, HttpResponse

# Where each provider's authorization endpoint lives (allauth's OAuth2 adapters' URLs).
FIXED_ORIGINS = {"github": "https://github.com", "google": "https://accounts.google.com"}
# The pages that show sign-in buttons or allauth's own forms that lead to a provider.
SIGNIN_PATHS = ("/login/", "/register/", "/accounts/")


def _origin(url: str) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme not in ("https", "http") or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}"


def app_origin(app: SocialApp) -> str | None:
    """The origin the browser is sent to when signing in with `app`."""
    if app.provider in FIXED_ORIGINS:
        return FIXED_ORIGINS[app.provider]
    if app.provider == "gitlab":
        default = social_settings.PROVIDERS.get("gitlab", {}).get("GITLAB_URL", "https://gitlab.com")
        return _origin(app.settings.get("gitlab_url") or default)
    if app.provider == "openid_connect":
        # The issuer's origin: where its authorization endpoint is, for the providers PUNT is
        # used with (Keycloak, Authentik, Okta, Entra ID, Google…).
        return _origin(app.settings.get("server_url", ""))
    return None


def provider_origins(request: HttpRequest) -> list[str]:
    """The origins of every configured provider (environment and Django admin), sorted."""
    origins = {app_origin(app) for app in get_adapter(request).list_apps(request)}
    return sorted(origin for origin in origins if origin)


class SignInFormActionMiddleware:
    """Adds the configured providers' origins to form-action on the sign-in pages (see above).

    Sits after csp.middleware.CSPMiddleware in MIDDLEWARE so the policy is built after it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(SIGNIN_PATHS) and response.get("Content-Type", "").startswith("text/html"):
            origins = provider_origins(request)
            if origins:
                update = dict(getattr(response, "_csp_update", None) or {})
                update["form-action"] = [*update.get("form-action", []), *origins]
                response._csp_update = update  # type: ignore[attr-defined]
        return response
