"""Who may open an enrolment connection: per-address budgets and a cap with pre-emption.

The enrolment server (`sync.enrol`) asks the `Gate` before it reads a byte of a new
connection. Nothing here counts guesses (that is the slot's job, and only a wrong proof
counts); the gate only keeps a peer that connects and then abandons or stays silent from
holding the station's attention:

- each source address may hold `MAX_PER_ADDRESS` connections at once, and open
  `ADDRESS_BURST` in a burst and `ADDRESS_RATE` a second after that (a token bucket);
  an IPv6 address counts as its /64, which one host on a LAN can fill with addresses
  (a link-local one as itself);
- at most `MAX_CONNECTIONS` are served at once; one more pre-empts the oldest connection
  that has not proven the code, so a crowd of silent connections cannot keep the real
  joiner out.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

MAX_CONNECTIONS = 32
MAX_PER_ADDRESS = 4
ADDRESS_BURST = 20
ADDRESS_RATE = 0.5
#: Budgets remembered at most; idle ones are forgotten first.
MAX_ADDRESSES = 4096

BUSY_FROM_ADDRESS = "too many enrolment connections from this address at once; close the others and try again"
RATE_FROM_ADDRESS = "too many enrolment attempts from this address; wait a few seconds and try again"
STATION_BUSY = "the station is busy with other enrolments; try again in a minute"

K = TypeVar("K", bound=Hashable)


def source(address: str) -> str:
    """The unit budgets are kept for: the IPv4 address, or the /64 of an IPv6 address."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        if not ip.is_link_local:  # every host's link-local address shares fe80::/64
            return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


@dataclass
class _Budget:
    tokens: float
    stamp: float
    open: int = 0
    warned: bool = False


@dataclass(frozen=True)
class Admission(Generic[K]):
    """The gate's answer for one new connection."""

    refusal: str | None = None  # why it is turned away (sent to the peer), or None
    evicted: K | None = None  # the connection to close to make room for it
    warn: bool = False  # first refusal of a throttled address: worth telling the supervisor


class Gate(Generic[K]):
    """Admits connections (each named by a key) within per-address budgets and a total cap."""

    def __init__(
        self,
        *,
        max_connections: int = MAX_CONNECTIONS,
        max_per_address: int = MAX_PER_ADDRESS,
        burst: int = ADDRESS_BURST,
        rate: float = ADDRESS_RATE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_connections, self.max_per_address = max_connections, max_per_address
        self.burst, self.rate, self._clock = burst, rate, clock
        self._open: dict[K, tuple[str, bool]] = {}  # key -> (source, proven), oldest first
        self._budgets: dict[str, _Budget] = {}

    def __len__(self) -> int:
        return len(self._open)

    def admit(self, key: K, address: str) -> Admission[K]:
        """Let `key` (from `address`) in, maybe at the expense of the oldest unproven one."""
        unit = source(address)
        budget = self._budget(unit)
        refusal = (
            BUSY_FROM_ADDRESS
            if budget.open >= self.max_per_address
            else RATE_FROM_ADDRESS
            if budget.tokens < 1
            else None
        )
        if refusal is not None:
            warn, budget.warned = not budget.warned, True
            return Admission(refusal, warn=warn)
        budget.warned = False
        evicted = None
        if len(self._open) >= self.max_connections:
            evicted = next(iter(self.unproven()), None)
            if evicted is None:
                return Admission(STATION_BUSY)
            self.release(evicted)
        budget.tokens -= 1
        budget.open += 1
        self._open[key] = (unit, False)
        return Admission(evicted=evicted)

    def prove(self, key: K) -> None:
        """`key` proved the code: it is never pre-empted."""
        if key in self._open:
            self._open[key] = (self._open[key][0], True)

    def unproven(self) -> list[K]:
        """The connections open that have not proven the code, oldest first."""
        return [key for key, (_, proven) in self._open.items() if not proven]

    def release(self, key: K) -> None:
        """`key` is closed (again is harmless)."""
        held = self._open.pop(key, None)
        if held is not None and held[0] in self._budgets:
            self._budgets[held[0]].open -= 1

    def _budget(self, unit: str) -> _Budget:
        now = self._clock()
        budget = self._budgets.get(unit)
        if budget is None:
            if len(self._budgets) >= MAX_ADDRESSES:
                self._forget(now)
            budget = self._budgets[unit] = _Budget(float(self.burst), now)
        budget.tokens = min(float(self.burst), budget.tokens + (now - budget.stamp) * self.rate)
        budget.stamp = now
        return budget

    def _forget(self, now: float) -> None:
        """Drop budgets of addresses with nothing open, refilled ones first."""
        idle = {u: b for u, b in self._budgets.items() if not b.open}
        full = [u for u, b in idle.items() if b.tokens + (now - b.stamp) * self.rate >= self.burst]
        for unit in full or list(idle):
            del self._budgets[unit]
