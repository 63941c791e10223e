"""The station authority on the supervisor's device, and a device's membership.

`create_station` makes this device the authority: a CA key kept in the
encrypted store, and a supervisor certificate for itself. `issue_certificate`
(authority only) certifies an enrolling device and records the enrolment as an
operation (`device.enrol`), so every device of the station knows the new device,
and can see it revoked, before its first sync; `adopt_enrolment` (the new
device) stores the certificate and the station's anchor and starts a new log
epoch whose announcement carries the certificate, so every device of the
station learns the new device's role from the station's signature.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from typing import Any, TypedDict

from fieldapp.core.device import DEVICE_TABLE, LOCAL_STATION
from fieldapp.core.service import CaseService
from fieldapp.domain import model
from fieldapp.domain.forks import fork_entries
from fieldapp.i18n import Translator
from fieldapp.i18n import agreement as _agreement_strings  # noqa: F401  (the settings' refusals)
from fieldapp.i18n import supervisor as _strings  # noqa: F401  (registers the settle refusals)
from fieldapp.i18n.rules import render
from sync.certs import Anchor, Certificate, CertificateError, StationAuthority, decode_certificate
from sync.ops import chain_key
from sync.refusals import Refusal
from sync.replica import OperationRefused
from sync.tls import (
    TlsMaterial,
    ca_certificate,
    check_ca_certificate,
    device_certificate,
    predates_profile,
    read_device_certificate,
)
from sync.trust import (
    ENROL,
    REVOKE,
    SETTLE,
    enrol_payload,
    enrolment_statement,
    revocation_statement,
    settle_payload,
)

AUTHORITY_TABLE = "station_authority"
ISSUED_TABLE = "issued_certificates"
#: This device's copy of the station's settings (key -> {"value": ...}), in the encrypted store.
SETTINGS_TABLE = "station_settings"
#: The longest mediation organisation name (as a station's name).
MAX_ORG = 64


class StationError(Exception):
    """A station operation that cannot be done; the message says why and what to do.

    Refusals with a `code` have the catalogue text ``error.<code>`` (English and Chinese,
    filled from `params`); the command line shows it in the user's language.
    """

    def __init__(
        self,
        message: str,
        code: str = "",
        params: dict[str, Any] | None = None,
        refusal: Refusal | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code or "station_error"
        self.params = params or {}
        #: The rules' refusal behind it (its `reason` parameter is that refusal's English text).
        self.refusal = refusal


def _refusal(code: str, **params: Any) -> StationError:
    """A coded refusal whose message is the catalogue's English text."""
    return StationError(Translator("en").t(f"error.{code}", **params), code, params)


def authority(service: CaseService) -> StationAuthority | None:
    """This device's CA, if it is the station authority."""
    doc = service.db.keyed(AUTHORITY_TABLE).get_copy("ca")
    return None if doc is None else StationAuthority(bytes(doc["private_key"]), str(doc["name"]))


def mediation_org(service: CaseService) -> str:
    """The people's mediation committee (人民调解委员会) the agreement names; "" if not set.

    Kept on this device only (`fieldapp station set --mediation-org NAME` on each device):
    it is printed text that the committee's seal confirms, not a claim the merge must check,
    so it does not travel as an operation (docs/exports.md, "Mediation agreement").
    """
    doc = service.db.keyed(SETTINGS_TABLE).get_copy("mediation_org")
    return str(doc.get("value") or "") if doc else ""


def set_mediation_org(service: CaseService, name: str) -> str:
    """Set (or with "" clear) this device's mediation organisation; returns what is kept."""
    name = " ".join(name.split())
    if len(name) > MAX_ORG:
        raise _refusal("mediation_org_too_long", limit=MAX_ORG)
    table = service.db.keyed(SETTINGS_TABLE)
    with service.db.transaction():
        if name:
            table.put("mediation_org", {"value": name})
        else:
            table.remove_keys(["mediation_org"])
    return name


