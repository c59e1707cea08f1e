"""Real-time knobs, read from Django settings with safe defaults.

They live here rather than in punt/settings.py so tests can override each one with the
`settings` fixture and the defaults sit next to the code that uses them.
"""

from __future__ import annotations

from django.conf import settings


def _number(name: str, default: float) -> float:
    return float(getattr(settings, name, default))


def send_timeout() -> float:
    """Seconds a publish may spend handing an event to the channel layer."""
    return _number("PUNT_EVENTS_SEND_TIMEOUT", 2.0)


def replay_size() -> int:
    """Events kept per group for SSE `Last-Event-ID` resume."""
    return int(_number("PUNT_REALTIME_REPLAY_SIZE", 200))


def replay_ttl() -> int:
    """Seconds an event stays resumable."""
    return int(_number("PUNT_REALTIME_REPLAY_TTL", 600))


def presence_ttl() -> float:
    """Seconds a connection stays present without a ping or heartbeat (covers crashed processes)."""
    return _number("PUNT_PRESENCE_TTL_SECONDS", 60)


def sse_keepalive() -> float:
    """Seconds between `: keep-alive` comments on an idle SSE stream (proxies drop silent ones)."""
    return _number("PUNT_SSE_KEEPALIVE_SECONDS", 15)


def sse_max_duration() -> float:
    """Seconds before the server ends an SSE stream; EventSource reconnects with Last-Event-ID,
    which re-checks the session and membership. 0 means never."""
    return _number("PUNT_SSE_MAX_SECONDS", 900)


def sse_retry_ms() -> int:
    """The reconnection delay announced to EventSource clients."""
    return int(_number("PUNT_SSE_RETRY_MS", 3000))


def redis_url() -> str:
    return getattr(settings, "REDIS_URL", "") or ""


def redis_prefix() -> str:
    layers = getattr(settings, "CHANNEL_LAYERS", {})
    prefix = layers.get("default", {}).get("CONFIG", {}).get("prefix") or "punt"
    return f"{prefix}:rt"
