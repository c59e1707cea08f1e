"""The embedded (no Redis) channel layer: Channels' in-memory layer, tuned for many sockets."""

from __future__ import annotations

import time

from channels.layers import InMemoryChannelLayer as ChannelsInMemoryChannelLayer


class InMemoryChannelLayer(ChannelsInMemoryChannelLayer):
    """Channels' in-memory layer that sweeps expired messages at most once per interval.

    The stock layer walks every channel's queue on every receive and every group send, so one
    event fanned out to a thousand sockets did a million queue checks. Messages expire after
    a minute; sweeping once a second changes nothing a client can see.
    """

    sweep_interval = 1.0

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._last_sweep = 0.0

    def _clean_expired(self) -> None:
        now = time.monotonic()
        if now - self._last_sweep < self.sweep_interval:
            return
        self._last_sweep = now
        super()._clean_expired()