def _tls_certificates(service: CaseService, ca: StationAuthority, device_key: bytes) -> tuple[bytes, bytes]:
    """(device TLS certificate, CA TLS certificate), both DER, for LAN sync (`sync.tls`).

    The TLS certificate carries no role: the role travels in the log's announcement.
    """
    private = bytes(service.db.keyed(AUTHORITY_TABLE).get_copy("ca")["private_key"])  # type: ignore[index]
    station_id = ca.anchor.station_id
    return device_certificate(private, station_id, device_key), ca_certificate(private, station_id)


def tls_material(service: CaseService) -> TlsMaterial | None:
    """This device's TLS identity at its station; None before it joins one.

    The station authority's device renews its own certificates here when they predate
    the current profile (docs/sync.md, "Certificates issued before this profile"): it
    holds the CA key, so its next sync or serve presents the new profile.
    """
    doc = service.db.table(DEVICE_TABLE).all()[0]
    tls = doc.get("tls")
    if not tls:
        return None
    ca = authority(service)
    if ca is not None and predates_profile(bytes(tls["cert"]), bytes(tls["ca"])):
        tls = _renew_own_tls(service, ca)
    return TlsMaterial(
        station_id=str(doc["station"]),
        ca_der=bytes(tls["ca"]),
        cert_der=bytes(tls["cert"]),
        private_key=service.identity.signing_key,
    )


def _renew_own_tls(service: CaseService, ca: StationAuthority) -> dict[str, bytes]:
    """Authority only: re-issue this device's TLS certificate and the CA's, keeping all else."""
    cert, ca_der = _tls_certificates(service, ca, service.identity.public_key)
    device = service.db.table(DEVICE_TABLE)
    record = device.all()[0]
    tls = {"cert": cert, "ca": ca_der}
    with service.db.transaction():
        device.update({**record, "tls": tls}, doc_ids=[record.doc_id])
    return tls


def require_fresh(service: CaseService) -> None:
    """Refuse to move a device that already holds work to a station."""
    if service.device_station != LOCAL_STATION:
        raise StationError("This device already belongs to a station; it cannot join another one.")
    vector = service.replica.vector()
    own = chain_key(service.identity.device_id, service.identity.epoch)
    if any(seq for chain, seq in vector.items() if chain != own) or vector.get(own, 0) > 1:
        raise StationError(
            "This device already holds records made before joining a station. Enrol a freshly "
            "initialised device (`fieldapp init --store NEW_DIR`) and move the work with sync."
        )


def create_station(service: CaseService, name: str) -> Anchor:
    """Make this device the station authority (a supervisor's device)."""
    name = name.strip()
    if not name or len(name) > 64:
        raise StationError(
            "The station needs a name of 1 to 64 characters, e.g. --name '城关派出所'.", "station_name"
        )
    require_fresh(service)
    ca, private = StationAuthority.generate(name)
    with service.db.transaction():
        service.db.keyed(AUTHORITY_TABLE).put("ca", {"private_key": private, "name": name})
        cert = ca.issue(service.identity.public_key, service.officer, "supervisor")
        tls_cert, tls_ca = _tls_certificates(service, ca, service.identity.public_key)
        _adopt(service, cert, ca.anchor, tls_cert, tls_ca)
    return ca.anchor


