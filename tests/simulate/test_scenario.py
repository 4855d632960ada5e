from __future__ import annotations

from pathlib import Path

import pytest

from simulate.scenario import SCENARIOS_DIR, ScenarioError, load_scenario


@pytest.mark.parametrize("path", sorted(SCENARIOS_DIR.glob("*.yaml")), ids=lambda p: p.name)
def test_bundled_scenarios_are_valid(path: Path) -> None:
    scenario = load_scenario(path)
    assert sum(scenario.sensors.values()) > 0


def test_a_bundled_scenario_is_found_by_name() -> None:
    assert load_scenario(Path("lima-hillside.yaml")).name == "lima-hillside"


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("name: x\ndistrict: {slug: A, code: a, latitude: 0, longitude: 0}\nsensors: {water: 1}\nduration_hours: 1",
         "district.slug"),
        ("name: x\ndistrict: {slug: a, code: a, latitude: 0, longitude: 0}\nsensors: {toaster: 1}\nduration_hours: 1",
         "sensors"),
        ("name: x\ndistrict: {slug: a, code: a, latitude: 0, longitude: 0}\nsensors: {water: 1}\nduration_hours: 1\n"
         "events: [{kind: meteor, after_hours: 1}]", "events.0"),
        ("name: x\ndistrict: {slug: a, code: a, latitude: 0, longitude: 0}\nsensors: {water: 1}", "duration_hours"),
        ("name: [unclosed", "cannot read"),
    ],
)  # fmt: skip
def test_invalid_scenarios_name_what_is_wrong(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=named.replace(".", r"\.")):
        load_scenario(path)
