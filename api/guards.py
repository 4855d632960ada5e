"""Request-wide guards: a rate limit per caller, request metrics for Prometheus, and request ids.

The limit counts per API key (the key id is read from the header without a database
look-up, so a flood of bad keys costs nothing) and per client address for calls without
one, with a sliding window counter (`api/rate_limit.py`): two counts per caller, where a
moving window keeps a time for every request in the window and walks them on each one.
Each API replica limits on its own, which is enough to stop one runaway client; a shared
limit would need Redis.
"""

from __future__ import annotations

import re
import time
import uuid

from fastapi.responses import JSONResponse
from limits import parse
from prometheus_client import Counter, Histogram
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.access import BadKey, split_key
from api.rate_limit import SlidingWindowCounter
from vigia import logs

REQUESTS = Histogram(
    "vigia_api_request_seconds",
    "API request latency",
    ["method", "route", "status"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
LIMITED = Counter("vigia_api_rate_limited_total", "Requests refused by the rate limit")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def caller(headers: Headers, client: tuple[str, int] | None) -> str:
    header = headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        try:
            return "key:" + split_key(header[7:].strip())[0]
        except BadKey:
            pass
    return "ip:" + (client[0] if client else "unknown")


class Guards:
    """The request id, the rate limit and the request metrics, as one plain ASGI middleware.

    Starlette's `@app.middleware("http")` runs each such function in a task of its own with
    memory streams between them: three of them cost the API more than a cached query did.

    Each request's id (the caller's X-Request-ID when it is a plain token, else a new one) is
    on every log line of the request and on the response, so a person's report can be found
    in the logs; the server runs each request in a task of its own, so it goes no further.
    """

    def __init__(self, app: ASGIApp, rule: str) -> None:
        self.app = app
        self.rule = parse(rule)
        self.limiter = SlidingWindowCounter(self.rule.amount, self.rule.get_expiry())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given = headers.get("x-request-id", "")
        rid = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        logs.request_id.set(rid)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", rid)
            await send(message)

        try:
            who = caller(headers, scope.get("client"))
            if self.limiter.hit(who):
                await self.app(scope, receive, send_with_id)
            else:
                await self._refuse(who)(scope, receive, send_with_id)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(scope["method"], route, str(status)).observe(time.perf_counter() - started)

    def _refuse(self, who: str) -> JSONResponse:
        LIMITED.inc()
        wait = int(self.limiter.retry_after(who)) + 1  # whole seconds, past the moment a request fits again
        return JSONResponse(
            status_code=429,
            content={"detail": f"too many requests: the limit is {self.rule}; try again in {wait} s"},
            headers={"Retry-After": str(wait)},
        )
