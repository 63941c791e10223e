"""Recording and reading cases on this device: what the command line and the UI call.

Each public method either records one or more operations durably (all or
nothing) and returns the case as it now stands, or raises `CaseError` with a
message a person can act on; nothing is recorded then.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, TypeVar, cast, overload

from fieldapp import __version__
from fieldapp.core.device import DEVICE_TABLE, LOCAL_STATION, DeviceInfo
from fieldapp.core.person_cache import KeptPersonIndex
from fieldapp.core.settings import remember_language
from fieldapp.domain import cases as ops
from fieldapp.domain import model
from fieldapp.domain.areas import AREA_SET, VillageReducer, area_problem, areas_of, place_payload
from fieldapp.domain.cases import CaseReducer, history
from fieldapp.domain.documents import CaseDoc, PublicCase, ShownCase, VillageDoc
from fieldapp.domain.fields import FIELD_CHECKS, station_today
from fieldapp.domain.model import is_overdue
from fieldapp.domain.person_index import PersonIndex
from fieldapp.domain.persons import (
    KEY,
    LINK,
    UNLINK,
    PairDoc,
    PersonDoc,
    PersonKeyReducer,
    PersonLinkReducer,
    has_open_conflict,
    key_payload,
    link_payload,
    pair_entity,
)
from fieldapp.i18n import persons as _person_strings  # noqa: F401  (registers the persons' strings)
from fieldapp.i18n import t
from fieldapp.i18n.bundle import bilingual
from fieldapp.i18n.rules import render
from storage import DEFAULT_KDF, FieldDB, KdfParams
from sync import bundle, ledger
from sync.bundle import Entry, Recipient
from sync.certs import Anchor
from sync.documents import DeviceDoc
from sync.hlc import HybridClock
from sync.identity import DeviceIdentity
from sync.merge import Reducer, field_base
from sync.refusals import Refusal
from sync.replica import ApplyReport, OperationRefused, Replica
from sync.verify import signed_batches

EXPORT_FORMAT = bundle.FORMAT
#: The plain format's version (scripts/bench_sync.py builds such files).
EXPORT_VERSION = bundle.PLAIN_VERSION
IMPORT_CHUNK = 10_000
MAX_CHUNK_BYTES = 64 * 1024 * 1024
PUBLIC_HIDDEN = ("_ops", "_w", "_statuses", "exists")


class CaseError(Exception):
    """A request that cannot be recorded; the message says why (in English).

    A refusal of the rules also carries its code and parameters (`refusal`), for the command
    line and the screens to show in the user's language (`fieldapp.i18n.rules.render`); other
    errors a catalogue key and its parameters (`key`, `params`; `fieldapp/i18n/cli.py`).
    """

    def __init__(
        self,
        message: str,
        refusal: Refusal | None = None,
        key: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.key = key
        self.params = params or {}


def refused(found: Refusal) -> CaseError:
    """The error for a refusal of the rules: "Not recorded: <why>." in English, and the code."""
    return CaseError(f"Not recorded: {render(found.code, found.params, 'en')}.", found)


def public(state: CaseDoc) -> PublicCase:
    """A case as shown to people and `--json`: the view without merge bookkeeping."""
    return cast(PublicCase, {k: v for k, v in state.items() if k not in PUBLIC_HIDDEN})


#: A case as a caller of `find_cases` presents it.
Shown = TypeVar("Shown", bound=PublicCase)


@overload
def find_cases(
    view: Mapping[str, CaseDoc],
    status: str | None = None,
    risk: str | None = None,
    village: str | None = None,
    overdue: bool = False,
    today: date | None = None,
) -> list[PublicCase]: ...


@overload
def find_cases(
    view: Mapping[str, CaseDoc],
    status: str | None = None,
    risk: str | None = None,
    village: str | None = None,
    overdue: bool = False,
    today: date | None = None,
    *,
    present: Callable[[CaseDoc], Shown],
) -> list[Shown]: ...


def find_cases(
    view: Mapping[str, CaseDoc],
    status: str | None = None,
    risk: str | None = None,
    village: str | None = None,
    overdue: bool = False,
    today: date | None = None,
    present: Callable[[CaseDoc], Any] = public,
) -> list[Any]:
    """Cases of a `cases` view matching every given filter, newest first, as `present` shows them."""
    today = today or date.today()
    found = [
        present(c)
        for c in view.values()
        if c["exists"]
        and (status is None or c["status"] == status)
        and (risk is None or c["risk"] == risk)
        and (village is None or c["village"] == village)
        and (not overdue or is_overdue(c, today))
    ]
    found.sort(key=lambda c: (c["created_at"] or "", c["id"]), reverse=True)
    return found


def app_reducers() -> list[Reducer[Any]]:
    """The views this version folds: cases, villages (police areas), persons' links and marks."""
    return [CaseReducer(), VillageReducer(), PersonLinkReducer(), PersonKeyReducer()]


