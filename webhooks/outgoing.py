"""Sending one outgoing webhook request: the SSRF guard, the signature and one deadline for all of it.

The guard resolves the host once, refuses loopback, private, link-local and other
non-public addresses (unless the site setting `webhooks_allow_private` or the environment's
PUNT_WEBHOOKS_ALLOW_PRIVATE allows them), and then connects to
the very address it checked, so a DNS answer that changes between the check and the
connection (DNS rebinding) cannot smuggle a request to an internal service. Redirects are
never followed for the same reason.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from accounts.services import system_settings

USER_AGENT = "PUNT-Webhooks/1.0"
SIGNATURE_HEADER = "X-Punt-Signature-256"
RESPONSE_KEEP_BYTES = 2048  # of the receiver's answer, for the delivery log

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UrlRefused(Exception):
    """The URL may not be called: wrong scheme, no host, or a non-public address."""


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _blocked_reason(address: Address) -> str | None:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private"
    if address.is_multicast or address.is_unspecified or address.is_reserved or not address.is_global:
        return "non-public"
    return None


def private_addresses_allowed() -> bool:
    """Whether hooks may call loopback, private and link-local addresses.

    Allowed if either the environment (PUNT_WEBHOOKS_ALLOW_PRIVATE) or the site settings an
    admin changes at run time say so; the site setting's default is the environment's value.
    """
    if settings.PUNT_WEBHOOKS_ALLOW_PRIVATE:
        return True
    return bool(system_settings().webhooks_allow_private)


def check_address(address: Address, *, allow_private: bool | None = None) -> None:
    reason = _blocked_reason(address)
    if reason is None:
        return
    if allow_private is None:
        allow_private = private_addresses_allowed()
    if not allow_private:
        raise UrlRefused(f"{address} is a {reason} address; webhooks may only call public addresses.")


def split_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or UrlRefused."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced "[" of an IPv6 literal, for one
        raise UrlRefused("This is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UrlRefused("Use an http:// or https:// URL.")
    if not parts.hostname:
        raise UrlRefused("The URL has no host.")
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        raise UrlRefused("The URL has an invalid port.") from None
    return scheme, parts.hostname, port


def resolve(host: str, port: int) -> list[Address]:
    """Every address `host` resolves to (a literal IP resolves to itself); OSError if none."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    # Strip an IPv6 zone ("fe80::1%eth0") before parsing.
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))


def check_url(url: str, *, require_resolution: bool) -> list[Address]:
    """Refuse a URL that points at a non-public address; returns the vetted addresses.

    When the host does not resolve: UrlRefused if `require_resolution` (sending), else []
    (subscribing to a host that is not live yet is allowed; sending re-checks).
    """
    _scheme, host, port = split_url(url)
    try:
        addresses = resolve(host, port)
    except (OSError, UnicodeError) as exc:  # UnicodeError: a host name the IDNA codec refuses
        if require_resolution:
            raise UrlRefused(f"Could not resolve {host}: {exc}") from None
        return []
    if any(_blocked_reason(address) is not None for address in addresses):
        # Only a non-public address needs the settings read (a cache hit, or one query).
        allow_private = private_addresses_allowed()
        for address in addresses:
            check_address(address, allow_private=allow_private)
    return addresses


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the vetted address; `expire()` (the deadline's watchdog) breaks off whatever
    the connection is doing then: connecting, sending, or reading a trickled answer."""

    def __init__(self, host: str, port: int, *, address: Address, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._expired = threading.Event()
        # Kept apart from self.sock, which http.client drops once the response owns the socket.
        self._watched: socket.socket | None = None

    def _open(self) -> socket.socket:
        sock = socket.create_connection((str(self._address), self.port), self.timeout)
        self._watch(sock)
        return sock

    def _watch(self, sock: socket.socket) -> None:
        # Watched first, checked second: an expire() racing this either sees the socket or
        # has already set the flag.
        self._watched = sock
        if self._expired.is_set():
            raise TimeoutError("deadline passed")

    def connect(self) -> None:
        self.sock = self._open()

    def expire(self) -> None:
        self._expired.set()
        if self._watched is not None:
            # socket.socket's own shutdown, so an SSL socket's fd is cut under its TLS layer;
            # OSError: already closed.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self._watched, socket.SHUT_RDWR)

    @property
    def expired(self) -> bool:
        return self._expired.is_set()


class _PinnedHTTPSConnection(_PinnedHTTPConnection, http.client.HTTPSConnection):
    def connect(self) -> None:
        context = ssl.create_default_context()
        # The certificate is checked against the URL's host name, not the pinned address. The
        # handshake runs once the TLS socket is watched, so a trickled handshake is cut off too.
        tls = context.wrap_socket(self._open(), server_hostname=self.host, do_handshake_on_connect=False)
        self._watch(tls)
        tls.do_handshake()
        self.sock = tls


@dataclass
class SendResult:
    status_code: int | None = None
    response_body: str = ""
    error: str = ""
    duration_ms: int = 0
    # True when retrying cannot help (the URL is refused); the delivery fails at once.
    permanent: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def send(*, url: str, body: bytes, headers: dict[str, str], timeout: float) -> SendResult:
    """POST `body` to `url` through the SSRF guard, all of it (resolving, connecting, sending,
    reading the answer) within `timeout` seconds. Never raises: failures come back in the result."""
    started = time.monotonic()

    def elapsed() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        scheme, host, port = split_url(url)
        addresses = check_url(url, require_resolution=True)
    except UrlRefused as exc:
        return SendResult(error=str(exc)[:500], duration_ms=elapsed(), permanent=True)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    connection_class = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    connection = connection_class(host, port, address=addresses[0], timeout=timeout)
    # Socket timeouts bound each read and write, not the whole: a receiver trickling a byte at
    # a time would hold the worker for hours. A watchdog cuts the connection at the deadline.
    watchdog = threading.Timer(max(0.0, timeout - (time.monotonic() - started)), connection.expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        connection.request("POST", target, body=body, headers={"User-Agent": USER_AGENT, **headers})
        response = connection.getresponse()
        answer = response.read(RESPONSE_KEEP_BYTES).decode("utf-8", errors="replace")
        error = ""
        if 300 <= response.status < 400:
            error = "Redirects are not followed; use the final URL."
        elif not 200 <= response.status < 300:
            error = f"The receiver answered {response.status}."
        return SendResult(status_code=response.status, response_body=answer, error=error, duration_ms=elapsed())
    except (OSError, http.client.HTTPException) as exc:
        # Timeouts, refused connections, TLS errors, malformed answers: all worth a retry.
        if connection.expired:
            return SendResult(error=f"The receiver did not answer within {timeout:g} s.", duration_ms=elapsed())
        return SendResult(error=f"{type(exc).__name__}: {exc}"[:500], duration_ms=elapsed())
    finally:
        watchdog.cancel()
        connection.close()
