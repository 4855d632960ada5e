"""What the alerts of one sensor and rule become once late readings fill their history. Pure.

While a gateway's buffer is on its way the stream judges a sensor on the readings it has,
and a gap reads as whatever was seen on either side of it: two power cuts with light
between them read as one, or two short dips as one long enough to alert. Each piece of
the buffer that arrives lets the threshold rules run again over the stored history
(`RuleBook.replay`), which says what truly held: spans, each opened and resolved, the
last perhaps still open. This module matches those spans with the alerts already raised:

- a span keeps the alert that overlaps it, whose times become the span's; the open alert
  answers to the open span first, so the alert leaders were told of stays the one they
  hear about;
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
    todo = list(spans)
    live = next((a for a in left if a.resolved_at is None), None)
    if todo and todo[-1].resolved_at is None and live is not None:
        out.kept.append((todo.pop(), live))
        left.remove(live)
    for span in todo:
        # An open span is never given a resolved alert: the stream does not reopen alerts.
        match = next((a for a in left if overlaps(span, a) and (span.resolved_at is not None or a is live)), None)
        if match is None:
            out.new.append(span)
        else:
            out.kept.append((span, match))
            left.remove(match)
    out.withdrawn = [a for a in left if not a.by_hand and a.opened_at >= since]
    return out
