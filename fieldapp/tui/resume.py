"""Where the officer was when the app locked, so that unlocking returns there.

Before the store closes, the screens over home are described as `Place`s (ids only,
never typed text: what was typed goes to the encrypted store as drafts); after unlock
the app opens them again in order, each dialog showing its draft. A screen that cannot
be described (a drill-down list, a supervisor's dialog) ends the description: the
screens under it come back, and a dialog's draft comes back when it is opened again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any


@dataclass(frozen=True)
class Place:
    """A screen to open again: its kind and ids, never what was typed."""

    #: "case", "find", "sync", "intake", "supervisor" or "person".
    screen: str
    #: The case shown ("case" only).
    case_id: str = ""
    #: The dialog open over the screen: the case screen's action ("visit", "update", ...),
    #: or the supervisor's decision ("revoke", "conflict", ...).
    dialog: str = ""
    #: What that dialog is about, if the screen does not say (a device, a village, a fork);
    #: for "person", the person shown.
    subject: str = ""
    #: The supervisor's tab.
    tab: str = ""


def places_of(screens: Sequence[Any]) -> list[Place]:
    """The screens above home as places, bottom first, up to the first one that cannot come back.

    A screen that can come back has `resume_place() -> Place | None`; one that can reopen a
    dialog over it has `resumed_dialog(dialog) -> tuple[str, str] | None` (its name and
    subject, None if it cannot).
    """
    places: list[Place] = []
    index = 0
    while index < len(screens):
        screen = screens[index]
        describe = getattr(screen, "resume_place", None)
        place = describe() if describe is not None else None
        if place is None:
            break
        above = screens[index + 1] if index + 1 < len(screens) else None
        dialog_of = getattr(screen, "resumed_dialog", None)
        dialog = dialog_of(above) if above is not None and dialog_of is not None else None
        if dialog is not None:
            place = replace(place, dialog=dialog[0], subject=dialog[1])
            index += 1
        places.append(place)
        index += 1
    return places
