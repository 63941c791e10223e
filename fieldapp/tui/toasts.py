"""Notifications (toasts) that show every line at any terminal width.

Textual reckons a toast's height from its text before drawing it and, with Chinese and Latin text
mixed in one line, reckons one line fewer than its wrapping then draws, so the toast loses its last
line at 80 columns ("已锁定，但已输入的内容未能保存：X1。" without "请解锁后重新输入。"). A toast's
text is therefore drawn wrapped here, by terminal cells (a Chinese character takes two), to the
width the toast's text really has; Textual then finds no line to wrap and reckons the height right.
The notification itself (what `App.notify` was given) is left as it was.
"""

from __future__ import annotations

import io

import textual
from rich.console import Console
from rich.text import Text
from textual.content import Content
from textual.widgets._toast import Toast

from fieldapp.tui.wide_chars import TEXTUAL_VERSION

#: Textual's toast: 60 columns, at most half the screen, less its padding (1 + 1) and its edge (1),
#: with one column to spare.
TOAST_WIDTH, TOAST_FRAME = 60, 4

_console = Console(file=io.StringIO(), width=200, legacy_windows=False, color_system=None)


def toast_text_width(screen_width: int) -> int:
    """The cells a line of a toast's text has on a screen `screen_width` columns wide."""
    return max(10, min(TOAST_WIDTH, screen_width // 2) - TOAST_FRAME)


def fit_toast(message: str, screen_width: int) -> str:
    """`message` with line breaks where the toast would wrap it (words kept whole where they fit)."""
    width = toast_text_width(screen_width)
    lines = Text(message).wrap(_console, width, overflow="fold")
    return "\n".join(line.plain.rstrip() for line in lines)


def _render(self: Toast) -> Content:
    """`Toast.render` of Textual 8.2.8, with the message fitted (`fit_toast`); a message with
    markup is left as it is."""
    notification = self._notification
    message = notification.message
    if not (notification.markup and "[" in message):
        message = fit_toast(message, self.app.size.width)
    content = Content.from_markup(message) if notification.markup else Content(message)
    if notification.title:
        header_style = self.get_visual_style("toast--title")
        content = Content.assemble((notification.title, header_style), "\n", content)
    return content


def install() -> bool:
    """Draw every toast fitted (once; only on the Textual whose `Toast.render` this restates)."""
    if textual.__version__ != TEXTUAL_VERSION:
        return False
    Toast.render = _render  # type: ignore[method-assign]
    return True