class CaseService:
    """This device's cases, on top of its replica."""

    def __init__(self, db: FieldDB, clock: HybridClock | None = None) -> None:
        self.db = db
        self._clock = clock if clock is not None else HybridClock()
        self.reload()

    def reload(self) -> None:
        """(Re)read this device's identity and membership, and rebuild the replica."""
        device = self.db.table(DEVICE_TABLE).all()
        if not device:
            raise CaseError(
                "This store has no device identity; create stores with `fieldapp init`.",
                key="cli.error.no_identity",
            )
        doc = device[0]
        self.identity = DeviceIdentity.from_doc(doc)
        self.officer = str(doc["officer"])
        self.device_role = str(doc.get("role", "officer"))
        self.device_station = str(doc.get("station", LOCAL_STATION))
        anchor = Anchor.from_doc(doc["anchor"]) if doc.get("anchor") else None
        self.replica = Replica(
            self.db,
            self.identity,
            self.device_station,
            app_reducers(),
            clock=self._clock,
            anchor=anchor,
            on_epoch=self._new_epoch,
        )
        #: The person index, kept current from the replica's change feed (`person_index`).
        self.kept_persons = KeptPersonIndex(self.replica)

    def _new_epoch(self, identity: DeviceIdentity) -> None:
        """Keep this device's new log epoch (after a rollback of its store; see Replica.start_epoch)."""
        table = self.db.table(DEVICE_TABLE)
        table.update({"epoch": identity.epoch}, doc_ids=[table.all()[0].doc_id])
        self.identity = identity

    @classmethod
    def open(cls, store_dir: Path, passphrase: str, clock: HybridClock | None = None) -> CaseService:
        """Unlock the store and load the replica."""
        db = FieldDB.open(store_dir, passphrase)
        try:
            return cls(db, clock)
        except BaseException:
            db.close()
            raise

    def close(self) -> None:
        """Lock the store."""
        self.db.close()

    # ------------------------------------------------------------ reading

    def cases_view(self) -> dict[str, CaseDoc]:
        """The documents of the `cases` view by case id (live and read-only), folded up to date."""
        return self.replica.view(CaseReducer.table)

    def villages_view(self) -> dict[str, VillageDoc]:
        """The documents of the `villages` view by village (live and read-only)."""
        return self.replica.view(VillageReducer.table)

    def devices_view(self) -> dict[str, DeviceDoc]:
        """The documents of the `devices` view by device id (live and read-only)."""
        return self.replica.view("devices")

    def _state(self, case_id: str) -> CaseDoc:
        state = self.cases_view().get(case_id)
        if state is None or not state["exists"]:
            raise CaseError(
                f"No case {case_id!r} on this device. `fieldapp case list` shows the ids.",
                key="cli.error.no_case",
                params={"id": case_id},
            )
        return state

    def case(self, case_id: str) -> ShownCase:
        """One case, with visits, conflicts and its history (derived from its operations)."""
        return self.present(self._state(case_id))

    def present(self, state: CaseDoc) -> ShownCase:
        """A case of the `cases` view as `case()` shows it: public, with its history (derived
        from its operations)."""
        return cast(
            ShownCase, public(state) | {"history": history(state, self.replica.load_ops(state["_ops"]))}
        )

    def cases(
        self,
        status: str | None = None,
        risk: str | None = None,
        village: str | None = None,
        overdue: bool = False,
        today: date | None = None,
    ) -> list[ShownCase]:
        """Cases matching every given filter, newest first."""
        return find_cases(self.cases_view(), status, risk, village, overdue, today, present=self.present)

    def state_hash(self) -> str:
        """Digest of the materialized view."""
        return self.replica.state_hash()

    def waiting_notice(self) -> str | None:
        """What to tell the user when records from a newer version wait here (else None).

        They are stored and relayed but not folded until this device runs a version that
        knows them (docs/replication.md, "Versions").
        """
        waiting = self.replica.waiting()
        return t("version.waiting", n=waiting, version=__version__) if waiting else None

    # ------------------------------------------------------------ recording

    def _record(self, kind: str, entity: str, payload: dict[str, Any]) -> None:
        try:
            self.replica.record(kind, entity, payload)
        except OperationRefused as exc:
            raise refused(exc.refusal) from None

    def new_case(
        self,
        village: str,
        category: str,
        risk: str,
        summary: str,
        parties: list[dict[str, str]] | None = None,
        source: str = "patrol",
        flags: list[str] | None = None,
        deadline: str | None = None,
    ) -> ShownCase:
        """Record an intake; returns the new case."""
        fields = {
            "village": village.strip(),
            "category": category,
            "risk": risk,
            "summary": summary.strip(),
            "source": source,
            "flags": sorted(set(flags or [])),
            "deadline": deadline,
            "parties": parties or [],
        }
        # The merge's checks: what a person types is checked more strictly where it is typed
        # (a party's phone: `fieldapp.domain.fields.party_problem`).
        for name, value in fields.items():
            reason = FIELD_CHECKS[name](value)
            if reason:
                raise refused(reason)
        seq = self.replica.head(f"{self.identity.device_id}.{self.identity.epoch:016x}")[0] + 1
        case_id = model.case_id_for(self.identity.device_id, self.identity.epoch, seq)
        self._record(ops.CREATE, case_id, fields)
        return self.case(case_id)

    def update(
        self,
        case_id: str,
        *,
        fields: dict[str, Any] | None = None,
        status: str | None = None,
        reason: str = "",
        tier: int | None = None,
        referral: dict[str, str] | None = None,
        outcome: dict[str, str] | None = None,
        assign: str | None = None,
        note: str | None = None,
    ) -> ShownCase:
        """Change fields, status, assignment, or add a note, all or nothing."""
        state = self._state(case_id)
        fields = dict(fields or {})
        if not (fields or status or assign or note):
            raise CaseError(
                "Nothing to update: give a field, --status, --assign or --note.",
                key="cli.error.nothing_to_update",
            )
        with self.db.transaction():
            if fields:
                base = {name: field_base(state, name) for name in fields}
                self._record(ops.SET, case_id, {"fields": fields, "base": base})
            if assign:
                self._record(ops.ASSIGN, case_id, {"assignee": assign, "base": field_base(state, "assignee")})
            if status:
                payload: dict[str, Any] = {
                    "status": status,
                    "reason": reason,
                    "base": field_base(self._state(case_id), "status"),
                }
                if tier is not None:
                    payload["tier"] = tier
                if referral:
                    payload["referral"] = referral
                if outcome:
                    payload["outcome"] = outcome
                self._record(ops.STATUS, case_id, payload)
            if note:
                self._record(ops.NOTE, case_id, {"text": note})
        return self.case(case_id)

    def add_visit(
        self,
        case_id: str,
        kind: str,
        note: str,
        place: str = "",
        participants: str = "",
        occurred: int | None = None,
    ) -> ShownCase:
        """Log a visit (home, phone, mediation, follow-up, field); `occurred`: when it happened,
        in whole seconds since 1970 (`fields.visit_time`), None: now (it is not carried)."""
        self._state(case_id)
        payload: dict[str, Any] = {"kind": kind, "note": note, "place": place, "participants": participants}
        if occurred is not None:
            payload["occurred"] = occurred
        self._record(ops.VISIT, case_id, payload)
        return self.case(case_id)

    def reopen(self, case_id: str, reason: str) -> ShownCase:
        """Reopen a resolved or closed case that flared up again."""
        state = self._state(case_id)
        self._record(ops.REOPEN, case_id, {"reason": reason, "base": field_base(state, "status")})
        return self.case(case_id)

    def claim(self, case_id: str) -> ShownCase:
        """Take ownership of a case (face-to-face claim)."""
        self._state(case_id)
        self._record(ops.CLAIM, case_id, {})
        return self.case(case_id)

    @property
    def is_supervisor(self) -> bool:
        """Whether this device holds a supervisor's certificate (the merge checks it again)."""
        return self.device_role == "supervisor"

    def require_device(self, device_id: str) -> None:
        """Refuse a device id this device does not know (announced or enrolled): a typo would
        otherwise hand a case to a device nobody has, and the merge would keep it."""
        if not device_id or self.replica.device(device_id) is None:
            raise CaseError(
                f"No device {device_id!r} is known here; choose one of the station's officers.",
                key="cli.error.no_device",
                params={"id": device_id},
            )

    def assign(self, case_id: str, device_id: str, deadline: str | None = None) -> ShownCase:
        """Supervisor: hand a case to an officer's device (点对点交办), optionally with a deadline."""
        state = self._state(case_id)
        self.require_device(device_id)
        payload: dict[str, Any] = {"assignee": device_id, "base": field_base(state, "assignee")}
        if deadline:
            payload["deadline"] = deadline
            payload["deadline_base"] = field_base(state, "deadline")
        self._record(ops.ASSIGN, case_id, payload)
        return self.case(case_id)

    def settle_conflict(self, case_id: str, field: str, value: Any = None, keep: bool = True) -> ShownCase:
        """Supervisor: settle the open conflict on `field`, keeping the value shown or writing `value`.

        Writing another value is an ordinary edit (or assignment) that names the shown value as
        its base, which settles the conflict on every device; the status has its own workflow,
        so a status conflict is settled by keeping the status shown (then updated as usual).
        """
        state = self._state(case_id)
        if not any(c["field"] == field and c["open"] for c in state["conflicts"]):
            raise CaseError(f"Case {case_id} has no open conflict on {field!r}; nothing to settle.")
        if keep:
            self._record(ops.REVIEW, case_id, {"field": field, "base": field_base(state, field)})
        elif field == "assignee":
            return self.assign(case_id, str(value))
        elif field in model.EDITABLE:
            return self.update(case_id, fields={field: value})
        else:
            raise CaseError(
                f"The {field} cannot be written directly: keep the value shown, then change it as usual."
            )
        return self.case(case_id)

    def areas(self) -> dict[str, str]:
        """Village -> the police area (警务区) the supervisor placed it in."""
        return areas_of(self.villages_view())

    def place_village(self, village: str, area: str | None) -> dict[str, str]:
        """Supervisor: put a village in a police area (None or "" takes it out); returns all areas."""
        village, area = village.strip(), (area or "").strip() or None
        reason = area_problem(village, area)
        if reason:
            raise refused(reason)
        self._record(AREA_SET, village, place_payload(self.villages_view(), village, area))
        return self.areas()

    def approve_escalation(self, case_id: str, tier: int | None = None) -> ShownCase:
        """Supervisor: approve a pending escalation to `tier`, the one the supervisor saw
        (default: the case's tier now); refused on every device if an officer's raise sorts first."""
        state = self._state(case_id)
        self._record(ops.APPROVE, case_id, {"tier": state["tier"] if tier is None else tier})
        return self.case(case_id)

    # ------------------------------------------------------------ persons (docs/persons.md)

    def person_index(self) -> PersonIndex:
        """The persons of this device's cases, links and marks, as they stand now: the index kept
        for this store, brought current here from what changed since (`fieldapp.core.person_cache`;
        built whole the first time)."""
        return self.kept_persons.current()

    def related_cases(
        self, parties: list[dict[str, str]], village: str = "", index: PersonIndex | None = None
    ) -> list[dict[str, Any]]:
        """The early warning: open or recent cases of known persons these parties match."""
        return (index or self.person_index()).related_cases(parties, village, station_today())

    def _person_id(self, index: PersonIndex, person_id: str) -> str:
        typed = person_id.strip().lower()
        if index.resolve(typed) is None:
            raise CaseError(
                f"No person {typed!r} on this device. `fieldapp person list` shows the ids.",
                key="person.error.unknown",
                params={"id": typed},
            )
        return typed

    def link_persons(self, a: str, b: str, linked: bool = True) -> str:
        """Say two persons are one (`linked`) or not; returns the id the first is shown under then.

        The pair recorded is the two ids as typed; an unlink of two ids joined only through other
        links is refused, naming the pairs to unlink.
        """
        index = self.person_index()
        a, b = self._person_id(index, a), self._person_id(index, b)
        if a == b:
            raise CaseError(
                f"Give two different persons (both were {a}).", key="person.error.same_id", params={"id": a}
            )
        links: dict[str, PairDoc] = self.replica.view(PersonLinkReducer.table)
        pair = links.get(pair_entity(a, b))
        if pair is not None and has_open_conflict(pair, "linked"):
            # A supervisor settling a concurrent link and unlink: either answer is recorded, even
            # the one shown now, having seen both (the merge refuses an officer's).
            self._record(LINK if linked else UNLINK, pair_entity(a, b), link_payload(links, a, b))
            return self.person_index().resolve(a) or a
        same = index.resolve(a) == index.resolve(b)
        if linked and same:
            raise CaseError(
                f"{a} and {b} are already one person.",
                key="person.error.already_one",
                params={"a": a, "b": b, "id": index.resolve(a)},
            )
        if not linked and same and not (pair is not None and pair["linked"]):
            members = set(index.members(a))
            pairs = [
                entity
                for entity, doc in sorted(links.items())
                if doc.get("linked") and set(entity.split("+")) <= members
            ]
            raise CaseError(
                f"{a} and {b} are one person through other links.",
                key="person.error.linked_through",
                params={"a": a, "b": b, "pairs": ", ".join(p.replace("+", " ") for p in pairs)},
            )
        self._record(LINK if linked else UNLINK, pair_entity(a, b), link_payload(links, a, b))
        return self.person_index().resolve(a) or a

    def mark_key_person(
        self,
        person_id: str,
        plan: str | None,
        officer: str | None = None,
        due: str | None = None,
        key: bool = True,
    ) -> str:
        """Mark a key person (重点人员) with a plan (一策: what, by whom, by when), or (`key` False,
        supervisor) take them off; returns the id the mark is recorded on (the one shown)."""
        index = self.person_index()
        pid = index.resolve(self._person_id(index, person_id)) or person_id
        if key and not (plan or "").strip():
            raise CaseError("A key person needs a plan: give --plan TEXT.", key="person.error.no_plan")
        if officer:
            self.require_device(officer)
        if key and officer is None and not self.is_supervisor:
            officer = self.identity.device_id  # an officer's plan is their own
        persons: dict[str, PersonDoc] = self.replica.view(PersonKeyReducer.table)
        payload = key_payload(persons, pid, key, (plan or "").strip() or None, officer, due)
        self._record(KEY, pid, payload)
        return pid

    # ------------------------------------------------------------ exchange by file

    def bundle_recipients(self) -> list[Recipient]:
        """Who can read this device's encrypted export: every device of the station known here
        and not revoked (this one included), whether it announced itself or is known only from
        its enrolment (it never synced), and the station authority (by its CA key)."""
        anchor = self.replica.anchor
        if anchor is None:
            raise CaseError(bilingual("bundle.not_enrolled"))
        found = []
        for device_id, doc in self.devices_view().items():
            enrolment = doc.get("enrolled")
            key = doc.get("public_key") or (enrolment["public_key"] if enrolment else None)
            if key is not None and doc.get("revoked") is None:
                found.append(Recipient(device_id, bytes(key)))
        return [*found, Recipient(anchor.station_id, anchor.ca_public_key)]

    def export_ops(self, plaintext: bool = False) -> bytes:
        """Every operation this device holds, of all authors, as one file's bytes: encrypted for
        `bundle_recipients()` unless `plaintext` (sync/bundle.py, docs/replication.md)."""
        entries = list(self.replica.entries_missing_from({}))
        if plaintext:
            return bundle.pack_plain(self.replica.station, entries)
        try:
            return bundle.seal(self.replica.station, self.bundle_recipients(), entries)
        except bundle.BundleError as exc:
            raise CaseError(bilingual(f"bundle.{exc.code}", **exc.params)) from None

    def import_ops(self, data: bytes) -> ApplyReport:
        """Open (either format), verify and merge an export; the report says what was applied
        and refused. A file this device cannot open is refused whole: nothing is applied."""
        try:
            entries = self._open_bundle(bundle.read(data))
        except bundle.BundleError as exc:
            raise CaseError(bilingual(f"bundle.{exc.code}", **exc.params)) from None
        total, tally, start = ApplyReport(), ledger.Tally(), time.time()
        with self.replica.merge_session():
            # Cut only after an entry with a signature: the receiving side authenticates each
            # chain's part by the signature it ends on (sync.verify).
            for chunk in signed_batches(entries, IMPORT_CHUNK, MAX_CHUNK_BYTES):
                part = self.replica.apply(chunk)
                total.applied += part.applied
                total.duplicates += part.duplicates
                total.held_back += part.held_back
                total.forks += part.forks
                total.rejections.extend(part.rejections)
                tally.add(part.accepted, part.rejections)
        counts = {
            "received": len(entries),
            "duplicates": total.duplicates,
            "held_back": total.held_back,
            "refused": len(total.rejections),
            "forks": total.forks,
        }
        # After the merge committed: the sync ledger's entry for this file (`sync.ledger`).
        ledger.record(self.db, ledger.entry("file", None, start, time.time(), tally=tally, counts=counts))
        return total

    def _open_bundle(self, found: bundle.Bundle) -> list[Entry]:
        """The entries of a parsed file, decrypted with this device's key or the station CA's."""
        if found.entries is not None:  # the plain format
            return found.entries
        station = self.replica.station
        if found.station != station:
            if station == LOCAL_STATION:
                raise bundle.BundleError("not_at_station", file_station=found.station)
            raise bundle.BundleError("other_station", file_station=found.station, own_station=station)
        me = self.identity.device_id
        if me in found.recipients:
            return bundle.open_entries(found, me, self.identity.signing_key)
        from fieldapp.core.station import AUTHORITY_TABLE  # station.py builds on this module

        ca = self.db.keyed(AUTHORITY_TABLE).get_copy("ca")
        if ca is not None and station in found.recipients:
            return bundle.open_entries(found, station, bytes(ca["private_key"]))
        devices = sum(1 for r in found.recipients if r != station)
        raise bundle.BundleError("not_recipient", file_station=station, device=me, count=devices)


