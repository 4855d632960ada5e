"""Dependencies routes declare in their signatures, so a route reads as its contract."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from api import repo
from api.access import Action, BadKey, Principal, Role, secret_matches, split_key
from api.coalesce import Coalescer
from api.key_cache import KeyListener
from api.reporting import Reporting
from vigia.accounts import BrokerAccounts
from vigia.settings import Settings


# The getters are `async` though they never wait: FastAPI runs a plain `def` dependency in its
# thread pool, a hand-off to another thread and back on every request.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_pool(request: Request) -> AsyncConnectionPool:
    pool: AsyncConnectionPool = request.app.state.pool
    return pool


READS = frozenset({"GET", "HEAD"})


async def get_conn(request: Request) -> AsyncIterator[AsyncConnection]:
    """A pooled connection: a write's statements commit together when the route returns.

    The pool's connections are in autocommit (see `api/pool.py`), so a read runs each
    statement on its own: it changes nothing, and a BEGIN and COMMIT around it would double
    the round trips of a sensor's latest readings. A write gets one transaction around the
    whole route. The one GET that writes, a delivery receipt, is a single statement.

    Used with `scope="function"` (see `ConnDep`): by default FastAPI runs the code after
    `yield` once the response is sent, so a client could be told 201 and read the list
    before the row was committed.
    """
    pool: AsyncConnectionPool = request.app.state.pool
    async with pool.connection() as conn:
        if request.method in READS:
            yield conn
        else:
            async with conn.transaction():
                yield conn


async def get_reporting(request: Request) -> Reporting:
    reporting: Reporting = request.app.state.reporting
    return reporting


async def get_accounts(request: Request) -> BrokerAccounts:
    accounts: BrokerAccounts = request.app.state.accounts
    return accounts


async def get_latest(request: Request) -> Coalescer[str, repo.Latest]:
    latest: Coalescer[str, repo.Latest] = request.app.state.latest
    return latest


SettingsDep = Annotated[Settings, Depends(get_settings)]
AccountsDep = Annotated[BrokerAccounts, Depends(get_accounts)]
PoolDep = Annotated[AsyncConnectionPool, Depends(get_pool)]
ReportingDep = Annotated[Reporting, Depends(get_reporting)]
ConnDep = Annotated[AsyncConnection, Depends(get_conn, scope="function")]
LatestDep = Annotated[Coalescer[str, repo.Latest], Depends(get_latest)]


bearer = HTTPBearer(auto_error=False, description="an API key: `Authorization: Bearer vg_...`")


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


async def _authenticate(
    conn: AsyncConnection, keys: KeyListener, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    if credentials is None:
        raise _unauthorized("an API key is required: send 'Authorization: Bearer <key>'")
    known = keys.lookup(credentials.credentials)
    if known is not None:
        return known
    try:
        key_id, secret = split_key(credentials.credentials)
    except BadKey as error:
        raise _unauthorized(str(error)) from None
    generation = keys.cache.generation
    row = await repo.api_key(conn, key_id=key_id)
    if row is None or not secret_matches(secret, row["secret_sha256"]):
        raise _unauthorized("unknown, revoked or expired API key")
    principal = Principal(key_id=row["key_id"], role=Role(row["role"]), district=row["district"], name=row["name"])
    expires_at: datetime | None = row["expires_at"]
    expires_in = None if expires_at is None else (expires_at - datetime.now(UTC)).total_seconds()
    keys.cache.put(credentials.credentials, principal, expires_in=expires_in, generation=generation)
    return principal


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


async def get_principal(request: Request, conn: ConnDep, credentials: Credentials) -> Principal:
    """The caller, from their API key; 401 without a valid one.

    A key this process checked lately is known without asking (see `api/key_cache.py`).
    Otherwise it is looked up on the request's own connection: taking a second one from the
    pool while holding the first would let a burst of requests hold every connection and
    wait for one more.
    """
    return await _authenticate(conn, request.app.state.key_listener, credentials)


async def get_principal_briefly(request: Request, credentials: Credentials) -> Principal:
    """The same, for a long-lived response (the live alert stream): the connection goes back at once."""
    keys: KeyListener = request.app.state.key_listener
    known = keys.lookup(credentials.credentials) if credentials is not None else None
    if known is not None:
        return known
    pool: AsyncConnectionPool = request.app.state.pool
    async with pool.connection() as conn:
        return await _authenticate(conn, keys, credentials)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def _check(principal: Principal, action: Action) -> Principal:
    if not principal.may(action):
        raise HTTPException(status_code=403, detail=f"a {principal.role.value} key may not {action.value}")
    return principal


def allowed(action: Action, *, connection: bool = True) -> object:
    """A dependency: the caller, if their role may do `action`; 403 otherwise.

    With `connection=False` the check borrows a database connection only to look up a key
    it does not know, and gives it back at once: for a stream, which must not hold one for
    its whole life, and for a read that goes through a shared query (see `api/coalesce.py`).

    The checks call `get_principal` rather than depend on it, and the getters above read
    `app.state` rather than depend on each other: FastAPI solves every dependency of the tree
    on each request, cached or not, and walks the tree of each one it finds in the cache.
    """

    async def check(request: Request, conn: ConnDep, credentials: Credentials) -> Principal:
        return _check(await get_principal(request, conn, credentials), action)

    async def check_briefly(request: Request, credentials: Credentials) -> Principal:
        return _check(await get_principal_briefly(request, credentials), action)

    return Depends(check if connection else check_briefly)


MAX_PERIOD = timedelta(days=366)


def period(start: datetime | None, end: datetime | None, default: timedelta) -> tuple[datetime, datetime]:
    """A query's time span: end defaults to now, start to `default` before it; 422 when it makes no sense."""
    end = end or datetime.now(UTC)
    start = start or end - default
    if start.tzinfo is None or end.tzinfo is None:
        raise HTTPException(422, "start and end need a time zone, for example 2026-11-20T00:00:00Z")
    if start >= end:
        raise HTTPException(422, "start must be before end")
    if end - start > MAX_PERIOD:
        raise HTTPException(422, f"the period may span at most {MAX_PERIOD.days} days")
    return start, end


def require_secret(given: str, expected: str, refusal: str) -> None:
    """403 unless a caller without an API key (a gateway, a provider's webhook) presented the secret it was
    given, compared in constant time so a prober learns nothing from the answer's timing."""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(403, refusal)
