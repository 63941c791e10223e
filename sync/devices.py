"""The `devices` view: each device's key, role and officer, its revocation, and fork settlements."""

from __future__ import annotations

from sync.documents import DeviceDoc
from sync.merge import MergeEnv, PayloadFields
from sync.ops import Operation
from sync.refusals import Refusal, refusal
from sync.trust import (
    ANNOUNCE,
    REVOKE,
    SETTLE,
    record_from_announce,
    revocation_statement,
    settlement_key,
)


class DeviceReducer:
    """Folds device announcements and revocations into the `devices` view."""

    table = "devices"
    kinds = frozenset({ANNOUNCE, REVOKE, SETTLE})
    version = 1
    payload_fields: PayloadFields = {
        ANNOUNCE: dict.fromkeys(("public_key", "role", "officer", "cert")),
        REVOKE: dict.fromkeys(("reason", "cutoff", "station_sig")),
        SETTLE: dict.fromkeys(("epoch", "seq", "keep", "reason")),
    }

    def initial(self, op: Operation) -> DeviceDoc:
        """A device not announced yet."""
        return {"device_id": op.entity, "roles": {}, "revoked": None}

    def apply(self, state: DeviceDoc, op: Operation, env: MergeEnv) -> Refusal | None:
        """Record a device's key, role and officer, or its revocation."""
        if op.kind == ANNOUNCE:
            record = record_from_announce(op.author, op.payload, env.anchor)
            if isinstance(record, Refusal):
                return record
            state.update({"public_key": record.public_key, "role": record.role, "officer": record.officer})
            state["roles"][f"{op.epoch:016x}"] = record.role
            return None
        if op.kind == SETTLE:
            return self._settle(state, op, env)
        return self._revoke(state, op, env)

    @staticmethod
    def _settle(state: DeviceDoc, op: Operation, env: MergeEnv) -> Refusal | None:
        """A supervisor's decision on a fork of this device's log: which entry is the log."""
        if env.role(op.author, op.epoch, op.seq) != "supervisor":
            return refusal("settle_not_supervisor")
        if op.entity == op.author:
            return refusal("settle_own_log")
        payload = op.payload
        epoch, seq, keep, reason = (payload.get(k) for k in ("epoch", "seq", "keep", "reason"))
        if not (
            type(epoch) is int
            and type(seq) is int
            and seq > 0
            and isinstance(keep, bytes)
            and len(keep) == 32
            and isinstance(reason, str)
            and reason.strip()
        ):
            return refusal("settle_incomplete")
        state.setdefault("settled", {})[settlement_key(epoch, seq)] = {
            "keep": keep,
            "reason": reason,
            "by": op.author,
            "op": op.key,
        }
        return None

    def finish(self, state: DeviceDoc, last: Operation) -> None:
        """Nothing depends on the newest announcement or revocation alone."""

    @staticmethod
    def _revoke(state: DeviceDoc, op: Operation, env: MergeEnv) -> Refusal | None:
        payload = op.payload
        if env.anchor is None:
            return refusal("revoke_no_station")
        if env.role(op.author, op.epoch, op.seq) != "supervisor":
            return refusal("revoke_not_supervisor")
        if "public_key" not in state:
            return refusal("revoke_device_unknown")
        if state["revoked"] is not None:
            return refusal("revoke_already")
        cutoff, reason = payload.get("cutoff"), payload.get("reason")
        if not isinstance(cutoff, dict) or not isinstance(reason, str) or not reason:
            return refusal("revoke_incomplete")
        statement = revocation_statement(env.anchor.station_id, op.entity, reason, cutoff)
        signature = payload.get("station_sig")
        if not isinstance(signature, bytes) or not env.anchor.verify(signature, statement):
            return refusal("revoke_not_signed")
        state["revoked"] = {"reason": reason, "cutoff": cutoff, "by": op.author, "op": op.key, "hlc": op.hlc}
        return None
