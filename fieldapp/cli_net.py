"""Arguments and output shared by the commands that use the network (enrol, sync, serve)."""

from __future__ import annotations

import ipaddress
import json
import sys
from typing import Any


class NetCliError(Exception):
    """A network command that could not be done; the message says what to do."""

    code = "network_error"


def interface_arg(text: str | None, error: type[Exception] = NetCliError) -> str | None:
    """--interface: this device's IP address on the station network."""
    if text is None:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise error(
            f"--interface takes this device's IP address on the station network (e.g. 192.168.1.20), "
            f"not {text!r}."
        ) from None


def peer_arg(text: str, error: type[Exception] = NetCliError) -> tuple[str, int]:
    """--peer HOST:PORT."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise error(f"--peer takes HOST:PORT as shown on the other device's screen, not {text!r}.")
    return host, int(port)


def positive_seconds(value: float, option: str, error: type[Exception] = NetCliError) -> float:
    """A timeout or duration option."""
    if not value > 0:
        raise error(f"{option} must be a positive number of seconds.")
    return value


def print_json(data: dict[str, Any], file: Any = None) -> None:
    """One JSON object on its own line, flushed (other programs read it as it comes)."""
    print(json.dumps(data, ensure_ascii=False), file=file or sys.stdout, flush=True)
