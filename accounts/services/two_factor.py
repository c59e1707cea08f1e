"""Two-factor sign-in: who must have it, and the API's second step.

The authenticators themselves (TOTP secrets, recovery codes, WebAuthn keys) are
django-allauth's `allauth.mfa` models, managed through its pages; the web sign-in asks for
the second factor in allauth's login stage. This module holds what allauth has no notion of:

- The site's policy (SystemSettings.require_two_factor: "off", "admins", "everyone").
- `POST /api/v1/auth/login` for an account with two-factor answers a challenge instead of
  tokens: a signed token naming the account, valid CHALLENGE_SECONDS and once, which
  `POST /api/v1/auth/login/2fa` exchanges, with a code from the authenticator app or an
  unused recovery code, for the same token pair. WebAuthn needs a browser ceremony, so the
  API offers the codes only.
- Wrong codes count per account, from any challenge and from the web's second step alike:
  past CODE_FAILURE_LIMIT in a window of CODE_WINDOW_SECONDS the answer is 429 with
  Retry-After (a form error on the web), so a stolen password does not buy unlimited
  guesses at a 6-digit code.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest

from accounts.models import User
from accounts.services.login import _digest, _incr
from punt.errors import Forbidden, RateLimited, Unauthenticated

POLICY_OFF = "off"
POLICY_ADMINS = "admins"
POLICY_EVERYONE = "everyone"
POLICIES = (POLICY_OFF, POLICY_ADMINS, POLICY_EVERYONE)

CHALLENGE_SECONDS = 5 * 60
CODE_FAILURE_LIMIT = 5
CODE_WINDOW_SECONDS = 5 * 60
_CHALLENGE_SALT = "punt.accounts.two-factor-challenge"

# The second factors a sign-in asks for. Recovery codes alone never make an account "two-factor":
# allauth only creates them next to one of these.
FACTOR_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)

METHOD_TOTP = "totp"
METHOD_RECOVERY_CODE = "recovery_code"

CHALLENGE_INVALID = "This two-factor challenge is invalid, expired or already used. Sign in again."
SETUP_REQUIRED = (
    "This site requires two-factor authentication for your account. Set it up in the web app "
    "(Settings, Two-factor authentication), then sign in again."
)


# --------------------------------------------------------------------------- policy


# Set in the session at sign-in when the policy asks the user for two-factor and they have none:
# pages then send them to set it up (web.middleware.TwoFactorPolicyMiddleware) at no cost to others.
SETUP_SESSION_KEY = "punt_two_factor_setup"


def two_factor_policy(*, cached_only: bool = False) -> str | None:
    """The site's policy (SystemSettings.require_two_factor). With `cached_only`, None instead
    of a query when the settings are not cached: a page must not pay a query for a policy that
    is almost always off."""
    from accounts.services import _NO_ROW, SYSTEM_SETTINGS_CACHE_KEY, system_settings

    if not cached_only:
        return system_settings().require_two_factor
    cached = cache.get(SYSTEM_SETTINGS_CACHE_KEY)
    if cached is None:
        return None
    policy = POLICY_OFF if cached == _NO_ROW else cached.get("require_two_factor", POLICY_OFF)
    return policy if policy in POLICIES else POLICY_OFF


def two_factor_required(user: User, *, policy: str | None = None) -> bool:
    """Whether the site's policy asks `user` to have a second factor.

    "admins" means site admins: is_staff or is_superuser, which is PUNT's global admin role.
    """
    policy = policy or two_factor_policy()
    if policy == POLICY_EVERYONE:
        return True
    if policy == POLICY_ADMINS:
        return user.has_global_role(User.GlobalRole.ADMIN)
    return False


def two_factor_enabled(user: User) -> bool:
    """Whether `user` has an authenticator app or a security key (one query)."""
    return bool(Authenticator.objects.filter(user_id=user.pk, type__in=FACTOR_TYPES).exists())


def two_factor_setup_needed(user: User) -> bool:
    """The policy asks `user` for two-factor and they have none yet (authenticators are not read
    while the policy leaves `user` out)."""
    return two_factor_required(user) and not two_factor_enabled(user)


def two_factor_setup_flag(sender: Any, *, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    """At sign-in (Django's user_logged_in): flag the session if the policy wants `user` to set up
    two-factor. Nothing is stored otherwise, so other sessions are not written to."""
    session = getattr(request, "session", None)
    if session is not None and isinstance(user, User) and two_factor_setup_needed(user):
        session[SETUP_SESSION_KEY] = True


def authenticator_removable(authenticator: Authenticator) -> bool:
    """Whether removing `authenticator` keeps its owner within the policy (their last factor
    cannot go while the site requires one)."""
    if authenticator.type not in FACTOR_TYPES:
        return True
    user = authenticator.user
    if not two_factor_required(user):
        return True
    others = Authenticator.objects.filter(user_id=user.pk, type__in=FACTOR_TYPES).exclude(pk=authenticator.pk)
    return bool(others.exists())


@dataclass(frozen=True)
class TwoFactorStatus:
    """What the settings page shows about a user's second factors."""

    totp: bool
    webauthn_keys: int
    recovery_codes_left: int | None  # None: no recovery codes
    required: bool

    @property
    def enabled(self) -> bool:
        return self.totp or self.webauthn_keys > 0


def two_factor_status(user: User) -> TwoFactorStatus:
    """`user`'s authenticators, summed up in one query."""
    totp, keys, left = False, 0, None
    for authenticator in Authenticator.objects.filter(user_id=user.pk):
        if authenticator.type == Authenticator.Type.TOTP:
            totp = True
        elif authenticator.type == Authenticator.Type.WEBAUTHN:
            keys += 1
        elif authenticator.type == Authenticator.Type.RECOVERY_CODES:
            left = len(authenticator.wrap().get_unused_codes())
    return TwoFactorStatus(totp=totp, webauthn_keys=keys, recovery_codes_left=left, required=two_factor_required(user))


# --------------------------------------------------------------------------- the API's second step


def api_methods(user: User) -> list[str]:
    """What /api/v1/auth/login/2fa accepts for `user`, in the order clients should offer them."""
    types = set(Authenticator.objects.filter(user_id=user.pk).values_list("type", flat=True))
    methods = []
    if Authenticator.Type.TOTP in types:
        methods.append(METHOD_TOTP)
    if Authenticator.Type.RECOVERY_CODES in types:
        methods.append(METHOD_RECOVERY_CODE)
    return methods


def password_login_check(*, user: User) -> bool:
    """After a correct password on the API: False when the sign-in is complete, True when it
    needs a second step (the caller issues a challenge).

    Raises Forbidden when the policy requires two-factor of an account that has none: the API
    cannot enroll it, and a password alone must not get around the policy (API keys, made
    from the web app once enrolled, are the non-interactive path).
    """
    if two_factor_enabled(user):
        return True
    if two_factor_required(user):
        raise Forbidden(SETUP_REQUIRED, code="two_factor_setup_required")
    return False


def challenge_issue(*, user: User) -> str:
    """A signed challenge for `user`'s second step. It names the account and its token version,
    so a password change or "sign out everywhere" voids it too."""
    return signing.dumps(
        {"u": user.pk, "v": user.token_version, "j": secrets.token_urlsafe(16)},
        salt=_CHALLENGE_SALT,
        compress=True,
    )


def _challenge_read(challenge: str) -> tuple[User, str]:
    try:
        data: Any = signing.loads(challenge or "", salt=_CHALLENGE_SALT, max_age=CHALLENGE_SECONDS)
    except signing.BadSignature:
        raise Unauthenticated(CHALLENGE_INVALID, code="challenge_invalid") from None
    if not isinstance(data, dict) or not isinstance(data.get("j"), str) or not isinstance(data.get("u"), int):
        raise Unauthenticated(CHALLENGE_INVALID, code="challenge_invalid")
    user = User.objects.filter(pk=data["u"], is_active=True).first()
    if user is None or user.token_version != data.get("v") or cache.get(_used_key(data["j"])):
        raise Unauthenticated(CHALLENGE_INVALID, code="challenge_invalid")
    return user, data["j"]


def _used_key(jti: str) -> str:
    return f"punt:2fa-challenge-used:{_digest(jti)}"


def _failures_key(user: User) -> tuple[str, int]:
    start = int(time.time()) // CODE_WINDOW_SECONDS * CODE_WINDOW_SECONDS
    return f"punt:2fa-failures:{user.pk}:{start}", start + CODE_WINDOW_SECONDS


def _code_gate(user: User) -> None:
    key, reset = _failures_key(user)
    if int(cache.get(key, 0)) >= CODE_FAILURE_LIMIT:
        seconds = max(1, reset - int(time.time()))
        message = f"Too many wrong codes for this account. Try again in {seconds} seconds."
        raise RateLimited(message, retry_after=seconds)


def _code_failed(user: User) -> None:
    key, _ = _failures_key(user)
    _incr(key, CODE_WINDOW_SECONDS + 5)


def _code_valid(user: User, code: str) -> Authenticator | None:
    """The authenticator `code` is good for: the app's current code (each accepted once, allauth
    remembers it) or an unused recovery code (spent here, under a row lock)."""
    code = (code or "").strip().replace(" ", "").replace("-", "")
    if not code:
        return None
    authenticators = Authenticator.objects.filter(
        user_id=user.pk, type__in=[Authenticator.Type.TOTP, Authenticator.Type.RECOVERY_CODES]
    )
    # The app's code first: a recovery code is spent only when it is one.
    for authenticator in sorted(authenticators, key=lambda a: a.type != Authenticator.Type.TOTP):
        authenticator.user = user
        if authenticator.wrap().validate_code(code):
            return authenticator
    return None


def code_verify(
    *, user: User, code: str, request: HttpRequest | None = None, reauthentication: bool = False
) -> Authenticator | None:
    """The authenticator `code` proves for `user`, or None (counted as a failure).

    Raises RateLimited while the account has used up its wrong codes. One budget per account
    for the web's second step (accounts.forms.TwoFactorCodeForm) and the API's. A failure is
    announced as allauth announces its own (mfa's authentication_failed), so whoever records
    failed sign-ins (the audit log) hears of both. Precondition: the caller checked the
    password step (a challenge, or allauth's login stage).
    """
    _code_gate(user)
    authenticator = _code_valid(user, code)
    if authenticator is None:
        _code_failed(user)
        main = (
            Authenticator.objects.filter(user_id=user.pk)
            .exclude(type=Authenticator.Type.WEBAUTHN)
            .order_by("-type")  # totp before recovery_codes
            .first()
        )
        if main is not None:
            mfa_signals.authentication_failed.send(
                sender=Authenticator,
                request=request,
                user=user,
                authenticator=main,
                reauthentication=reauthentication,
            )
    return authenticator


def challenge_complete(*, challenge: str, code: str, request: HttpRequest | None = None) -> User:
    """The account that `challenge` names, once `code` proves its second factor.

    Raises Unauthenticated (401) for a challenge that is forged, expired, already used or whose
    account changed its password, and for a wrong code; RateLimited (429) while the account has
    used up its wrong codes. The challenge is spent on success only: a typo does not make the
    user type the password again.
    """
    user, jti = _challenge_read(challenge)
    authenticator = code_verify(user=user, code=code, request=request)
    if authenticator is None:
        raise Unauthenticated("The code is wrong or was already used.", code="code_invalid")
    # Two requests with the same challenge and good codes: only the first one signs in.
    if not cache.add(_used_key(jti), 1, timeout=CHALLENGE_SECONDS + 5):
        raise Unauthenticated(CHALLENGE_INVALID, code="challenge_invalid")
    authenticator.record_usage()
    return user
