"""Phone numbers: personal data, kept in one form and shown only in part.

Stored in E.164 (`+51987654321`) so the number a leader subscribed with and the number a
reply comes from compare equal however they were typed ("987 654 321", "0051 987654321").
A number without a country code is read as Peruvian. Google's libphonenumber (the
`phonenumbers` port) knows every country's numbering plan; a hand-written pattern would not.
"""

from __future__ import annotations

import phonenumbers

DEFAULT_REGION = "PE"


class BadPhoneNumber(ValueError):
    """Not a number a phone network could deliver to; the message says why."""


def normalise(raw: str, region: str = DEFAULT_REGION) -> str:
    """The number in E.164, or BadPhoneNumber."""
    text = raw.strip()
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise BadPhoneNumber(f"{raw!r} is not a phone number ({error})") from None
    if not phonenumbers.is_valid_number(number):
        raise BadPhoneNumber(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def mask(number: str) -> str:
    """Enough to tell two numbers apart on a list, not enough to call: +51*****4321."""
    if len(number) <= 6:
        return "*" * len(number)
    head = number[:3] if number.startswith("+") else number[:2]
    return head + "*" * (len(number) - len(head) - 4) + number[-4:]