def issue_certificate(
    service: CaseService, device_key: bytes, officer: str, role: str
) -> tuple[list[bytes], dict[str, Any]]:
    """Authority only: certify an enrolling device, and record the enrolment (`device.enrol`,
    signed by the station CA) in the same transaction: it spreads like any operation, so the
    device is listed and revocable everywhere before it first syncs.

    Returns ([certificate body, signature, TLS certificate DER], anchor document with
    the station's TLS CA certificate under ``ca_x509``).
    """
    ca = authority(service)
    if ca is None:
        raise StationError(
            "Only the station authority's device can enrol devices (`fieldapp station create`)."
        )
    try:
        cert = ca.issue(device_key, officer, role)
        tls_cert, tls_ca = _tls_certificates(service, ca, device_key)
    except (CertificateError, ValueError) as exc:
        raise StationError(f"Cannot certify the device: {exc}.") from None
    statement = enrolment_statement(ca.anchor.station_id, service.identity.device_id, cert.body)
    try:
        with service.db.transaction():
            service.db.keyed(ISSUED_TABLE).put(
                cert.device_id,
                {"officer": officer, "role": role, "serial": cert.serial, "issued_ms": cert.issued_ms},
            )
            service.replica.record(ENROL, cert.device_id, enrol_payload(cert, ca.sign(statement)))
    except OperationRefused as exc:
        found = exc.refusal
        why = render(found.code, found.params, "en")
        raise StationError(f"Not enrolled: {why}.", refusal=found) from None
    return [*cert.to_wire(), tls_cert], {**ca.anchor.to_doc(), "ca_x509": tls_ca}


def adopt_enrolment(service: CaseService, cert_wire: list[bytes], anchor_doc: dict[str, Any]) -> Certificate:
    """The new device: check and keep its certificate and the station anchor."""
    require_fresh(service)
    anchor, cert, tls_cert, tls_ca = _checked_answer(service, cert_wire, anchor_doc)
    with service.db.transaction():
        _adopt(service, cert, anchor, tls_cert, tls_ca)
    return cert


def _checked_answer(
    service: CaseService, cert_wire: list[bytes], anchor_doc: dict[str, Any], station: str | None = None
) -> tuple[Anchor, Certificate, bytes, bytes]:
    """The station's enrolment answer, checked: (anchor, certificate, TLS certificate, TLS CA).

    `station`: the station the answer must come from (a renewal), or None (a first enrolment).
    """
    try:
        anchor = Anchor.from_doc(anchor_doc)
        if station is not None and anchor.station_id != station:  # the id is the CA key's (Anchor.check)
            raise StationError(
                "The code belongs to another station than this device's; a device stays at its station."
            )
        cert = decode_certificate(cert_wire[0], cert_wire[1], anchor)
        tls_cert, tls_ca = bytes(cert_wire[2]), bytes(anchor_doc["ca_x509"])
        check_ca_certificate(tls_ca, anchor)
        tls_peer = read_device_certificate(tls_cert, anchor.station_id, anchor.ca_public_key)
    except (CertificateError, IndexError, KeyError, TypeError) as exc:
        raise StationError(f"The enrolment answer is not valid: {exc}.") from None
    if cert.device_id != service.identity.device_id or tls_peer.device_id != cert.device_id:
        raise StationError("The certificate was issued for another device.")
    return anchor, cert, tls_cert, tls_ca


def is_member(service: CaseService) -> bool:
    """True once this device belongs to a station."""
    return service.device_station != LOCAL_STATION


def renew_enrolment(service: CaseService, cert_wire: list[bytes], anchor_doc: dict[str, Any]) -> None:
    """An enrolled device: take re-issued TLS certificates from its own station, keep all else.

    How a device whose certificates predate the current profile gets new ones
    (`fieldapp enrol join` again): its keys, log, epoch and the certificate its
    announcement carries stay as they are; only the TLS certificates change.
    """
    own = service.db.table(DEVICE_TABLE).all()[0]
    anchor, cert, tls_cert, tls_ca = _checked_answer(service, cert_wire, anchor_doc, service.device_station)
    if predates_profile(tls_cert, tls_ca):
        raise StationError("The station's device issued old certificates; update fieldapp on it first.")
    device = service.db.table(DEVICE_TABLE)
    with service.db.transaction():
        device.update({**own, "tls": {"cert": tls_cert, "ca": tls_ca}}, doc_ids=[own.doc_id])


