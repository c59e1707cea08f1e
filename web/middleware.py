"""The site's two-factor policy for pages (SystemSettings.require_two_factor)."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.models import User
from accounts.services import two_factor

# Where someone who still has to set up two-factor may go: the set-up pages themselves (all of
# allauth's, re-authentication included), signing out, and what is not a page. The API keeps its
# own rules (accounts.services.two_factor.password_login_check).
_OPEN_PREFIXES = ("/accounts/", "/logout/", "/api/", "/healthz", "/favicon.ico")


class TwoFactorPolicyMiddleware:
    """Sends a signed-in user whom the policy asks for two-factor, and who has none, to set it up.

    Who must be checked is known without a query: sessions flagged at sign-in
    (two_factor.SETUP_SESSION_KEY), and, while the cached site settings say the policy is on,
    the users it covers (so a policy turned on reaches people already signed in). Those pay one
    small query per page; everyone else nothing.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        files = (f"/{settings.STATIC_URL.strip('/')}/", f"/{settings.MEDIA_URL.strip('/')}/")
        self.open_prefixes = (*_OPEN_PREFIXES, *files)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(self.open_prefixes) and self._setup_needed(request):
            url = reverse("mfa_index")
            if request.headers.get("HX-Request"):
                # An htmx swap would put the set-up page inside a fragment: htmx loads it whole.
                return HttpResponse(status=204, headers={"HX-Redirect": url})
            if request.method == "GET":
                messages.warning(request, "This site requires two-factor authentication: set it up to continue.")
            return HttpResponseRedirect(url)
        return self.get_response(request)

    def _setup_needed(self, request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        if not isinstance(user, User) or not user.is_authenticated:
            return False
        flagged = bool(request.session.get(two_factor.SETUP_SESSION_KEY))
        if not flagged:
            policy = two_factor.two_factor_policy(cached_only=True)
            if policy is None or not two_factor.two_factor_required(user, policy=policy):
                return False
        if two_factor.two_factor_enabled(user):
            if flagged:
                del request.session[two_factor.SETUP_SESSION_KEY]
            return False
        return True
