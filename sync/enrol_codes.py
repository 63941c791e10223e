"""Enrolment codes: the word list, making a code and reading one back.

A code such as ``7-river-lantern`` is ``<nameplate>-<word>-<word>``. The number
(the *nameplate*, 1-99) is public: it names the enrolment slot on the station.
The two words come from `WORDS` (256 short, distinct, easy-to-say English
nouns), so a code holds 16 bits of secret. How the code is used (the SPAKE2
password) is in `sync.enrol`. `EnrolError`, the error every part of enrolment
raises, lives here because reading a code is the first thing that can fail.
"""

from __future__ import annotations

import secrets

#: 256 code words: short, distinct, easy to say and to hear apart.
_WORD_TEXT = """
acorn almond anchor apple arrow atlas badger bagel balloon bamboo banjo barrel basket beacon beaver beetle
bell biscuit bison blanket bottle bridge brook bucket butter button cabbage cabin cactus camel camera canal
candle canoe canyon carbon carpet castle cedar cello chalk cherry chimney circle cliff cloud clover cobalt
cobra coconut comet compass cookie copper coral cotton cougar cradle crayon cricket crystal daisy desert
diamond dolphin donkey dove dragon drum dune eagle elbow ember engine falcon feather fern fiddle fig finch
flag flute forest fossil fountain fox funnel garden garlic gecko ginger glacier glove goat gopher granite
grape gravel guitar hammer harbor harp harvest hazel helmet heron hill honey hornet horse igloo ink island
ivory jacket jaguar jasmine jelly jewel jungle kayak kelp kettle kitten kiwi koala ladder lagoon lantern
lemon lemur leopard lily lime linen lion lizard lobster locket lotus magnet mango maple marble meadow melon
meteor mirror monkey moose mountain muffin mushroom nectar needle nest noodle nutmeg oak ocean olive onion
orange orbit orchid ostrich otter owl oyster paddle panda panther paper parrot peach pearl pebble pelican
pencil pepper piano pigeon pillow pine planet pocket pony potato prism pumpkin puzzle quartz quilt rabbit
raccoon radio rainbow raisin raven river robin rocket saddle saffron salmon sandal saucer scarf shell shovel
silver sparrow spider spoon squirrel star stone storm sugar summit sunset swan table teapot thistle tiger
timber toffee tomato topaz tractor trout trumpet tuba tulip tunnel turnip turtle umbrella valley vanilla
velvet violin volcano waffle wagon walnut walrus whale willow window wizard wolf yogurt zebra zipper
"""
WORDS = tuple(_WORD_TEXT.split())
_WORD_SET = frozenset(WORDS)


class EnrolError(Exception):
    """Enrolment failed; the message says why and what to do."""


def make_code(nameplate: int) -> str:
    """A fresh code for a slot: ``<nameplate>-<word>-<word>``."""
    return f"{nameplate}-{secrets.choice(WORDS)}-{secrets.choice(WORDS)}"


def parse_code(text: str) -> tuple[int, str]:
    """(nameplate, canonical code) from what a person typed; EnrolError if it cannot be a code."""
    parts = text.strip().lower().replace(" ", "-").split("-")
    parts = [p for p in parts if p]
    if len(parts) != 3 or not parts[0].isdigit() or not 1 <= int(parts[0]) <= 99:
        raise EnrolError("An enrolment code looks like 7-river-lantern: a number and two words.")
    for word in parts[1:]:
        if word not in _WORD_SET:
            raise EnrolError(f"{word!r} is not a code word; check the code on the supervisor's screen.")
    return int(parts[0]), "-".join(parts)
