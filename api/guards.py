"""Request-wide guards: a rate limit per caller, request metrics for Prometheus, and request ids.

The limit counts per API key (the key id is read from the header without a database
look-up, so a flood of bad keys costs nothing) and per client address for calls without
one. `limits` keeps a moving window in memory: each API replica limits on its own, which
is enough to stop one runaway client; a shared limit would need Redis.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from prometheus_client import Counter, Histogram

from api.access import BadKey, split_key
from vigia import logs

REQUESTS = Histogram(
    "vigia_api_request_seconds",
    "API request latency",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LIMITED = Counter("vigia_api_rate_limited_total", "Requests refused by the rate limit")

Next = Callable[[Request], Awaitable[Response]]


def caller(request: Request) -> str:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        try:
            return "key:" + split_key(header[7:].strip())[0]
        except BadKey:
            pass
    return "ip:" + (request.client.host if request.client else "unknown")


class RateLimit:
    def __init__(self, rule: str) -> None:
        self.rule = parse(rule)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, request: Request, call_next: Next) -> Response:
        who = caller(request)
        if not self.limiter.hit(self.rule, who):
            LIMITED.inc()
            reset, _ = self.limiter.get_window_stats(self.rule, who)
            wait = max(1, int(reset - time.time()))
            return JSONResponse(
                status_code=429,
                content={"detail": f"too many requests: the limit is {self.rule}; try again in {wait} s"},
                headers={"Retry-After": str(wait)},
            )
        return await call_next(request)


async def measure(request: Request, call_next: Next) -> Response:
    started = time.perf_counter()
    response = await call_next(request)
    route = getattr(request.scope.get("route"), "path", "unmatched")
    REQUESTS.labels(request.method, route, str(response.status_code)).observe(time.perf_counter() - started)
    return response


REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


async def request_ids(request: Request, call_next: Next) -> Response:
    """Each request's id (the caller's X-Request-ID when it is a plain token, else a new one) is on
    every log line of the request and on the response, so a person's report can be found in the logs.
    The request runs in a task of its own, so the value set here goes no further."""
    given = request.headers.get("X-Request-ID", "")
    rid = given if REQUEST_ID.match(given) else uuid.uuid4().hex
    logs.request_id.set(rid)
    response = await call_next(request)
    response.headers["X-Request-ID"] = rid
    return response
