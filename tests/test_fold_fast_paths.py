"""The merge's fast paths give exactly what the general paths give.

A merge folds tens of thousands of operations, so a few steps take a shortcut:
a stamp's ISO text from lookup tables, a creation's fields written at once, a case id
spelled two characters at a time. Each
is checked here against the plain computation it replaces.
"""

from __future__ import annotations

import base64
import copy
import hashlib
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fieldapp.domain import model
from sync.merge import CONFLICTS, OPS, WRITERS, set_field, set_new_fields
from sync.ops import Operation

#: Milliseconds from 1970 to 2200: every stamp a device can make (and far beyond).
MS = st.integers(min_value=0, max_value=7_258_118_400_000)


@given(ms=MS, counter=st.integers(min_value=0, max_value=0xFFFF))
def test_stamp_iso_is_the_datetime_rendering_of_the_stamps_second(ms: int, counter: int) -> None:
    expected = datetime.fromtimestamp(ms // 1000, UTC).isoformat(timespec="seconds")
    assert model.stamp_iso(ms << 16 | counter) == expected


def _op(seq: int) -> Operation:
    return Operation("st", "author", 1, seq, bytes(32), seq << 16, "case.create", "c", {}, b"", bytes(64))


FIELD_NAMES = st.sampled_from(["village", "risk", "summary", "deadline"])
VALUES = st.one_of(st.none(), st.text(max_size=5), st.integers())


@st.composite
def states(draw: Any) -> dict[str, Any]:
    """An entity some of whose fields were written already (or none of them)."""
    state: dict[str, Any] = {OPS: [], CONFLICTS: []}
    for seq, name in enumerate(draw(st.lists(FIELD_NAMES, max_size=4)), start=1):
        op = _op(seq)
        set_field(state, name, draw(VALUES), op, None)
        state[OPS].append(list(op.order))
    return state


@given(state=states(), values=st.dictionaries(FIELD_NAMES, VALUES, min_size=1))
def test_set_new_fields_is_set_field_of_each_without_a_base(
    state: dict[str, Any], values: dict[str, Any]
) -> None:
    op = _op(len(state[OPS]) + 1)
    general = copy.deepcopy(state)
    for name, value in values.items():
        set_field(general, name, value, op, None)
    fast = copy.deepcopy(state)
    set_new_fields(fast, values, op)
    assert fast == general
    assert fast[WRITERS].keys() >= values.keys()


@given(
    author=st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567", min_size=1, max_size=32),
    epoch=st.integers(min_value=0, max_value=2**63 - 1),
    seq=st.integers(min_value=1, max_value=2**40 - 1),
)
def test_case_id_is_the_base32_of_the_top_60_bits_of_the_creating_operations_hash(
    author: str, epoch: int, seq: int
) -> None:
    digest = hashlib.sha256(f"{author}.{epoch}.{seq}".encode()).digest()
    assert model.case_id_for(author, epoch, seq) == base64.b32encode(digest[:8]).decode()[:12].lower()
