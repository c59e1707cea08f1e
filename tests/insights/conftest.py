"""A controlled clock: history is built through the services at chosen instants."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest


class Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def set(self, when: datetime) -> datetime:
        self.now = when
        return when

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Iterator[Clock]:
    """`timezone.now()` answers what the test sets: `clock.set(...)`, `clock.advance(days=1)`."""
    fake = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))  # a Monday
    with mock.patch("django.utils.timezone.now", fake):
        yield fake
