"""Sign-in throttling and known devices: the one rule every login form and endpoint follows.

Counters live in the shared cache (Redis when REDIS_URL is set), so every process sees them:

- Per address: failed sign-ins from one IP in a 15-minute window (seed 000's "10 per 15
  minutes", reported as X-RateLimit-*). Past the limit that address is refused.
- Per account: failed sign-ins for one username, from any address. The first
  ACCOUNT_FREE_FAILURES cost nothing; each further one makes the account wait twice as long
  as the one before (1 s, 2 s, 4 s, ... at most ACCOUNT_MAX_WAIT), and one attempt is let
  through per wait. Spreading guesses over many addresses gains nothing, and what an attacker
  can do to the owner is a wait of minutes, not a lock. Unknown usernames are counted the
  same way, so the answers tell nothing about which accounts exist.
- Known devices (OWASP's "device cookies"): a successful sign-in sets a signed cookie naming
  the account. A sign-in to that account carrying it skips both limits above, so neither
  someone failing behind the same proxy nor an attacker hammering the account locks its
  owner out. After DEVICE_FAILURE_LIMIT failures the cookie is no longer honoured, so a
  stolen one is no master key.

Other credentials (refresh tokens, API keys, JWTs) are long random or signed secrets: a
failure is garbage or a forgery, never a good guess, and a valid one is never refused
because a neighbour failed. Their failures are counted per address and, past
CREDENTIAL_FAILURE_LIMIT in the window, answered 429 instead of 401.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth import authenticate
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest

from accounts.models import User
from punt.errors import RateLimited

ADDRESS_FAILURE_LIMIT = 10
ADDRESS_WINDOW_SECONDS = 15 * 60
ACCOUNT_FREE_FAILURES = 10
ACCOUNT_FIRST_WAIT = 1  # seconds, after the first failure past the free ones
ACCOUNT_MAX_WAIT = 15 * 60
# An account's failures are forgotten this long after the last one.
ACCOUNT_MEMORY_SECONDS = 24 * 3600
CREDENTIAL_FAILURE_LIMIT = 30

DEVICE_COOKIE = "punt_device"
DEVICE_COOKIE_MAX_AGE = int(timedelta(days=180).total_seconds())
DEVICE_FAILURE_LIMIT = 10
_DEVICE_SALT = "punt.accounts.known-device"


@dataclass(frozen=True)
class AddressBudget:
    """What is left of an address's failed sign-ins in the current window."""

    limit: int
    remaining: int
    reset: int  # Unix time when the window ends


class LoginThrottled(RateLimited):
    """A sign-in refused before the password was checked (429 with Retry-After)."""

    def __init__(self, message: str, *, retry_after: int, budget: AddressBudget, by_address: bool) -> None:
        super().__init__(message, retry_after=retry_after)
        self.budget = budget
        self.by_address = by_address


@dataclass(frozen=True)
class LoginResult:
    user: User | None  # None: wrong username or password (or an inactive account)
    budget: AddressBudget
    device_cookie: str | None  # the known-device cookie to set, after a success


def _digest(text: str) -> str:
    # Cache keys stay short and printable whatever the client sent.
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _login_name(username: str) -> str:
    # User names are case-insensitive (PuntUserManager.get_by_natural_key).
    return (username or "").strip().lower()


# --------------------------------------------------------------------------- counters


def _window(kind: str, ip: str) -> tuple[str, int]:
    start = int(time.time()) // ADDRESS_WINDOW_SECONDS * ADDRESS_WINDOW_SECONDS
    return f"punt:{kind}:{_digest(ip)}:{start}", start + ADDRESS_WINDOW_SECONDS


def _incr(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=timeout)
        return 1


def _address_budget(ip: str, failures: int | None = None) -> AddressBudget:
    key, reset = _window("login-ip", ip)
    if failures is None:
        failures = int(cache.get(key, 0))
    return AddressBudget(ADDRESS_FAILURE_LIMIT, max(0, ADDRESS_FAILURE_LIMIT - failures), reset)


def _address_failed(ip: str) -> AddressBudget:
    key, _ = _window("login-ip", ip)
    return _address_budget(ip, _incr(key, ADDRESS_WINDOW_SECONDS + 5))


def _account_keys(name: str) -> tuple[str, str]:
    digest = _digest(name)
    return f"punt:login-account:{digest}:failures", f"punt:login-account:{digest}:turn"


