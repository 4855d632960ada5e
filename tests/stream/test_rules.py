from pathlib import Path

import pytest

from stream.rules import DEFAULT_RULES, RulesError, ThresholdRule, load_rules
from vigia.contracts import HousingContext, Severity

FLOOD = {
    "id": "flood",
    "kind": "threshold",
    "metric": "flood_level",
    "above": 0.3,
    "for_minutes": 5,
    "severity": "warning",
    "escalate": [{"housing_score_at_least": 0.6, "severity": "critical"}],
    "title": {"es": "Agua subiendo", "en": "Water rising"},
}


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(text)
    return path


def test_the_shipped_rules_load() -> None:
    rules = load_rules(DEFAULT_RULES)
    ids = {r.id for r in rules.rules}
    assert {"water-outage", "power-outage", "sensor-offline", "tilt-rising", "air-anomaly"} <= ids


def test_severity_rises_with_housing_vulnerability() -> None:
    rule = ThresholdRule.model_validate(FLOOD)
    assert rule.severity_for(HousingContext()) == Severity.WARNING  # unassessed: the base severity
    assert rule.severity_for(HousingContext(housing_score=0.3)) == Severity.WARNING
    assert rule.severity_for(HousingContext(housing_score=0.7)) == Severity.CRITICAL


def test_escalation_never_lowers_severity() -> None:
    rule = ThresholdRule.model_validate(
        {**FLOOD, "severity": "critical", "escalate": [{"housing_score_at_least": 0.1, "severity": "info"}]}
    )
    assert rule.severity_for(HousingContext(housing_score=0.9)) == Severity.CRITICAL


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "rules: [{id: a, kind: threshold, metric: tilt, for_minutes: 5, title: {es: x, en: y}}]",
            "exactly one of below",
        ),
        ("rules: [{id: a, kind: magic, title: {es: x, en: y}}]", r"rule 1 \(a\): Input tag 'magic'"),
        ("rules: [{id: a, kind: staleness, silent_minutes: 5, title: {es: x}}]", "title needs en"),
        ("rules: [{id: a, kind: threshold, metric: rain, below: 1, for_minutes: 5, title: {es: x, en: y}}]", "metric"),
        (
            "rules: [{id: a, kind: staleness, silent_minutes: 5, title: {es: x, en: y}},"
            " {id: a, kind: staleness, silent_minutes: 9, title: {es: x, en: y}}]",
            "unique",
        ),
        ("rules: [{id: a, kind: staleness, silent_minutes: -1, title: {es: x, en: y}}]", "silent_minutes"),
        ("rules: [", "not valid YAML"),
        ("- just a list", "mapping"),
    ],
)
def test_bad_rule_files_say_what_and_where(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(RulesError, match=message):
        load_rules(write(tmp_path, text))


def test_missing_file() -> None:
    with pytest.raises(RulesError, match="no such rule file"):
        load_rules(Path("/nonexistent/rules.yaml"))
