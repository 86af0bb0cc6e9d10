"""An SMS's text, pure: its encoding and length in parts, the STOP line every commercial SMS
ends with, and the sender name operators accept.

Lengths follow GSM 03.38 / 03.40. A text whose every character is in the GSM-7 alphabet is
sent as GSM-7: 160 septets in one message, 153 per part of a longer one (a part's header
takes the rest); the extension table's characters (form feed ^ { } \\ [ ~ ] | €) are an
escape and a septet, so they count 2 and a part never ends between the two. Any other
character sends the whole text as UCS-2, counted in UTF-16 code units: 70 in one message,
67 per part; a character outside the BMP (most emoji) counts 2 and is never split either.
Note that French needs UCS-2 for ç, â, ê, î, ô, û, ë, ï, œ: GSM-7 has only é è ù ì ò à Ç É.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from loyalty.sms_errors import BadSenderName

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")
GSM7_CHARS = GSM7_BASIC | GSM7_EXTENSION


class Encoding(StrEnum):
    GSM7 = "gsm-7"
    UCS2 = "ucs-2"


SINGLE = {Encoding.GSM7: 160, Encoding.UCS2: 70}  # units in a message sent alone
PART = {Encoding.GSM7: 153, Encoding.UCS2: 67}  # units in each part of a longer one


@dataclass(frozen=True)
class Length:
    encoding: Encoding
    units: int  # GSM-7 septets, or UCS-2 (UTF-16) code units
    parts: int  # messages billed; 0 for an empty text
    left: int  # units still free in the last part before another part is needed


@dataclass(frozen=True)
class Sms:
    text: str
    length: Length


def encoding_of(text: str) -> Encoding:
    return Encoding.GSM7 if all(char in GSM7_CHARS for char in text) else Encoding.UCS2


def units_of(char: str, encoding: Encoding) -> int:
    """A character's units: 2 for a GSM-7 escape pair or a UTF-16 surrogate pair."""
    if encoding is Encoding.GSM7:
        return 2 if char in GSM7_EXTENSION else 1
    return 2 if ord(char) > 0xFFFF else 1


def measure(text: str) -> Length:
    encoding = encoding_of(text)
    sizes = [units_of(char, encoding) for char in text]
    units = sum(sizes)
    if units <= SINGLE[encoding]:
        return Length(encoding, units, 1 if units else 0, SINGLE[encoding] - units)
    capacity, parts, used = PART[encoding], 1, 0
    for size in sizes:  # a pair that does not fit whole starts the next part
        if used + size > capacity:
            parts, used = parts + 1, 0
        used += size
    return Length(encoding, units, parts, capacity - used)


# The French opt-out mention: "STOP" and the short number that takes the replies.
def stop_line(number: str) -> str:
    return f"STOP au {number}"


def has_stop(text: str, mention: str) -> bool:
    return text.rstrip().endswith(mention)


def commercial(body: str, mention: str) -> Sms:
    """The text of a commercial SMS: the body, then the provider's STOP mention on its own
    line (once), measured together, since the mention is sent and billed too."""
    body = body.strip()
    text = body if has_stop(body, mention) else f"{body}\n{mention}" if body else mention
    return Sms(text, measure(text))


# A sender name (an alphanumeric originator): 11 characters at most (GSM 03.40 packs it in
# 11 septets). French operators take ASCII letters and digits only, refuse an all-digit
# name (it would pass for a number that cannot take replies) and names under 4 characters;
# a space is passed by some providers and refused by others (Brevo), hence `spaces`.
# They also refuse generic or misleading names ("INFO", another brand's): that is a
# person's check, not this one.
SENDER_MIN, SENDER_MAX = 4, 11
_SENDER = re.compile(r"[A-Za-z0-9]+")
_SENDER_SPACED = re.compile(r"[A-Za-z0-9]+( [A-Za-z0-9]+)*")
_LETTER = re.compile(r"[A-Za-z]")


def check_sender(name: str, *, spaces: bool = False) -> str:
    """The sender name, trimmed, or BadSenderName."""
    name = name.strip()
    shape = _SENDER_SPACED if spaces else _SENDER
    if not (SENDER_MIN <= len(name) <= SENDER_MAX and shape.fullmatch(name)
            and _LETTER.search(name)):
        raise BadSenderName()
    return name
