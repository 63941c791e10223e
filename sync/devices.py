"""The `devices` view: each device's key, role and officer, its enrolment, its revocation, and
fork settlements."""

from __future__ import annotations

from sync.certs import CertificateError, decode_certificate
from sync.documents import DeviceDoc
from sync.merge import MergeEnv, PayloadFields
from sync.ops import Operation
from sync.refusals import Refusal, refusal
from sync.trust import (
    ANNOUNCE,
    ENROL,
    REVOKE,
    SETTLE,
    enrolment_statement,
    record_from_announce,
    revocation_statement,
    settlement_key,
)


class DeviceReducer:
    """Folds device announcements, enrolments, revocations and fork settlements into the
    `devices` view."""

    table = "devices"
    kinds = frozenset({ANNOUNCE, REVOKE, SETTLE, ENROL})
    #: 2: `device.enrol`; a revocation of a device known only from its enrolment counts.
    version = 2
    payload_fields: PayloadFields = {
        ANNOUNCE: dict.fromkeys(("public_key", "role", "officer", "cert")),
        REVOKE: dict.fromkeys(("reason", "cutoff", "station_sig")),
        SETTLE: dict.fromkeys(("epoch", "seq", "keep", "reason")),
        ENROL: dict.fromkeys(("public_key", "officer", "role", "serial", "cert", "station_sig")),
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
        if op.kind == ENROL:
            return self._enrol(state, op, env)
        return self._revoke(state, op, env)

    @staticmethod
    def _enrol(state: DeviceDoc, op: Operation, env: MergeEnv) -> Refusal | None:
        """The station authority's record of a device it certified: the device is known (listed,
        revocable) from here on, before its own announcement. It gives the device no key to
        verify with and no role: those still come from its log's announcement."""
        if env.anchor is None:
            return refusal("enrol_no_station")
        if env.role(op.author, op.epoch, op.seq) != "supervisor":
            return refusal("enrol_not_supervisor")
        payload = op.payload
        cert, signature = payload.get("cert"), payload.get("station_sig")
        if not (
            isinstance(cert, list)
            and len(cert) == 2
            and all(isinstance(part, bytes) for part in cert)
            and isinstance(signature, bytes)
        ):
            return refusal("enrol_incomplete")
        try:
            certificate = decode_certificate(cert[0], cert[1], env.anchor)
        except CertificateError:  # which check failed is not kept: the view holds no prose
            return refusal("enrol_certificate_invalid")
        named = tuple(payload.get(k) for k in ("public_key", "officer", "role", "serial"))
        certified = (certificate.device_key, certificate.officer, certificate.role, certificate.serial)
        if certificate.device_id != op.entity or named != certified or type(named[3]) is not int:
            return refusal("enrol_certificate_mismatch")
        if not env.anchor.verify(signature, enrolment_statement(env.anchor.station_id, op.author, cert[0])):
            return refusal("enrol_not_signed")
        state["enrolled"] = {
            "public_key": certificate.device_key,
            "officer": certificate.officer,
            "role": certificate.role,
            "serial": certificate.serial,
            "issued_ms": certificate.issued_ms,
            "by": op.author,
            "op": op.key,
            "hlc": op.hlc,
        }
        return None

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
        """Nothing depends on the newest announcement, enrolment or revocation alone."""

    @staticmethod
    def _revoke(state: DeviceDoc, op: Operation, env: MergeEnv) -> Refusal | None:
        payload = op.payload
        if env.anchor is None:
            return refusal("revoke_no_station")
        if env.role(op.author, op.epoch, op.seq) != "supervisor":
            return refusal("revoke_not_supervisor")
        if "public_key" not in state and "enrolled" not in state:
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
