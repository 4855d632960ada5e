"""What the alerts of one sensor and rule become once late readings fill their history. Pure.

While a gateway's buffer is on its way the stream judges a sensor on the readings it has,
and a gap reads as whatever was seen on either side of it: two power cuts with light
between them read as one, or two short dips as one long enough to alert. Each piece of
the buffer that arrives lets the threshold rules run again over the stored history
(`RuleBook.replay`), which says what truly held: spans, each opened and resolved, the
last perhaps still open. This module matches those spans with the alerts already raised:

- a span keeps the alert that overlaps it, whose times become the span's: first the alert
  that began when it did (alert ids come from sensor, rule and start, so it is the one a
  new alert for the span would be), then the open alert answers to the open span, so the
  alert leaders were told of stays the one they hear about, then any that overlaps;
- a span no alert overlaps is a new alert;
- an alert no span overlaps is withdrawn: the readings show its condition never held
  long enough. An alert a person acknowledged or resolved is never withdrawn, and neither
  is one that began before the history read back (nothing here says it did not hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stored:
    """An alert the stream raised for the sensor and rule."""

    alert_id: str
    opened_at: float
    resolved_at: float | None  # None: the open alert
    by_hand: bool = False  # acknowledged or resolved by a person


@dataclass(frozen=True)
class Span:
    """A stretch the rule's condition held long enough to alert, from the full history."""

    opened_at: float
    resolved_at: float | None  # None: it holds at the end of the history
    alert_id: str = ""  # the id an alert for it is given


@dataclass
class Reconciled:
    kept: list[tuple[Span, Stored]] = field(default_factory=list)  # the alert takes the span's times
    new: list[Span] = field(default_factory=list)
    withdrawn: list[Stored] = field(default_factory=list)


def overlaps(span: Span, alert: Stored) -> bool:
    span_end = float("inf") if span.resolved_at is None else span.resolved_at
    alert_end = float("inf") if alert.resolved_at is None else alert.resolved_at
    return alert.opened_at <= span_end and span.opened_at <= alert_end


def reconcile(spans: Sequence[Span], stored: Sequence[Stored], *, since: float) -> Reconciled:
    """Match `spans` (in time order) with `stored` alerts; `since` is where the history read
    back begins."""
    out = Reconciled()
    left = sorted(stored, key=lambda a: (a.opened_at, a.alert_id))
    live = next((a for a in left if a.resolved_at is None), None)
    matched: dict[int, Stored] = {}

    def take(index: int, alert: Stored) -> None:
        matched[index] = alert
        left.remove(alert)

    def fits(span: Span, alert: Stored) -> bool:
        """An open span is never given a resolved alert: the stream does not reopen alerts."""
        return span.resolved_at is not None or alert is live

    for i, span in enumerate(spans):
        same = next((a for a in left if span.alert_id and a.alert_id == span.alert_id and fits(span, a)), None)
        if same is not None:
            take(i, same)
    last = len(spans) - 1
    if spans and spans[last].resolved_at is None and last not in matched and live is not None and live in left:
        take(last, live)
    for i, span in enumerate(spans):
        if i not in matched:
            match = next((a for a in left if overlaps(span, a) and fits(span, a)), None)
            if match is not None:
                take(i, match)
    out.kept = [(spans[i], alert) for i, alert in sorted(matched.items())]
    out.new = [span for i, span in enumerate(spans) if i not in matched]
    out.withdrawn = [a for a in left if not a.by_hand and a.opened_at >= since]
    return out
