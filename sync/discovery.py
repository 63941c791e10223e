"""Zeroconf (mDNS/DNS-SD) on one interface address: advertise a service, browse for one.

Used by enrolment (``_fieldapp-enrol._tcp.local.``, see `sync.enrol`); every helper
takes the service type, so LAN sync can use it for ``_fieldapp._tcp.local.`` too.
Zeroconf only ever runs on the address the caller names, and is imported only
when it is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import socket
from collections.abc import Callable
from typing import Any

#: A test of an instance's TXT properties: is this the service we look for?
Wanted = Callable[[dict[str, str | None]], bool]


class Advertiser:
    """At most one advertised instance of `service_type` at a time, on the address `host` only."""

    def __init__(self, service_type: str, host: str) -> None:
        from zeroconf.asyncio import AsyncZeroconf

        self.service_type, self.host = service_type, host
        self._zc: Any = AsyncZeroconf(interfaces=[host])
        self._info: Any = None

    async def publish(self, prefix: str, port: int, properties: dict[str, str]) -> None:
        """Advertise `port` with `properties` as a fresh instance named ``<prefix>-<random>``.

        Whatever was advertised before is withdrawn first.
        """
        from zeroconf.asyncio import AsyncServiceInfo

        await self.withdraw()
        token = secrets.token_hex(4)
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._info = AsyncServiceInfo(
            self.service_type,
            f"{prefix}-{token}.{self.service_type}",
            port=port,
            properties=properties,
            server=f"fieldapp-{token}.local.",
            addresses=[socket.inet_pton(family, self.host)],
        )
        # The coroutine returns the task that sends the announcements: awaited too, so that a
        # withdrawal right after cannot overtake them.
        await (await self._zc.async_register_service(self._info))

    async def withdraw(self) -> None:
        """Stop advertising the current instance, if any (best effort), and wait until the
        goodbye packets (the records with TTL 0) are sent: browsers drop the instance at once
        instead of when its records expire (`tests/test_discovery_goodbye.py`)."""
        old, self._info = self._info, None
        if old is not None:
            with contextlib.suppress(Exception):
                await (await self._zc.async_unregister_service(old))

    async def close(self) -> None:
        """Stop zeroconf on this address altogether."""
        await self._zc.async_close()


async def browse(service_type: str, interface: str, wanted: Wanted, timeout: float) -> tuple[str, int]:
    """(address, port) of the first `service_type` instance whose properties are `wanted`.

    Browses on the address `interface` only; TimeoutError when none turned up within `timeout`.
    """
    from zeroconf import IPVersion, ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

    aiozc = AsyncZeroconf(interfaces=[interface])
    found: asyncio.Future[tuple[str, int]] = asyncio.get_running_loop().create_future()
    tasks: set[asyncio.Task[None]] = set()

    async def check(service_type: str, name: str) -> None:
        info = AsyncServiceInfo(service_type, name)
        if not await info.async_request(aiozc.zeroconf, 3000):
            return
        addresses = info.parsed_addresses(IPVersion.V4Only) or info.parsed_addresses()
        if wanted(info.decoded_properties) and addresses and info.port and not found.done():
            found.set_result((addresses[0], int(info.port)))

    def changed(zeroconf: Any, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated):
            task = asyncio.get_running_loop().create_task(check(service_type, name))
            tasks.add(task)
            task.add_done_callback(tasks.discard)

    browser = AsyncServiceBrowser(aiozc.zeroconf, [service_type], handlers=[changed])
    try:
        return await asyncio.wait_for(found, timeout)
    finally:
        await browser.async_cancel()
        for task in list(tasks):
            task.cancel()
        await aiozc.async_close()


class PeerBrowser:
    """A live list of `service_type` instances whose properties are `wanted`, on `interface` only.

    `peers` maps instance name to ((address, port), properties); instances that
    leave are removed. Used by `fieldapp sync` (collect for a moment, then sync)
    and by the TUI's sync screen (show peers as they come and go).
    """

    def __init__(self, service_type: str, interface: str, wanted: Wanted) -> None:
        self.service_type, self.interface, self.wanted = service_type, interface, wanted
        self.peers: dict[str, tuple[tuple[str, int], dict[str, str | None]]] = {}
        self.changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._zc: Any = None
        self._browser: Any = None

    async def start(self) -> None:
        from zeroconf import IPVersion, ServiceStateChange
        from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo, AsyncZeroconf

        self._zc = AsyncZeroconf(interfaces=[self.interface])

        async def check(service_type: str, name: str) -> None:
            info = AsyncServiceInfo(service_type, name)
            if not await info.async_request(self._zc.zeroconf, 3000):
                return
            addresses = info.parsed_addresses(IPVersion.V4Only) or info.parsed_addresses()
            properties = info.decoded_properties
            if addresses and info.port and self.wanted(properties):
                self.peers[name] = ((addresses[0], int(info.port)), properties)
                self.changed.set()

        def on_change(zeroconf: Any, service_type: str, name: str, state_change: ServiceStateChange) -> None:
            if state_change is ServiceStateChange.Removed:
                if self.peers.pop(name, None) is not None:
                    self.changed.set()
                return
            task = asyncio.get_running_loop().create_task(check(service_type, name))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self._browser = AsyncServiceBrowser(self._zc.zeroconf, [self.service_type], handlers=[on_change])

    async def close(self) -> None:
        if self._browser is not None:
            await self._browser.async_cancel()
        for task in list(self._tasks):
            task.cancel()
        if self._zc is not None:
            await self._zc.async_close()
