"""How `vigia sensors list` and `vigia keys list` say whether a row still works."""

from __future__ import annotations

from datetime import UTC, datetime

from api.cli import standing

WHEN = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)


def test_a_sensor_row_has_no_expiry_and_reads_active_or_revoked() -> None:
    assert standing({"sensor_id": "sjl-water-01", "revoked_at": None}) == "active"
    assert standing({"sensor_id": "sjl-water-01", "revoked_at": WHEN}) == "revoked 2026-11-20"


def test_a_key_may_expire_and_revocation_wins() -> None:
    assert standing({"key_id": "k", "revoked_at": None, "expires_at": None}) == "active"
    assert standing({"key_id": "k", "revoked_at": None, "expires_at": WHEN}) == "expires 2026-11-20 15:30"
    assert standing({"key_id": "k", "revoked_at": WHEN, "expires_at": WHEN}) == "revoked 2026-11-20"
