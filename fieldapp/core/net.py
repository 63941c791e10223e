"""Arguments and output shared by the commands that use the network (enrol, sync, serve)."""

from __future__ import annotations

import ipaddress
import json
import sys
from typing import Any

from sync.replica import Replica

#: The `local` document remembering this device's network address for discovery.
NET_DOC = "network"


class NetCliError(Exception):
    """A network command that could not be done; the message says what to do."""

    code = "network_error"
    #: The catalogue key of the message (`fieldapp/i18n/cli.py`) and its parameters, when the
    #: message was not already written in the user's language.
    key: str | None = None
    params: dict[str, Any] = {}


def _keyed(error: type[Exception], message: str, key: str, **params: Any) -> Exception:
    """`error(message)` that also carries the catalogue key of its text, for the command line
    to show it in the user's language."""
    exc = error(message)
    exc.key, exc.params = key, params  # type: ignore[attr-defined]
    return exc


def interface_arg(text: str | None, error: type[Exception] = NetCliError) -> str | None:
    """--interface: this device's IP address on the station network."""
    if text is None:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise _keyed(
            error,
            f"--interface takes this device's IP address on the station network (e.g. 192.168.1.20), "
            f"not {text!r}.",
            "cli.error.interface",
            text=text,
        ) from None


def peer_arg(text: str, error: type[Exception] = NetCliError) -> tuple[str, int]:
    """--peer HOST:PORT."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise _keyed(
            error,
            f"--peer takes HOST:PORT as shown on the other device's screen, not {text!r}.",
            "cli.error.peer",
            text=text,
        )
    return host, int(port)


def positive_seconds(value: float, option: str, error: type[Exception] = NetCliError) -> float:
    """A timeout or duration option."""
    if not value > 0:
        raise _keyed(
            error, f"{option} must be a positive number of seconds.", "cli.error.seconds", option=option
        )
    return value


def print_json(data: dict[str, Any], file: Any = None) -> None:
    """One JSON object on its own line, flushed (other programs read it as it comes)."""
    print(json.dumps(data, ensure_ascii=False), file=file or sys.stdout, flush=True)


def remembered_interface(replica: Replica, given: str | None = None) -> str | None:
    """`given` (remembered for next time when new), or the address used last time."""
    doc = replica.local.get_copy(NET_DOC) or {}
    if given is not None:
        if doc.get("interface") != given:
            replica.local.put(NET_DOC, {**doc, "interface": given})
        return given
    remembered = doc.get("interface")
    return str(remembered) if remembered else None


def human_size(n: int) -> str:
    """Bytes as a person reads them: 226 B, 1.6 KB, 3.2 MB."""
    return f"{n} B" if n < 1024 else f"{n / 1024:.1f} KB" if n < 1048576 else f"{n / 1048576:.1f} MB"
