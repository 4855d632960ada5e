"""Server-Sent Events as EventSource parses them."""

from __future__ import annotations

import pytest

from api.sse import KEEPALIVE, event


def test_an_event_has_its_id_name_and_data_and_ends_with_a_blank_line() -> None:
    assert event('{"a": 1}', name="alert", event_id="42") == b'id: 42\nevent: alert\ndata: {"a": 1}\n\n'


def test_multi_line_data_becomes_several_data_lines() -> None:
    assert event("one\ntwo") == b"data: one\ndata: two\n\n"
    assert event("") == b"data: \n\n"


def test_retry_and_keepalive() -> None:
    assert event("x", retry_ms=3000) == b"retry: 3000\ndata: x\n\n"
    assert KEEPALIVE.startswith(b":")


def test_an_id_spanning_lines_is_refused() -> None:
    with pytest.raises(ValueError, match="span lines"):
        event("x", event_id="1\nevent: forged")
