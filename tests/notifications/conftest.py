from __future__ import annotations

# The chat tests' in-memory channel layer fixture: notifications travel on the same bus.
from tests.chat.conftest import fresh_layer  # noqa: F401
