"""Guards on what callers send: the rate limit per key or address, and text that the database can store."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError

from api.guards import Guards
from api.schemas import Acknowledgement


def limited_app(rule: str) -> FastAPI:
    app = FastAPI()
    app.add_middleware(Guards, rule=rule)

    @app.get("/ping")
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def test_the_fourth_call_in_a_minute_is_refused_with_retry_after() -> None:
    client = TestClient(limited_app("3/minute"))
    alice = {"Authorization": "Bearer vg_aaaaaaaaaaaa_secret"}
    assert [client.get("/ping", headers=alice).status_code for _ in range(3)] == [200, 200, 200]
    refused = client.get("/ping", headers=alice)
    assert refused.status_code == 429
    assert "3 per 1 minute" in refused.json()["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-Request-ID"]  # a refused call can be found in the logs too


def test_a_plain_request_id_is_kept_and_anything_else_replaced() -> None:
    client = TestClient(limited_app("100/minute"))
    assert client.get("/ping", headers={"X-Request-ID": "phone-7.3"}).headers["X-Request-ID"] == "phone-7.3"
    made = client.get("/ping", headers={"X-Request-ID": "bad id\n"}).headers["X-Request-ID"]
    assert len(made) == 32


def test_each_key_and_the_keyless_have_their_own_count() -> None:
    client = TestClient(limited_app("2/minute"))
    for key in ("vg_aaaaaaaaaaaa_x", "vg_bbbbbbbbbbbb_x"):
        assert [client.get("/ping", headers={"Authorization": f"Bearer {key}"}).status_code for _ in range(2)] == [
            200, 200,
        ]  # fmt: skip
    assert client.get("/ping").status_code == 200  # no key: counted by address
    # a key of the wrong shape is counted by address too, so made-up keys cannot dodge the limit
    assert client.get("/ping", headers={"Authorization": "Bearer made-up"}).status_code == 200
    assert client.get("/ping", headers={"Authorization": "Bearer other-made-up"}).status_code == 429


def test_text_people_write_refuses_nul_control_characters_and_broken_unicode() -> None:
    assert Acknowledgement(note="Cisterna pedida.\nLlega a las 16:00\t(Sedapal)").note.startswith("Cisterna")
    for bad in ("a\x00b", "bell\x07", "\udaa1 lone surrogate"):
        with pytest.raises(ValidationError):
            Acknowledgement(note=bad)
