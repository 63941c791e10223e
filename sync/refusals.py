"""Why the rules did not count an operation: a stable code with parameters, stored as data.

A reducer returns a `Refusal`; the merge keeps it in the entity's ``refused`` list as
``{"op", "kind", "author", "hlc", "code", "params"}`` (`sync.merge.refuse`). Every device
stores the same bytes, so the text a person reads is never stored: it is rendered from the
code and its parameters, in the reader's language, only when shown (`fieldapp.i18n.rules`).
Rewording a message therefore never changes a state hash; renaming a code does, so codes
are never renamed (docs/rules.md lists them).

`CODES` here are the ones `sync` itself returns (devices, revocations); the app's rules add
theirs in `fieldapp.domain.refusals`, the one registry of every code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Refusal:
    """A refusal: its code and parameters (plain strings and integers, canonical-encodable)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        """In English, for logs and a rejection's `reason` (never stored in a view): the text of a
        code of `sync` (`CODES`), else the code and its parameters."""
        template = CODES.get(self.code)
        if template is not None:
            try:
                return template.format(**self.params)
            except (KeyError, IndexError):
                pass
        return " ".join([self.code, *(f"{k}={v}" for k, v in sorted(self.params.items()))])


def refusal(code: str, **params: Any) -> Refusal:
    """A refusal with `code` and `params` (the code must be registered: see `CODES`)."""
    return Refusal(code, params)


#: The refusal codes of `sync`, each with its English text; its `{placeholders}` are the
#: parameters it carries. The text a person reads comes from the app's catalogue (English and
#: Chinese, `fieldapp.i18n.rules`, which takes its English from here).
CODES: dict[str, str] = {
    "author_unknown": "the author's device is not known",
    "author_not_announced": "device {device} is not known here and did not announce itself",
    "device_revoked": "device {device} was revoked by the station ({reason})",
    # a device's announcement (sync.trust.record_from_announce)
    "announce_not_enrolled": "device {device} has no certificate from this station (not enrolled here)",
    "announce_certificate_invalid": "device {device}'s certificate does not hold",
    "announce_certificate_other_device": "device {device}'s certificate belongs to another device",
    "announce_role_not_certified": "device {device} announces a role or name its certificate does not give",
    "announce_no_key": "the device announcement carries no valid public key",
    "announce_key_mismatch": "the device announcement's key does not match the device id",
    "announce_unknown_role": "the device announcement claims an unknown role {role}",
    "announce_officer_invalid": "the device announcement's officer name is invalid",
    # fork settlements (sync.devices)
    "settle_not_supervisor": "only a supervisor can settle a fork",
    "settle_own_log": "a device cannot settle a fork of its own log",
    "settle_incomplete": "the fork settlement is incomplete",
    # enrolments recorded by the station authority (sync.devices)
    "enrol_no_station": "enrolments need a station; this device is not enrolled at one",
    "enrol_not_supervisor": "only the station authority's device can record an enrolment",
    "enrol_incomplete": "the enrolment is incomplete",
    "enrol_certificate_invalid": "the enrolment's certificate is not one this station issued",
    "enrol_certificate_mismatch": (
        "the enrolment names another device, key, officer, role or serial than its certificate"
    ),
    "enrol_not_signed": "the enrolment is not signed by the station",
    # revocations (sync.devices)
    "revoke_no_station": "revocations need a station; this device is not enrolled at one",
    "revoke_not_supervisor": "only the station's supervisor can revoke a device",
    "revoke_device_unknown": "the revoked device is not known (yet)",
    "revoke_already": "the device is already revoked",
    "revoke_incomplete": "the revocation is incomplete",
    "revoke_not_signed": "the revocation is not signed by the station",
    # a local operation this version would not fold in full (sync.replica.Replica.record)
    "fields_not_read": "this version does not read every field of the {kind} operation",
}


def as_record(found: Refusal) -> dict[str, Any]:
    """The code and parameters as stored (in a view's ``refused`` entry, or a rejection)."""
    return {"code": found.code, "params": dict(found.params)}
