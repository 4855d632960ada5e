"""`vigia simulate`: a simulated district's sensors, registered and publishing over MQTT."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from simulate import simulator
from simulate.scenario import ScenarioError, load_scenario
from vigia.settings import Settings, load_settings
from vigia.terminal import console, fail

app = typer.Typer()


def publish(
    settings: Settings, scenario_path: Path, seconds: float | None, *, ending_minutes_ago: float = 0.0
) -> simulator.PublishReport:
    """Publish a scenario, showing progress; `seconds` overrides its duration."""
    try:
        scenario = load_scenario(scenario_path)
    except ScenarioError as error:
        raise fail(error) from error
    allowed = settings.mqtt_simulator_districts
    if "*" not in allowed and scenario.district.slug not in allowed:
        raise fail(
            f"the simulator's MQTT account may publish only in {', '.join(allowed)}; add "
            f"{scenario.district.slug!r} to VIGIA_MQTT_SIMULATOR_DISTRICTS and run `vigia up` again"
        )
    if seconds is not None:
        scenario = scenario.model_copy(update={"duration_hours": seconds / 3600})
    if ending_minutes_ago and not scenario.live:
        scenario = scenario.model_copy(update={"start_hours_ago": scenario.start_hours_ago + ending_minutes_ago / 60})
    total = sum(scenario.sensors.values())
    mode = "live" if scenario.live else f"replaying from {scenario.start_hours_ago:g} h ago"
    console.print(f"scenario {scenario.name}: {total} sensors in {scenario.district.slug}, {mode}")
    with console.status("publishing") as spinner:
        report = simulator.run(
            settings,
            scenario,
            on_progress=lambda r: spinner.update(
                f"published {r.messages} messages ({r.readings} readings, {r.malformed} malformed)"
                + (f", simulated time {r.simulated_until:%Y-%m-%d %H:%M}" if r.simulated_until else "")
            ),
        )
    console.print(
        f"published {report.messages} messages carrying {report.readings} readings"
        f" and {report.malformed} malformed payloads"
    )
    return report


def simulate(
    scenario: Annotated[Path, typer.Option(help="a scenario YAML file, or the name of a bundled one")] = Path(
        "lima-hillside.yaml"
    ),
    seconds: Annotated[float | None, typer.Option(help="override the scenario's duration")] = None,
) -> None:
    """Register a simulated district's sensors and publish its telemetry over MQTT."""
    publish(load_settings(), scenario, seconds)
