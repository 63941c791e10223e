"""Throw-away Linux network namespaces joined by a bridge, for real-network tests.

`namespaces(n)` builds, with `ip` (needs root):

    hub namespace:  bridge br0, one veth end per device namespace
    device i:       eth0 with 10.231.0.(i+1)/24, lo up, IPv6 off

The bridge lives in its own namespace, so nothing is added to the machine's own
network: no traffic (multicast included) can reach a real interface. Names carry
a random suffix so parallel runs do not clash, and everything is deleted on exit,
also when the body fails (deleting a namespace deletes its interfaces).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

SUBNET = "10.231.0"
IP_TIMEOUT = 10


@dataclass(frozen=True)
class Namespace:
    """One device's namespace and its address on the test network."""

    name: str
    address: str

    def command(self, argv: Sequence[str]) -> list[str]:
        """`argv` run inside this namespace."""
        return ["ip", "netns", "exec", self.name, *argv]


def unavailable_reason() -> str | None:
    """Why namespace tests cannot run here, or None if they can."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "network namespace tests need root (CI runs them as root)"
    if shutil.which("ip") is None:
        return "the `ip` command (iproute2) is not installed"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, timeout=IP_TIMEOUT)
    if probe.returncode != 0:
        return f"`ip netns` is unavailable: {probe.stderr.strip()}"
    return None


def skip_unless_available() -> None:
    """Skip the calling test, with the reason, if namespaces cannot be made."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)


def _ip(*args: str) -> None:
    result = subprocess.run(["ip", *args], capture_output=True, text=True, timeout=IP_TIMEOUT)
    if result.returncode != 0:
        raise RuntimeError(f"`ip {' '.join(args)}` failed: {result.stderr.strip()}")


def _sysctl(ns: str, setting: str) -> None:
    subprocess.run(
        ["ip", "netns", "exec", ns, "sysctl", "-q", "-w", setting], capture_output=True, timeout=IP_TIMEOUT
    )


@contextmanager
def namespaces(count: int) -> Iterator[list[Namespace]]:
    """`count` namespaces on one bridge, addresses 10.231.0.1 upwards; removed on exit."""
    if not 1 <= count <= 200:
        raise ValueError("between 1 and 200 namespaces")
    suffix = secrets.token_hex(3)
    hub = f"fa-hub-{suffix}"
    made: list[str] = []
    devices = [Namespace(f"fa-{i}-{suffix}", f"{SUBNET}.{i + 1}") for i in range(count)]
    try:
        _ip("netns", "add", hub)
        made.append(hub)
        _sysctl(hub, "net.ipv6.conf.all.disable_ipv6=1")
        _ip("-n", hub, "link", "add", "br0", "type", "bridge")
        _ip("-n", hub, "link", "set", "br0", "up")
        for i, device in enumerate(devices):
            _ip("netns", "add", device.name)
            made.append(device.name)
            _sysctl(device.name, "net.ipv6.conf.all.disable_ipv6=1")
            _ip(
                "-n",
                hub,
                "link",
                "add",
                f"v{i}",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                device.name,
            )
            _ip("-n", hub, "link", "set", f"v{i}", "master", "br0", "up")
            _ip("-n", device.name, "addr", "add", f"{device.address}/24", "dev", "eth0")
            _ip("-n", device.name, "link", "set", "eth0", "up")
            _ip("-n", device.name, "link", "set", "lo", "up")
        yield devices
    finally:
        for name in reversed(made):
            subprocess.run(["ip", "netns", "del", name], capture_output=True, timeout=IP_TIMEOUT)