def _adopt(service: CaseService, cert: Certificate, anchor: Anchor, tls_cert: bytes, tls_ca: bytes) -> None:
    """Store membership and start a new epoch announced with the certificate."""
    device = service.db.table(DEVICE_TABLE)
    doc = dict(device.all()[0])
    # The pre-station log holds only the local announcement (see require_fresh) and was
    # never accepted by any station device: drop it so every member's view is the same.
    old_chain = chain_key(service.identity.device_id, service.identity.epoch)
    # (Keyed tables' document ids are their str keys: `KeyedTable.document_id_class`.)
    service.replica.ops.remove(
        doc_ids=[key for key in service.replica.ops.raw() if key.startswith(old_chain)]  # type: ignore[misc]
    )
    service.replica.chains.remove(doc_ids=[old_chain])  # type: ignore[list-item]
    service.db.keyed("devices").remove(doc_ids=[service.identity.device_id])  # type: ignore[list-item]
    epoch = int.from_bytes(os.urandom(8), "big") >> 1
    doc.update(
        station=anchor.station_id,
        role=cert.role,
        epoch=epoch,
        cert=cert.to_wire(),
        anchor=anchor.to_doc(),
        tls={"cert": tls_cert, "ca": tls_ca},
    )
    device.update(doc, doc_ids=[device.all()[0].doc_id])
    service.reload()
    service.replica.ensure_announced(cert.role, cert.officer, cert=cert.to_wire())


def revoke_device(service: CaseService, device_id: str, reason: str) -> None:
    """Authority only: a station-signed revocation that spreads with sync."""
    ca = authority(service)
    if ca is None:
        raise StationError("Only the station authority's device can revoke devices.", "revoke_not_authority")
    reason = reason.strip()
    if not reason:
        raise StationError("A revocation needs a reason (e.g. 'device lost on patrol').", "revoke_reason")
    target = service.replica.device(device_id)
    if target is None:
        raise StationError(
            f"No device {device_id!r} is known here; `fieldapp device list` shows them.",
            "revoke_unknown_device",
            {"device": device_id},
        )
    if device_id == service.identity.device_id:
        raise _refusal("revoke_own_device")
    prefix = device_id + "."
    cutoff = {chain: seq for chain, seq in service.replica.vector().items() if chain.startswith(prefix)}
    statement = revocation_statement(ca.anchor.station_id, device_id, reason, cutoff)
    payload = {"reason": reason, "cutoff": cutoff, "station_sig": ca.sign(statement)}
    try:
        service.replica.record(REVOKE, device_id, payload)
    except OperationRefused as exc:
        found = exc.refusal
        raise StationError(f"Not revoked: {render(found.code, found.params, 'en')}.", refusal=found) from None


class ForkRow(TypedDict):
    """A fork as the supervisor's screens and `fieldapp device forks --json` show it."""

    #: The fork's key in the replica's forks table.
    fork: str
    device_id: str
    #: The officer the device announced ("" if unknown).
    officer: str
    epoch: int
    seq: int
    #: `Replica.fork_standing`: "open", "kept" or "other".
    standing: str
    held_out: bool
    seen_at: str | None
    #: `ForkEntry.to_doc` of the entry held here and of the other one.
    held: dict[str, Any]
    other: dict[str, Any]


def fork_rows(service: CaseService) -> list[ForkRow]:
    """Every fork seen here: the device, where, whether a supervisor settled it, and both
    entries (`fieldapp.domain.forks.ForkEntry` as documents) so that a supervisor can choose."""
    rows: list[ForkRow] = []
    for key, fork in sorted(service.replica.forks.raw().items()):
        device = service.replica.device(str(fork["author"]))
        held, other = fork_entries(fork)
        seen = fork.get("seen_at")
        rows.append(
            {
                "fork": key,
                "device_id": fork["author"],
                "officer": device.get("officer", "") if device is not None else "",
                "epoch": int(fork["epoch"]),
                "seq": int(fork["seq"]),
                "standing": service.replica.fork_standing(fork),
                "held_out": service.replica.quarantined(str(fork["author"])),
                "seen_at": _seconds_iso(seen),
                "held": held.to_doc(),
                "other": other.to_doc(),
            }
        )
    return rows


