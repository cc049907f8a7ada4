"""Where the time comes from. Business code never reads the wall clock: it asks the clock it was
given (`Core.clock`, built once at start-up), so that a test can set the time and nothing
depends on the day it runs. `SystemClock` is the only reader of the wall clock
(tests/test_clock_sources.py checks it)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The present moment, timezone-aware, in UTC."""
        ...


class SystemClock:
    """The wall clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)