def officer_names(service: CaseService) -> Callable[[str], str]:
    """Device id → the officer's name as the device announced it, or as its enrolment names it
    before that (the id if unknown)."""

    def name(device_id: str) -> str:
        doc = service.replica.device(device_id)
        if not doc:
            return device_id
        enrolled = doc.get("enrolled")
        return str(doc.get("officer") or (enrolled["officer"] if enrolled else None) or device_id)

    return name


def init_device(
    store_dir: Path,
    passphrase: str,
    officer: str,
    kdf: KdfParams = DEFAULT_KDF,
    role: str = "officer",
    clock: HybridClock | None = None,
    language: str | None = None,
) -> DeviceInfo:
    """Create this device's encrypted store with a new identity; return its info.

    The device's log starts with its announcement (key, role, officer name). `language`, when
    given, is remembered as the device's interface language (`fieldapp.core.settings`).
    """
    identity = DeviceIdentity.generate()
    db = FieldDB.create(store_dir, passphrase, kdf)
    try:
        created_at = time.time()
        doc = identity.to_doc() | {
            "officer": officer,
            "created_at": created_at,
            "role": role,
            "station": LOCAL_STATION,
        }
        with db.transaction():
            db.table(DEVICE_TABLE).insert(doc)
            replica = CaseService(db, clock).replica
            replica.ensure_announced(role, officer)
            if language is not None:
                remember_language(replica.local, language)
    finally:
        db.close()
    return DeviceInfo(identity.device_id, officer, created_at)
