"""A fork's two entries as a supervisor reads them before settling it; no Textual.

A fork is two different entries, each signed by the device's key, at one (device, epoch,
seq) (docs/replication.md, "Forks"). `held` is the entry this device keeps in its log,
`other` the one that arrived second. Both were verified before the fork was recorded,
so their bodies are decoded without the untrusted-input checks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from fieldapp.domain import model
from sync.ops import decode_trusted

SIDES = ("held", "other")
#: Payload fields shown per entry, and characters per value: enough to tell two entries apart.
MAX_FIELDS = 8
MAX_VALUE = 48


@dataclass(frozen=True)
class ForkEntry:
    """One of a fork's two entries: what it records, where and when."""

    #: "held" (this device's log holds it) or "other" (arrived second, kept as evidence).
    side: str
    #: The operation kind (e.g. ``visit.add``) and the entity it touches (a case id, a village).
    kind: str
    entity: str
    #: When its author stamped it (ISO UTC).
    at: str
    #: The payload's fields that hold something, each as (name, short text).
    fields: tuple[tuple[str, str], ...]
    #: SHA-256 of the body (hex): what a settlement names as the kept entry.
    digest: str

    def to_doc(self) -> dict[str, Any]:
        """A JSON-friendly form (for `fieldapp device forks --json`)."""
        return {
            "kind": self.kind,
            "entity": self.entity,
            "at": self.at,
            "fields": {name: text for name, text in self.fields},
            "sha256": self.digest,
        }


def brief(value: Any) -> str:
    """A payload value as short text (long values cut with an ellipsis, bytes by length)."""
    if isinstance(value, bytes):
        text = f"<{len(value)} bytes>"
    elif isinstance(value, dict):
        text = "{" + ", ".join(f"{k}: {brief(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list | tuple):
        text = "[" + ", ".join(brief(v) for v in value) + "]"
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def fork_entry(side: str, body: bytes) -> ForkEntry:
    """Decode one of a fork's stored bodies for reading ("?" for one that does not decode)."""
    digest = hashlib.sha256(body).hexdigest()
    try:
        op = decode_trusted(body, b"")
    except (ValueError, TypeError):  # not a body this version reads: still settleable by digest
        return ForkEntry(side=side, kind="?", entity="?", at="", fields=(), digest=digest)
    payload = op.payload if isinstance(op.payload, dict) else {}
    named = [name for name in sorted(payload, key=str) if payload[name] not in (None, "", [], {})]
    fields = tuple((str(name), brief(payload[name])) for name in named[:MAX_FIELDS])
    return ForkEntry(
        side=side,
        kind=str(op.kind),
        entity=str(op.entity),
        at=model.stamp_iso(int(op.hlc)),
        fields=fields,
        digest=digest,
    )


def fork_entries(fork: dict[str, Any]) -> tuple[ForkEntry, ForkEntry]:
    """(held, other) of a record of the replica's `forks` table."""
    return fork_entry("held", bytes(fork["held"])), fork_entry("other", bytes(fork["other"]))
