"""The footer of every screen: Textual's, compact, with F1 (every key, `KeysHelp`) at its left
and no key cut in half.

At 80 columns a busy screen's keys do not all fit, and Textual cuts the footer at the
right, where the app-wide keys come last. Here F1 is docked at the left, so the list of all
keys is always one visible key away, and a key that would not fit whole is left out of the
footer (F1 lists it) rather than shown as "q Qui".
"""

from __future__ import annotations

from rich.cells import cell_len
from textual import events
from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Footer as TextualFooter
from textual.widgets._footer import FooterKey  # the footer's key widget (no public handle)

#: The action of the F1 binding (`FieldApp.action_keys_help`).
KEYS_HELP_ACTION = "keys_help"


def key_width(key: FooterKey) -> int:
    """Columns a compact footer key takes: key, a space, description, and its right margin."""
    width = cell_len(key.key_display) + 1
    if key.description:
        width += 1 + cell_len(key.description)
    return width


class Footer(TextualFooter):
    """Textual's compact footer; the key-help key docked at the left; no key shown cut."""

    # The space after a key is part of it (padding, not margin), so the footer reads as text too.
    DEFAULT_CSS = """
    Footer FooterKey.-keys-help { dock: left; }
    Footer.-compact FooterKey { margin-right: 0; }
    Footer.-compact FooterKey.-compact .footer-key--description { padding: 0 1 0 1; }
    """

    def __init__(self) -> None:
        # Compact: one space between keys instead of two, so 80 columns hold more of them.
        super().__init__(compact=True)
        #: The width the keys were last fitted to.
        self._fitted_width = 0

    def compose(self) -> ComposeResult:
        widgets: list[Widget] = list(super().compose())
        keys = [w for w in widgets if isinstance(w, FooterKey)]
        if len(keys) != len(widgets):  # binding groups (not used here): Textual's layout as is
            yield from widgets
            return
        room = self.size.width or self.app.size.width
        for key in keys:
            if key.action.removeprefix("app.") == KEYS_HELP_ACTION:
                key.add_class("-keys-help")
                room -= key_width(key)
            elif key.has_class("-command-palette"):
                room -= key_width(key) + 1  # and its left border
        for key in keys:
            if not key.has_class("-keys-help") and not key.has_class("-command-palette"):
                # The last key's right margin may touch the palette's border.
                if key_width(key) - 1 <= room:
                    room -= key_width(key)
                else:
                    key.display = False  # whole or not at all; F1 lists it
            yield key

    def on_resize(self, event: events.Resize) -> None:
        """Fit the keys again to a new width."""
        if event.size.width != self._fitted_width:
            self._fitted_width = event.size.width
            self.refresh(recompose=True)
