"""Key bindings whose footer descriptions follow the current language."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

from fieldapp.i18n import has_key, t

#: Footer labels Textual's own widgets write in English, and the catalogue keys that say them in
#: the UI language (a Select's open menu shows "esc Dismiss menu").
TEXTUAL_LABELS = {"Dismiss menu": "binding.dismiss_menu"}


def _translated(binding: Binding) -> Binding:
    key = TEXTUAL_LABELS.get(binding.description, binding.description)
    if has_key(key):
        return replace(binding, description=t(key))
    return binding


def translate_bindings(node: DOMNode) -> None:
    """Rebuild `node`'s bindings with descriptions (i18n keys in BINDINGS) translated.

    Textual reads footer text from each node's `_bindings` copy of the class bindings
    and has no public hook to relabel them, so that copy is replaced from the
    untranslated class-level map each time the language changes.
    """
    source = type(node)._merged_bindings
    if source is None:
        return
    node._bindings = BindingsMap.from_keys(
        {key: [_translated(b) for b in bindings] for key, bindings in source.key_to_bindings.items()}
    )
    node.refresh_bindings()


def translate_textual_labels(node: DOMNode) -> None:
    """Relabel the footer keys of one of Textual's own widgets (TEXTUAL_LABELS) in the UI language;
    nothing for any other node, or one already gone from the screen."""
    source = type(node)._merged_bindings
    if source is None or not node.is_attached:
        return
    if any(b.description in TEXTUAL_LABELS for bs in source.key_to_bindings.values() for b in bs):
        translate_bindings(node)
