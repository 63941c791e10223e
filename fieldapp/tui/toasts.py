"""Notifications (toasts) that show every line at any terminal width.

Textual reckons a toast's height at its full width (60 columns) and then narrows it to half the
screen, so at 80 columns a message that wraps onto more lines than it would at 60 loses its last
lines ("已锁定，但已输入的内容未能保存：X1。" without "请解锁后重新输入。"). The message is therefore
wrapped here, by terminal cells (a Chinese character takes two), to the width the toast's text
really has; Textual then finds no line to wrap and reckons the height right.
"""

from __future__ import annotations

import io

from rich.console import Console
from rich.text import Text
from textual.app import App
from textual.notifications import SeverityLevel

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


class FittedToastsApp(App[None]):
    """An app whose notifications show every line at its terminal's width (`fit_toast`)."""

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Notify with line breaks where the toast wraps; a message with markup is left as it is."""
        if not (markup and "[" in message):
            message = fit_toast(message, self.size.width)
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)
