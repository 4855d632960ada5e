"""The SMS alphabet: what fits in one message on any handset.

A single SMS carries 160 characters of the GSM 03.38 default alphabet. One character outside
it (an á, an ó, a curly quote) turns the whole message into UCS-2, and the limit falls to 70.
Spanish keeps é and ñ in the alphabet but not á, í, ó or ú, so a message written with them
would cost three messages. We fold those letters to their plain form (Tensión -> Tension),
which readers in Peru are used to from SMS, rather than pay for UCS-2.

Past 160 characters a message goes as a concatenated SMS: 153 characters per part (the rest
of each part carries the header that joins them), reassembled on the phone.
"""

from __future__ import annotations

import math
import unicodedata

BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENDED = frozenset("^{}\\[~]|€\f")  # sent as an escape and the character: two places each
SINGLE = 160
PART = 153

_PLAIN = {"“": '"', "”": '"', "‘": "'", "’": "'", "–": "-", "—": "-", "…": "...", "·": ".", "\u00a0": " "}


def fold(text: str) -> str:
    """The text in the GSM alphabet: accents the alphabet lacks dropped, typographic marks made plain,
    anything else with no plain form replaced by '?'."""
    out = []
    for char in text:
        if char in BASIC or char in EXTENDED:
            out.append(char)
            continue
        if char in _PLAIN:
            out.append(_PLAIN[char])
            continue
        bare = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
        out.append(bare if bare and all(c in BASIC for c in bare) else "?")
    return "".join(out)


def length(text: str) -> int:
    """Places the text takes in an SMS; ValueError if it is not in the GSM alphabet (fold it first)."""
    size = 0
    for char in text:
        if char in BASIC:
            size += 1
        elif char in EXTENDED:
            size += 2
        else:
            raise ValueError(f"{char!r} is not in the GSM 03.38 alphabet")
    return size


def parts(text: str) -> int:
    """How many SMS the text is sent as."""
    size = length(text)
    return 1 if size <= SINGLE else math.ceil(size / PART)
