"""The key help (F1): every key of the screen beneath, in the UI language.

At 80x24 a footer cannot hold every key of a busy screen (the case screen of a supervisor
has nine); this list always can, and it scrolls.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from fieldapp.i18n import has_key, t
from fieldapp.i18n import keys as _strings  # noqa: F401  (registers the key help's strings)


@dataclass(frozen=True)
class KeyLine:
    """One action and the keys that do it, as the help lists them."""

    keys: str
    description: str


def key_lines(screen: Screen[object]) -> list[KeyLine]:
    """The keys of `screen` and of the app that do something there now, one line per action.

    Only bindings described by a catalogue key (the app's own, translated) are listed, so
    Textual's built-in English bindings never reach a Chinese screen; an action the screen
    hides (`check_action` false, e.g. a supervisor's on an officer's device) is left out.
    """
    lines: dict[tuple[str, str], list[str]] = {}
    # A modal screen (a dialog) takes no app key: Textual stops its key chain at the dialog.
    nodes: list[DOMNode] = [screen] if screen.is_modal else [screen, screen.app]
    for node in nodes:
        merged = type(node)._merged_bindings
        if merged is None:
            continue
        for bindings in merged.key_to_bindings.values():
            for binding in bindings:
                if not has_key(binding.description) or not _applies(node, binding):
                    continue
                description = t(binding.description)
                keys = lines.setdefault((binding.action, description), [])
                shown = screen.app.get_key_display(binding)
                if shown not in keys:
                    keys.append(shown)
    return [KeyLine(" / ".join(keys), description) for (_action, description), keys in lines.items()]


def _applies(node: DOMNode, binding: Binding) -> bool:
    action = binding.action
    target = node
    if action.startswith("app."):
        target, action = node.app, action.removeprefix("app.")
    name = action.split("(", 1)[0]
    return target.check_action(name, ()) is not False


class KeysHelp(ModalScreen[None]):
    """The list of keys of the screen beneath; Esc or F1 closes it."""

    BINDINGS = [
        Binding("escape", "dismiss", show=False),
        Binding("f1", "dismiss", show=False),
    ]

    DEFAULT_CSS = """
    KeysHelp { align: center middle; }
    KeysHelp > Vertical {
        width: 60; max-width: 100%; height: auto; max-height: 100%;
        padding: 0 1; border: round $primary; background: $surface;
    }
    KeysHelp #keys-title { text-style: bold; margin-bottom: 1; }
    KeysHelp VerticalScroll { height: auto; max-height: 1fr; }
    KeysHelp #keys-close { margin-top: 1; color: $text-muted; }
    """

    def __init__(self, lines: list[KeyLine]) -> None:
        super().__init__()
        #: The keys listed, in the order the screen declares them.
        self.lines = lines

    def compose(self) -> ComposeResult:
        width = max((cell_len(line.keys) for line in self.lines), default=0) + 2
        with Vertical():
            yield Static(t("keys.title"), id="keys-title")
            with VerticalScroll():
                for line in self.lines:
                    text = Text(line.keys + " " * (width - cell_len(line.keys)), style="bold")
                    text.append(line.description)
                    yield Static(text, classes="key-line")
            yield Static(t("keys.close"), id="keys-close")

    def texts(self) -> list[str]:
        """The lines as shown (for tests)."""
        return [str(s.render()) for s in self.query(".key-line").results(Static)]
