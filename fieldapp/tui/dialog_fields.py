"""A dialog's fields read as plain values and written back: what a dialog's draft holds.

`fieldapp.domain.dialog_drafts` stores the values (encrypted, in the store's `local`
table); these helpers only move them between the widgets and a dict keyed by widget id.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import suppress

from textual.widget import Widget
from textual.widgets import Input, RadioButton, RadioSet, Select, TextArea
from textual.widgets.select import InvalidSelectValueError

from fieldapp.domain.dialog_drafts import DialogValues, FieldValue


def read_fields(widgets: Iterable[Widget]) -> DialogValues:
    """Typed text, the chosen option, the pressed radio's index: by widget id."""
    values: DialogValues = {}
    for widget in widgets:
        key = str(widget.id)
        if isinstance(widget, Input):
            values[key] = widget.value
        elif isinstance(widget, TextArea):
            values[key] = widget.text
        elif isinstance(widget, Select):
            chosen = widget.value
            values[key] = chosen if isinstance(chosen, str | int) else None
        elif isinstance(widget, RadioSet):
            values[key] = widget.pressed_index
    return values


def write_fields(widgets: Iterable[Widget], values: Mapping[str, FieldValue]) -> None:
    """Put `values` back in the widgets (a choice the field no longer offers is skipped)."""
    for widget in widgets:
        value = values.get(str(widget.id))
        if isinstance(widget, Input) and isinstance(value, str):
            widget.value = value
        elif isinstance(widget, TextArea) and isinstance(value, str):
            widget.text = value
        elif isinstance(widget, Select) and value is not None:
            with suppress(InvalidSelectValueError):
                widget.value = value
        elif isinstance(widget, RadioSet) and isinstance(value, int):
            buttons = list(widget.query(RadioButton))
            if 0 <= value < len(buttons):
                buttons[value].value = True


def focus_last_typed(
    widgets: Iterable[Widget], before: Mapping[str, FieldValue], now: Mapping[str, FieldValue]
) -> None:
    """The cursor at the end of the last text field that changed (where the typing most likely was)."""
    typed = [
        w for w in widgets if isinstance(w, Input | TextArea) and now.get(str(w.id)) != before.get(str(w.id))
    ]
    if not typed:
        return
    last = typed[-1]
    last.focus()
    if isinstance(last, TextArea):
        last.move_cursor(last.document.end)
    elif isinstance(last, Input):
        last.cursor_position = len(last.value)
