"""Hostile uploads against the running API: decompression bombs, huge dimensions, the wrong type.

Each is refused with a 4xx and a reason before any pixel is decoded, and nothing is stored or queued.
"""

from __future__ import annotations

import struct
import zlib

import httpx
import pytest

from bench.common import topic_size
from tests.integration.helpers import api_headers, query
from vigia import topics
from vigia.settings import Settings

pytestmark = pytest.mark.integration


def png(width: int, height: int, *, rows: int | None = None) -> bytes:
    """An RGB PNG of zeros; `rows` limits how many rows of pixels are really in it (a lying header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    pack = zlib.compressobj(9)
    row = bytes(1 + 3 * width)  # filter byte, then the pixels
    body = b"".join(pack.compress(row) for _ in range(height if rows is None else rows)) + pack.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def hostile() -> dict[str, tuple[bytes, str]]:
    bomb = png(12_000, 12_000)  # 432 MB of pixels in a few hundred kilobytes
    assert len(bomb) < 2_000_000
    return {
        "bomb": (bomb, "image/png"),
        "huge header": (png(100_000, 100_000, rows=1), "image/png"),
        "gif as png": (
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
            "image/png",
        ),
        "svg with a script": (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/png"),
        "html": (b"<html><body>hi</body></html>", "text/html"),
        "empty": (b"", "image/jpeg"),
    }


EXPECTED = {"bomb": 413, "huge header": 413, "gif as png": 422, "svg with a script": 422, "html": 415, "empty": 422}


@pytest.mark.parametrize("endpoint", ["/assess", "/tiles/19/150071/279781/imagery"])
def test_hostile_images_are_refused_before_decoding_and_nothing_is_kept(
    stack: Settings, hostile: dict[str, tuple[bytes, str]], endpoint: str
) -> None:
    base = f"http://{stack.api_host}:{stack.api_port}"
    headers = api_headers(stack, "operator")
    queued_before = topic_size(stack, topics.TILE_JOBS)
    method = "POST" if endpoint == "/assess" else "PUT"
    answers = {
        name: httpx.request(
            method, base + endpoint, content=body, headers={**headers, "content-type": kind}, timeout=60
        )
        for name, (body, kind) in hostile.items()
    }
    assert {name: r.status_code for name, r in answers.items()} == EXPECTED
    assert all(isinstance(r.json()["detail"], str) for r in answers.values())
    assert "12000x12000" in answers["bomb"].json()["detail"]
    assert topic_size(stack, topics.TILE_JOBS) == queued_before
    assert query(stack, "SELECT count(*) FROM tile_assessments WHERE tile_id = '19/150071/279781'") == [(0,)]
