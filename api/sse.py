"""Server-Sent Events framing: what a browser's EventSource reads, one alert change per event.

Each event carries an `id` (the alert event's time and alert id) so a reconnecting client
sends `Last-Event-ID` and misses nothing; a comment line every few seconds keeps proxies
from closing an idle stream.
"""

from __future__ import annotations

KEEPALIVE = b": keep-alive\n\n"


def event(data: str, *, name: str | None = None, event_id: str | None = None, retry_ms: int | None = None) -> bytes:
    """One event; multi-line data becomes several `data:` lines, as the format requires."""
    lines = []
    if event_id is not None:
        if "\n" in event_id or "\r" in event_id:
            raise ValueError("an event id cannot span lines")
        lines.append(f"id: {event_id}")
    if name is not None:
        lines.append(f"event: {name}")
    if retry_ms is not None:
        lines.append(f"retry: {retry_ms}")
    lines.extend(f"data: {line}" for line in data.splitlines() or [""])
    return ("\n".join(lines) + "\n\n").encode()
