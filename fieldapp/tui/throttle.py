"""Rate limit for unlock attempts: a few free tries, then a doubling wait. No Textual here."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class UnlockThrottle:
    """How many wrong passphrases in a row, and when the last one was entered."""

    failures: int = 0
    last_failure: float = 0.0
    free_attempts: int = 3
    max_delay: float = 300.0

    def delay(self) -> float:
        """Seconds to wait after the last failure: 0, then 2, 4, 8 … up to max_delay."""
        over = self.failures - self.free_attempts
        if over < 0:
            return 0.0
        return min(float(2 ** (over + 1)), self.max_delay)

    def wait_seconds(self, now: float) -> int:
        """Whole seconds until the next attempt is allowed (0: allowed now)."""
        remaining = self.last_failure + self.delay() - now
        return max(0, math.ceil(remaining))

    def failed(self, now: float) -> UnlockThrottle:
        """The state after one more wrong passphrase at time `now`."""
        return replace(self, failures=self.failures + 1, last_failure=now)
