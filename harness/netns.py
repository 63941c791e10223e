"""Throw-away Linux network namespaces joined by a bridge, for real-network tests.

`namespaces(n)` builds, with `ip` (needs root):

    hub namespace:  bridge br0, one veth end per device namespace
    device i:       eth0 with 10.231.0.(i+1)/24, lo up, IPv6 off

The bridge lives in its own namespace, so nothing is added to the machine's own
network: no traffic (multicast included) can reach a real interface. Names carry
a random suffix so parallel runs do not clash, and everything is deleted on exit,
also when the body fails (deleting a namespace deletes its interfaces).

`Running` runs a command (`fieldapp_in(ns, ...)`: fieldapp inside a namespace) in
the background and hands out its JSON output lines with timeouts; `link_bytes`,
`set_link` and `throttle` read and shape a namespace's link.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness import PASSPHRASE

SUBNET = "10.231.0"
IP_TIMEOUT = 10
ROOT = Path(__file__).resolve().parent.parent
PROCESS_TIMEOUT = 60


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


# ---------------------------------------------------------------- processes in namespaces


def fieldapp_env(passphrase: str = PASSPHRASE) -> dict[str, str]:
    """The environment for a fieldapp process: this one's, plus the store passphrase."""
    return {**os.environ, "FIELDAPP_PASSPHRASE": passphrase}


def fieldapp_in(ns: Namespace | None, *args: str | Path) -> list[str]:
    """`python -m fieldapp ARGS`, inside `ns` (or here, for commands that use no network)."""
    argv = [sys.executable, "-m", "fieldapp", *map(str, args)]
    return argv if ns is None else ns.command(argv)


class Running:
    """A background process whose output lines can be awaited with a timeout."""

    def __init__(self, argv: list[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env if env is not None else fieldapp_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr: list[str] = []
        self._pumps = [
            threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines.put), daemon=True),
            threading.Thread(target=self._pump, args=(self.proc.stderr, self.stderr.append), daemon=True),
        ]
        for pump in self._pumps:
            pump.start()

    @staticmethod
    def _pump(stream: Any, sink: Any) -> None:
        for line in stream:
            sink(line)

    def json_line(self, timeout: float = 30) -> dict[str, Any]:
        """The next stdout line, parsed; fails at once if the process ended without one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                return json.loads(self.lines.get(timeout=0.2))
            except queue.Empty:
                if self.proc.poll() is not None and self.lines.empty():
                    time.sleep(0.2)  # let the stderr reader catch up
                    raise AssertionError(f"exited {self.proc.returncode}: {''.join(self.stderr)}") from None
        self.stop()
        raise AssertionError(f"no output within {timeout} s; stderr: {''.join(self.stderr)}")

    def finish(self, timeout: float = PROCESS_TIMEOUT) -> int:
        """Wait for the exit code."""
        try:
            return self.proc.wait(timeout)
        finally:
            self.stop()

    def terminate(self, timeout: float = 20) -> int:
        """SIGTERM, then the exit code (killed, and the test failed, if it does not stop in time)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()
            raise AssertionError(f"did not stop within {timeout} s of SIGTERM") from None

    def stop(self) -> None:
        """SIGKILL this process if it still runs: no clean-up of any kind in it."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def rest(self) -> list[str]:
        """Every stdout line not read yet (once the process has exited); stderr is complete then."""
        for pump in self._pumps:
            pump.join(10)
        lines = []
        while not self.lines.empty():
            lines.append(self.lines.get_nowait())
        return lines

    def json_rest(self) -> list[dict[str, Any]]:
        """`rest()`, each line parsed as JSON."""
        return [json.loads(line) for line in self.rest() if line.strip()]


def link_bytes(ns: Namespace) -> tuple[int, int]:
    """(received, transmitted) bytes counted so far on `ns`'s eth0."""
    result = subprocess.run(
        ["ip", "-n", ns.name, "-s", "-j", "link", "show", "eth0"],
        capture_output=True,
        text=True,
        timeout=IP_TIMEOUT,
        check=True,
    )
    stats = json.loads(result.stdout)[0]["stats64"]
    return int(stats["rx"]["bytes"]), int(stats["tx"]["bytes"])


def set_link(ns: Namespace, up: bool) -> None:
    """Take `ns`'s eth0 down (a cable pulled, Wi-Fi gone) or bring it back up."""
    _ip("-n", ns.name, "link", "set", "eth0", "up" if up else "down")


def throttle(ns: Namespace, rate: str) -> str | None:
    """Limit what `ns` sends on eth0 to `rate` (e.g. "2mbit", a slow station Wi-Fi).

    Returns why it cannot be done here (no `tc`, no token-bucket qdisc), or None.
    """
    if shutil.which("tc") is None:
        return "the `tc` command (iproute2) is not installed"
    result = subprocess.run(
        ns.command(
            ["tc", "qdisc", "replace", "dev", "eth0", "root", "tbf"]
            + ["rate", rate, "burst", "16kb", "latency", "500ms"]
        ),
        capture_output=True,
        text=True,
        timeout=IP_TIMEOUT,
    )
    return None if result.returncode == 0 else f"cannot shape traffic with tc: {result.stderr.strip()}"
