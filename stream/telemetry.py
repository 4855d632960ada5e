"""Prometheus metrics of the stream worker, served on `VIGIA_STREAM_METRICS_PORT`."""

from __future__ import annotations

from collections.abc import Sequence

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from stream.processor import Outcome
from stream.rule_book import Fired

READINGS = Counter("vigia_stream_readings_total", "Records taken from the readings topic")
NEW = Counter("vigia_stream_new_readings_total", "Readings the database did not have (replays excluded)")
LATE = Counter("vigia_stream_late_readings_total", "Readings stored but later than the horizon, folded nowhere")
REFOLDED = Counter(
    "vigia_stream_refolded_readings_total", "Readings later than the lateness whose closed windows were written again"
)
UNREADABLE = Counter("vigia_stream_unreadable_total", "Records that were not readings, sent to the dead-letter topic")
WINDOWS = Counter("vigia_stream_window_rows_total", "Window rows written", ["window"])
ALERTS = Counter("vigia_stream_alert_changes_total", "Alert changes", ["change", "severity"])
BATCH = Histogram("vigia_stream_batch_size", "Records per batch", buckets=(1, 10, 100, 500, 1000, 2000, 5000))
SINK_SECONDS = Histogram(
    "vigia_stream_sink_seconds",
    "One batch's transaction",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
EVICTED = Counter("vigia_stream_panes_evicted_total", "One-minute panes no reading can reach, dropped from memory")
LAG = Gauge("vigia_stream_consumer_lag", "Records on the readings topic not yet processed", ["partition"])


def record(records: int, outcome: Outcome, *, unreadable: int) -> None:
    READINGS.inc(records)
    BATCH.observe(records)
    NEW.inc(outcome.folded + len(outcome.refolded) + len(outcome.late))
    LATE.inc(len(outcome.late))
    REFOLDED.inc(len(outcome.refolded))
    UNREADABLE.inc(unreadable)
    WINDOWS.labels("1m").inc(len(outcome.panes))
    WINDOWS.labels("15m").inc(len(outcome.hopping))
    EVICTED.inc(outcome.evicted)
    record_alerts(outcome.fired)


def record_alerts(fired: Sequence[Fired]) -> None:
    for f in fired:
        ALERTS.labels(f.change.change.value, f.change.alert.severity.value).inc()


def serve(host: str, port: int) -> None:
    start_http_server(port, addr=host)