def _seconds_iso(seconds: Any) -> str | None:
    """A wall-clock time in seconds as ISO UTC (None if unknown)."""
    if not isinstance(seconds, int | float):
        return None
    return datetime.fromtimestamp(seconds, tz=UTC).isoformat(timespec="seconds")


def settle_fork(service: CaseService, fork_key: str, keep: str, reason: str) -> None:
    """Supervisor: decide which of a fork's two signed entries is the device's log.

    `keep` is "held" (the entry this device holds) or "other" (the one that arrived second).
    The decision is an operation: it spreads with sync, and every device that holds the kept
    entry shows that device's work again. Refusals are coded (`StationError.code`).
    """
    if not service.is_supervisor:
        raise _refusal("fork_not_supervisor")
    fork = service.replica.forks.get_copy(fork_key)
    if fork is None:
        raise _refusal("fork_unknown", fork=fork_key)
    if str(fork["author"]) == service.identity.device_id:
        raise _refusal("fork_own_log")
    if keep not in ("held", "other"):
        raise _refusal("fork_keep")
    reason = reason.strip()
    if not reason:
        raise _refusal("fork_reason")
    body = bytes(fork["held"] if keep == "held" else fork["other"])
    payload = settle_payload(int(fork["epoch"]), int(fork["seq"]), hashlib.sha256(body).digest(), reason)
    try:
        service.replica.record(SETTLE, str(fork["author"]), payload)
    except OperationRefused as exc:
        found = exc.refusal
        error = _refusal("fork_refused", reason=render(found.code, found.params, "en"))
        error.refusal = found
        raise error from None


class RevokedBrief(TypedDict):
    """Why and by whom a device was revoked, as a device row shows it."""

    reason: str
    by: str


class DeviceRow(TypedDict):
    """A device as the supervisor's screens and `fieldapp device list --json` show it."""

    device_id: str
    #: As its announcement says; from its enrolment until that has arrived.
    officer: str
    role: str
    this_device: bool
    #: When the station authority certified it (ISO UTC), None if no enrolment is recorded (the
    #: station authority's own device, devices enrolled before enrolments were recorded).
    enrolled_at: str | None
    #: The newest operation of its logs held here (ISO UTC), None if none.
    last_seen: str | None
    #: No operation of its own has reached this device: it has not synced since its enrolment
    #: (with this device or one whose work came here).
    never_synced: bool
    revoked: RevokedBrief | None


def device_rows(service: CaseService) -> list[DeviceRow]:
    """Every device known here, from its enrolment or its announcement: who, role, enrolled,
    last seen, revoked (newest activity first, then the devices that never synced)."""
    last_seen: dict[str, int] = {}
    for chain, doc in service.replica.chains.raw().items():
        author = chain.rsplit(".", 1)[0]
        last_seen[author] = max(last_seen.get(author, 0), int(doc.get("hlc", 0)))
    rows: list[DeviceRow] = []
    for device_id, doc in service.devices_view().items():
        enrolled = doc.get("enrolled")
        if "public_key" in doc:
            officer, role = doc["officer"], doc["role"]
        elif enrolled is not None:
            officer, role = enrolled["officer"], enrolled["role"]
        else:  # only an operation about it has come (a refused one, or of a newer version)
            continue
        revoked = doc.get("revoked")
        seen = last_seen.get(device_id)
        rows.append(
            {
                "device_id": device_id,
                "officer": officer,
                "role": role,
                "this_device": device_id == service.identity.device_id,
                "enrolled_at": model.stamp_iso(int(enrolled["hlc"])) if enrolled is not None else None,
                "last_seen": model.stamp_iso(seen) if seen else None,
                "never_synced": seen is None,
                "revoked": None if revoked is None else {"reason": revoked["reason"], "by": revoked["by"]},
            }
        )
    rows.sort(key=lambda r: (r["last_seen"] or "", r["enrolled_at"] or ""), reverse=True)
    return rows
