"""API keys against the real database: made by the CLI's code, checked by the API's dependency."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from psycopg_pool import AsyncConnectionPool

from api import keys
from api.access import Action, Principal, Role
from api.deps import PrincipalDep, allowed
from api.key_cache import KeyCache, KeyListener
from vigia.settings import Settings

pytestmark = pytest.mark.integration


def guarded_app(settings: Settings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AsyncConnectionPool(settings.db_conninfo, min_size=1, max_size=2) as pool:
            app.state.pool = pool
            app.state.key_listener = KeyListener(settings.db_conninfo, KeyCache(60))
            app.state.key_listener.start()
            yield
            await app.state.key_listener.close()

    app = FastAPI(lifespan=lifespan)

    @app.get("/me")
    async def me(principal: PrincipalDep) -> dict[str, str | None]:
        return {"role": principal.role.value, "district": principal.district}

    @app.post("/sensors")
    async def manage(principal: Principal = allowed(Action.MANAGE_SENSORS)) -> dict[str, str]:  # noqa: B008  # FastAPI's idiom
        return {"ok": principal.key_id}

    return app


def test_keys_authenticate_by_role_and_stop_working_when_revoked(stack: Settings) -> None:
    with psycopg.connect(stack.db_conninfo, autocommit=True) as conn:
        leader_id, leader = keys.add(conn, role=Role.LEADER, district="ate", name="Junta vecinal Mz. C")
        _, viewer = keys.add(conn, role=Role.VIEWER, district=None, name="planner")
        with pytest.raises(ValueError, match="district"):
            keys.add(conn, role=Role.LEADER, district=None, name="no district")

    with TestClient(guarded_app(stack)) as client:
        assert client.get("/me", headers={"Authorization": f"Bearer {leader}"}).json() == {
            "role": "leader", "district": "ate",
        }  # fmt: skip
        missing = client.get("/me")
        assert missing.status_code == 401
        assert "API key is required" in missing.json()["detail"]
        assert client.get("/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
        assert client.get("/me", headers={"Authorization": f"Bearer {leader}x"}).status_code == 401
        forbidden = client.post("/sensors", headers={"Authorization": f"Bearer {viewer}"})
        assert forbidden.status_code == 403
        assert forbidden.json()["detail"] == "a viewer key may not manage-sensors"

        with psycopg.connect(stack.db_conninfo, autocommit=True) as conn:
            assert keys.revoke(conn, leader_id)
            assert not keys.revoke(conn, leader_id)
        revoked = client.get("/me", headers={"Authorization": f"Bearer {leader}"})
        assert revoked.status_code == 401
        assert revoked.json()["detail"] == "unknown, revoked or expired API key"


def wait_until_listening(listener: KeyListener) -> None:
    deadline = time.monotonic() + 10
    while not listener.hears_all():
        if time.monotonic() > deadline:
            raise TimeoutError("the key listener did not connect")
        time.sleep(0.02)


def test_a_key_the_api_kept_stops_working_the_moment_it_is_revoked(stack: Settings) -> None:
    with psycopg.connect(stack.db_conninfo, autocommit=True) as conn:
        key_id, key = keys.add(conn, role=Role.VIEWER, district=None, name="kept")
        _, other = keys.add(conn, role=Role.VIEWER, district=None, name="still valid")
    app = guarded_app(stack)
    with TestClient(app) as client:
        listener: KeyListener = app.state.key_listener
        wait_until_listening(listener)
        for given in (key, other):
            assert client.get("/me", headers={"Authorization": f"Bearer {given}"}).status_code == 200
        assert listener.lookup(key) is not None  # kept: the next request asks no database

        with psycopg.connect(stack.db_conninfo, autocommit=True) as conn:
            assert keys.revoke(conn, key_id)
        refused = client.get("/me", headers={"Authorization": f"Bearer {key}"})
        assert refused.status_code == 401
        assert client.get("/me", headers={"Authorization": f"Bearer {other}"}).status_code == 200


def test_a_kept_key_is_refused_once_it_expires(stack: Settings) -> None:
    with psycopg.connect(stack.db_conninfo, autocommit=True) as conn:
        _, key = keys.add(conn, role=Role.VIEWER, district=None, name="brief", valid_for=timedelta(seconds=3))
    app = guarded_app(stack)
    with TestClient(app) as client:
        wait_until_listening(app.state.key_listener)
        assert client.get("/me", headers={"Authorization": f"Bearer {key}"}).status_code == 200
        assert app.state.key_listener.lookup(key) is not None
        time.sleep(3.1)
        assert app.state.key_listener.lookup(key) is None
        assert client.get("/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
