"""All SQL the stream worker runs, as functions with keyword-only arguments where they take several.

The sink calls `repo.<function>`; `readings.py` holds readings, windows and offsets,
`retention.py` the dropping of old chunks, `alerts.py` the alerts and their outbox.
"""

from __future__ import annotations

from stream.repo.alerts import (
    alerts_within,
    correct_alerts,
    load_open_alerts,
    mark_published,
    record_alerts,
    redate_alerts,
    resolved_alerts,
    unpublished_alerts,
    withdraw_alerts,
)
from stream.repo.readings import (
    insert_readings,
    load_offsets,
    load_pane_spans,
    load_panes,
    mark_late,
    readings_before,
    save_offsets,
    timestamp,
    upsert_hopping,
    upsert_panes,
)
from stream.repo.retention import apply_retention, ensure_retention_policies, retention_policies_available

__all__ = [
    "alerts_within",
    "apply_retention",
    "correct_alerts",
    "ensure_retention_policies",
    "insert_readings",
    "load_offsets",
    "load_open_alerts",
    "load_pane_spans",
    "load_panes",
    "mark_late",
    "mark_published",
    "readings_before",
    "record_alerts",
    "redate_alerts",
    "resolved_alerts",
    "retention_policies_available",
    "save_offsets",
    "timestamp",
    "unpublished_alerts",
    "upsert_hopping",
    "upsert_panes",
    "withdraw_alerts",
]
