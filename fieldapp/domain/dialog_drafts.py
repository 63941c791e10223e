"""Drafts of the case screen's and the supervisor's dialogs: plain data, no Textual.

A dialog that takes typed text (a visit's note, a reason, a deadline) keeps what was
typed when the app locks, as the intake form keeps its draft (`intake_form.DraftKeeper`):
in the store's `local` table, encrypted with the rest, never in a temp file or a log.
One draft per dialog and subject (`visit` on case X), holding the dialog's fields by
widget id; saving or cancelling the dialog removes it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from storage import KeyedTable

DRAFT_PREFIX = "dialog_draft:"
DRAFT_VERSION = 1

#: A field's value as a dialog holds it: typed text, a chosen option, a pressed radio's index.
FieldValue = str | int | None
#: A dialog's fields by widget id.
DialogValues = dict[str, FieldValue]


def draft_key(kind: str, subject: str) -> str:
    """The `local` key of the draft of dialog `kind` about `subject` (a case id, a device id)."""
    return f"{DRAFT_PREFIX}{kind}:{subject}"


def draft_doc(values: Mapping[str, FieldValue], saved_at: str) -> dict[str, Any]:
    """The draft as stored: plain strings and numbers (msgpack-able)."""
    return {"version": DRAFT_VERSION, "saved_at": saved_at, "values": dict(values)}


def read_draft(doc: Any) -> DialogValues | None:
    """The values of a stored draft; anything unreadable is left out (None: no usable draft)."""
    if not isinstance(doc, dict) or doc.get("version") != DRAFT_VERSION:
        return None
    values = doc.get("values")
    if not isinstance(values, dict):
        return None
    return {
        str(name): value
        for name, value in values.items()
        if isinstance(name, str) and (value is None or isinstance(value, str | int))
    }


def _local_minute() -> str:
    return datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")


class DialogDraftKeeper:
    """The draft of one dialog about one subject, in a keyed table (the store's `local`)."""

    def __init__(
        self, table: KeyedTable, kind: str, subject: str, clock: Callable[[], str] = _local_minute
    ) -> None:
        self._table = table
        self._key = draft_key(kind, subject)
        self._clock = clock
        #: The draft found when the dialog opened (None: there was none).
        self.restored = read_draft(table.get_copy(self._key))

    def keep(self, values: Mapping[str, FieldValue]) -> None:
        """Store `values` as the draft."""
        self._table.put(self._key, draft_doc(values, self._clock()))

    def drop(self) -> None:
        """Remove the draft, if there is one."""
        if self._table.has(self._key):
            self._table.remove_keys([self._key])
