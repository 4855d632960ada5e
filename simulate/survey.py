"""The simulated district's aerial survey: imagery of its sensor tiles, queued for the model and waited for."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from inference import intake
from simulate import district_imagery
from simulate.district_model import place_sensors
from simulate.scenario import load_scenario
from vigia.settings import Settings
from vigia.terminal import console

SURVEYED_AT = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)  # one fixed survey: a rerun rewrites, never adds


def assess_district_imagery(settings: Settings, scenario_path: Path, *, timeout: float = 180) -> tuple[int, int]:
    """(tiles assessed, tiles queued) of the district's sensor tiles, after waiting up to `timeout` seconds."""
    scenario = load_scenario(scenario_path)
    sensor_tiles = [s.tile_id for s in place_sensors(scenario, settings.tile_zoom)]
    if not (settings.imagery_dir / "ucmerced").is_dir():
        console.print(f"[yellow]no imagery under {settings.imagery_dir}: sensor tiles stay unassessed[/yellow]")
        return 0, 0
    tiles = district_imagery.district_tiles(
        sensor_tiles,
        imagery_root=settings.imagery_dir / "ucmerced",
        zoom=settings.imagery_zoom,
        seed=scenario.seed,
        captured_at=SURVEYED_AT,
    )
    queued = asyncio.run(intake.queue_tiles(settings, tiles, district=scenario.district.slug))
    wanted = len(set(queued))
    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
        done = intake.wait_for_assessments(conn, queued, timeout=timeout, show_progress=True)
    console.print(f"imagery: {done}/{wanted} tiles assessed over {len(set(sensor_tiles))} sensor tiles")
    return done, wanted
