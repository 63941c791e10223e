"""Key bindings whose footer descriptions follow the current language."""

from __future__ import annotations

from dataclasses import replace

from textual.binding import Binding, BindingsMap
from textual.dom import DOMNode

from fieldapp.i18n import has_key, t


def _translated(binding: Binding) -> Binding:
    if has_key(binding.description):
        return replace(binding, description=t(binding.description))
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
