"""Signed webhook deliveries: accepted when intact and recent, refused otherwise with the reason."""

from __future__ import annotations

import pytest

from notify.signing import BadSignature, sign, verify

SECRET, BODY, NOW = b"s3cret", b'{"alert_id": "a1"}', 1_790_000_000


def test_a_fresh_intact_delivery_verifies() -> None:
    assert verify(SECRET, BODY, sign(SECRET, BODY, NOW - 10), now=NOW) == NOW - 10


@pytest.mark.parametrize(
    ("secret", "body", "header", "reason"),
    [
        (SECRET, BODY + b" ", sign(SECRET, BODY, NOW), "does not match"),
        (b"other", BODY, sign(SECRET, BODY, NOW), "does not match"),
        (SECRET, BODY, sign(SECRET, BODY, NOW - 301), "from now"),
        (SECRET, BODY, None, "no signature"),
        (SECRET, BODY, "t=abc,v1=00", "malformed"),
        (SECRET, BODY, "v1=00", "malformed"),
    ],
)
def test_tampered_stale_or_missing_signatures_are_refused(
    secret: bytes, body: bytes, header: str | None, reason: str
) -> None:
    with pytest.raises(BadSignature, match=reason):
        verify(secret, body, header, now=NOW)