def _account_wait(failures: int) -> int:
    """Seconds an account waits after its `failures`-th failure (0 while failures are free)."""
    past = failures - ACCOUNT_FREE_FAILURES
    if past <= 0:
        return 0
    return int(min(ACCOUNT_FIRST_WAIT * 2 ** min(past - 1, 30), ACCOUNT_MAX_WAIT))


def _account_gate(name: str, budget: AddressBudget) -> None:
    """Let the attempt through, or raise LoginThrottled while the account waits.

    One attempt per wait: the turn is claimed with an atomic add(), so a burst of parallel
    guesses gets one answer, not one each.
    """
    failures_key, turn_key = _account_keys(name)
    wait = _account_wait(int(cache.get(failures_key, 0)))
    if not wait:
        return
    now = time.time()
    if cache.add(turn_key, now + wait, timeout=wait):
        return
    until = float(cache.get(turn_key) or now + 1)
    seconds = max(1, math.ceil(until - now))
    raise LoginThrottled(
        f"Too many failed sign-ins for this account. Try again in {seconds} seconds.",
        retry_after=seconds,
        budget=budget,
        by_address=False,
    )


def _account_failed(name: str) -> None:
    failures_key, turn_key = _account_keys(name)
    failures = _incr(failures_key, ACCOUNT_MEMORY_SECONDS)
    cache.touch(failures_key, ACCOUNT_MEMORY_SECONDS)
    wait = _account_wait(failures)
    if wait:
        cache.set(turn_key, time.time() + wait, timeout=wait)


def _account_forget(name: str) -> None:
    cache.delete_many(list(_account_keys(name)))


# --------------------------------------------------------------------------- known devices


def _device_key(device: str) -> str:
    return f"punt:login-device:{_digest(device)}:failures"


def _known_device(cookie: str | None, name: str) -> str | None:
    """The device id in a valid known-device cookie for account `name`, else None."""
    if not cookie:
        return None
    try:
        data: Any = signing.loads(cookie, salt=_DEVICE_SALT, max_age=DEVICE_COOKIE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("u") != name or not isinstance(data.get("d"), str):
        return None
    device = str(data["d"])
    if int(cache.get(_device_key(device), 0)) >= DEVICE_FAILURE_LIMIT:
        return None
    return device


def _device_cookie(name: str, device: str | None) -> str:
    return signing.dumps({"u": name, "d": device or secrets.token_urlsafe(16)}, salt=_DEVICE_SALT)


# --------------------------------------------------------------------------- the rule


def login_attempt(
    *, username: str, password: str, ip: str, device_cookie: str | None, request: HttpRequest | None = None
) -> LoginResult:
    """Check a username and password under the sign-in limits (see the module docstring).

    Raises LoginThrottled (429) without looking at the password while the address or the
    account must wait; otherwise returns the user (None when the credentials are wrong) and
    the address's remaining budget. `request` is handed to the authentication backends.
    Every login surface (JWT, PUNT's session sign-in, the web form) goes through here.
    """
    name = _login_name(username)
    device = _known_device(device_cookie, name)
    budget = _address_budget(ip)
    if device is None:
        if budget.remaining <= 0:
            seconds = max(1, budget.reset - int(time.time()))
            raise LoginThrottled(
                f"Too many requests. Try again in {seconds} seconds.",
                retry_after=seconds,
                budget=budget,
                by_address=True,
            )
        _account_gate(name, budget)
    user = authenticate(request, username=username, password=password)
    if user is None:
        budget = _address_failed(ip)
        _account_failed(name)
        if device is not None:
            _incr(_device_key(device), DEVICE_COOKIE_MAX_AGE)
        return LoginResult(user=None, budget=budget, device_cookie=None)
    assert isinstance(user, User)
    _account_forget(name)
    if device is not None:
        cache.delete(_device_key(device))
    return LoginResult(user=user, budget=budget, device_cookie=_device_cookie(name, device))


def credential_failed(*, ip: str) -> None:
    """Count a refresh token, API key or JWT that was refused for `ip`.

    Raises RateLimited (429, instead of the caller's 401) once the address has sent more
    than CREDENTIAL_FAILURE_LIMIT of them in the window. Expired and revoked credentials are
    not meant to be counted: clients present those in good faith.
    """
    key, reset = _window("credential-ip", ip)
    if _incr(key, ADDRESS_WINDOW_SECONDS + 5) > CREDENTIAL_FAILURE_LIMIT:
        seconds = max(1, reset - int(time.time()))
        raise RateLimited(
            f"Too many invalid credentials from your address. Try again in {seconds} seconds.", retry_after=seconds
        )
