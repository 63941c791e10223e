"""The shapes of view documents as the merge engine keeps them, and the `devices` view's own.

Types for the checker only (`typing.TypedDict`: at run time each document is the plain dict that
is stored and hashed, key for key). Every entity of every view carries the engine's keys
(`sync/merge.py`: OPS, WRITERS, CONFLICTS, REFUSED); each reducer's module describes the rest of
its documents: the `devices` view here, cases and villages in `fieldapp/domain/documents.py`.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

#: An operation's place in the total order as an entity's `_ops` stores it: [hlc, author, epoch,
#: seq] (a list, as msgpack gives it back; `Operation.order` is the same as a tuple).
OpOrder = list[Any]


class ConflictValue(TypedDict):
    """One of the concurrent writes a conflict keeps."""

    #: As the operation wrote it: any field's value.
    value: Any
    op: str
    hlc: int
    author: str


class Conflict(TypedDict):
    """Two writes of a field made without seeing each other (`merge.set_field`)."""

    field: str
    open: bool
    values: list[ConflictValue]
    #: The key of the operation that settled it (a review or a write that saw the value shown).
    resolved_by: NotRequired[str]


class Refused(TypedDict):
    """An operation held in the log that had no effect on the entity, and why (`merge.refuse`):
    a stable code and its parameters (`sync.refusals`), rendered in the reader's language when
    shown. Views of format 4 and earlier held an English `reason` instead; they are re-folded on
    open (`sync.replica.VIEW_FORMAT`).
    """

    op: str
    kind: str
    author: str
    hlc: int
    code: str
    params: dict[str, Any]


class Revocation(TypedDict):
    """A device's revocation, as its `devices` document keeps it."""

    reason: str
    #: chain ("author.epoch") -> the last seq the station saw of that log: as the station signed
    #: it (`trust.revocation_statement`).
    cutoff: dict[str, int]
    by: str
    op: str
    hlc: int


class Settlement(TypedDict):
    """A supervisor's decision on a fork of a device's log: the entry kept at (epoch, seq)."""

    keep: bytes
    reason: str
    by: str
    op: str


class Enrolment(TypedDict):
    """The station authority's record that it certified a device (`device.enrol`), as the
    device's `devices` document keeps it: the certificate's key, officer, role and serial."""

    public_key: bytes
    officer: str
    role: str
    serial: int
    #: When the certificate was issued (milliseconds since the epoch, as it says).
    issued_ms: int
    by: str
    op: str
    hlc: int


class DeviceDoc(TypedDict):
    """An entry of the `devices` view (`sync/devices.py`): a device's key, role, officer,
    enrolment, revocation and fork settlements. Keyed by the device id."""

    device_id: str
    #: epoch as 16 hex digits -> the role that epoch's announcement carries.
    roles: dict[str, str]
    revoked: Revocation | None
    #: From the latest announcement; absent until one is folded.
    public_key: NotRequired[bytes]
    role: NotRequired[str]
    officer: NotRequired[str]
    #: The latest enrolment (in total order) the station authority recorded; absent if none (a
    #: device enrolled before enrolments were recorded, or the station authority itself).
    enrolled: NotRequired[Enrolment]
    #: `trust.settlement_key(epoch, seq)` -> the decision; absent until the first.
    settled: NotRequired[dict[str, Settlement]]
    #: Every document of the view has it once folded (`merge.fold_into` adds it after `initial`).
    _ops: NotRequired[list[OpOrder]]
    _w: NotRequired[dict[str, int]]
    refused: NotRequired[list[Refused]]
