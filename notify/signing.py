"""Webhook signatures: a receiver can tell a delivery came from Vigía, unchanged and recent.

The header is `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`, the scheme Stripe
and others use: the timestamp inside the signed bytes stops a captured delivery being
replayed later, and comparing in constant time gives nothing away to a prober.
"""

from __future__ import annotations

import hashlib
import hmac

HEADER = "X-Vigia-Signature"


class BadSignature(ValueError):
    """The header is missing, malformed, too old, or does not match the body."""


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: bytes, body: bytes, header: str | None, *, now: int, tolerance: int = 300) -> int:
    """The delivery's timestamp if the header signs this body within `tolerance` seconds; else BadSignature."""
    if not header:
        raise BadSignature("no signature header")
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
        given = fields["v1"]
    except (KeyError, ValueError):
        raise BadSignature("malformed signature header") from None
    if abs(now - timestamp) > tolerance:
        raise BadSignature(f"signature timestamp is {abs(now - timestamp)} s from now")
    expected = sign(secret, body, timestamp).split("v1=", 1)[1]
    if not hmac.compare_digest(expected, given):
        raise BadSignature("signature does not match the body")
    return timestamp
