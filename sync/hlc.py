"""Hybrid logical clock: wall-clock milliseconds plus a counter, packed in one int.

A stamp is ``wall_ms << 16 | counter``. Stamps from other devices move the local
clock forward, except those further in the future than `max_future_ms`: those are
refused with a reason a person can act on (usually a device's wrong clock).
"""

from __future__ import annotations

import time
from collections.abc import Callable

COUNTER_BITS = 16
COUNTER_MASK = (1 << COUNTER_BITS) - 1
#: Remote stamps more than this far ahead of our wall clock are refused.
DEFAULT_MAX_FUTURE_MS = 10 * 60 * 1000


def wall_ms(stamp: int) -> int:
    """The wall-clock part of a stamp, in milliseconds since the epoch."""
    return stamp >> COUNTER_BITS


def make_stamp(wall: int, counter: int) -> int:
    """Pack a wall time and counter into one stamp."""
    return (wall << COUNTER_BITS) | counter


class ClockSkewError(ValueError):
    """A remote stamp is too far in the future to accept."""


def describe_future(ms: int) -> str:
    """'3 h 12 min' style text for a duration."""
    minutes = ms // 60000
    if minutes < 60:
        return f"{max(minutes, 1)} min"
    return f"{minutes // 60} h {minutes % 60} min"


class HybridClock:
    """The local HLC; `now()` for local events, `observe()` for remote stamps."""

    def __init__(
        self,
        last: int = 0,
        wall: Callable[[], int] | None = None,
        max_future_ms: int = DEFAULT_MAX_FUTURE_MS,
    ) -> None:
        self.last = last
        self._wall = wall or (lambda: time.time_ns() // 1_000_000)
        self.max_future_ms = max_future_ms

    def now(self) -> int:
        """A stamp greater than every stamp seen so far."""
        physical = self._wall()
        if physical > wall_ms(self.last):
            self.last = make_stamp(physical, 0)
        else:
            counter = (self.last & COUNTER_MASK) + 1
            if counter > COUNTER_MASK:  # counter exhausted: borrow the next millisecond
                self.last = make_stamp(wall_ms(self.last) + 1, 0)
            else:
                self.last = make_stamp(wall_ms(self.last), counter)
        return self.last

    def check(self, stamp: int, author: str) -> None:
        """Raise ClockSkewError if `stamp` is too far ahead of this device's clock."""
        ahead = wall_ms(stamp) - self._wall()
        if ahead > self.max_future_ms:
            raise ClockSkewError(
                f"operation from device {author} is stamped {describe_future(ahead)} in the future; "
                "check the date and time on that device (or on this one). "
                "It was not applied and will be accepted once the clocks agree."
            )

    def observe(self, stamp: int) -> None:
        """Move forward past an accepted remote stamp."""
        if stamp > self.last:
            self.last = stamp
