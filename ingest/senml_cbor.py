"""SenML in CBOR (RFC 8428 section 6), as 2G devices send it to save bytes.

The CBOR form is the JSON form with integer labels for the fields the RFC defines and a
byte string for `vd`; it is turned into the JSON form's records here, so the one resolver
(`senml.py`) applies the same rules and gives the same dead-letter reasons to both.

On a topic that also carries JSON the two are told apart by the first byte: a SenML pack
is a CBOR array (major type 4, bytes 0x80-0x9f), and no JSON text can start with one of
those bytes, which are never the first byte of a UTF-8 character.
"""

from __future__ import annotations

import base64
from typing import Any

import cbor2

from ingest.rejection import Rejected

CONTENT_TYPE = "application/senml+cbor"
LABELS: dict[int, str] = {
    -1: "bver", -2: "bn", -3: "bt", -4: "bu", -5: "bv", -6: "bs",
    0: "n", 1: "u", 2: "v", 3: "vs", 4: "vb", 5: "s", 6: "t", 7: "ut", 8: "vd",
}  # fmt: skip


class CborError(Rejected):
    """A payload that claims to be CBOR and is not a readable SenML pack."""


def is_cbor_pack(payload: bytes) -> bool:
    return bool(payload) and 0x80 <= payload[0] <= 0x9F


def _field(key: Any, index: int) -> str:
    if isinstance(key, int) and not isinstance(key, bool):
        if key not in LABELS:
            raise CborError("bad_senml", f"record {index}: CBOR label {key} is not a SenML field")
        return LABELS[key]
    if isinstance(key, str):
        return key  # fields beyond the RFC's keep their names in CBOR too
    raise CborError("bad_senml", f"record {index}: a field label must be an integer or text, not {key!r}")


def _record(raw: Any, index: int) -> Any:
    if not isinstance(raw, dict):
        return raw  # the resolver says what is wrong with it
    record = {}
    for key, value in raw.items():
        name = _field(key, index)
        if name == "vd" and isinstance(value, bytes):
            value = base64.urlsafe_b64encode(value).decode().rstrip("=")  # as the JSON form carries it
        record[name] = value
    return record


def decode(payload: bytes) -> list[Any]:
    """The pack as the JSON form's list of records; `CborError` for what is not CBOR."""
    try:
        pack = cbor2.loads(payload)
    except (cbor2.CBORDecodeError, ValueError, TypeError, OverflowError, RecursionError) as error:
        raise CborError("bad_cbor", f"not CBOR: {error}") from error
    if not isinstance(pack, list):
        raise CborError("bad_senml", "a SenML pack in CBOR is an array")
    return [_record(raw, index) for index, raw in enumerate(pack)]
