"""The one error type for input the bridge refuses."""

from __future__ import annotations


class Rejected(ValueError):
    """Input to dead-letter. `reason` is a short stable code (a counter label); `detail` is for people."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
