"""Alert rules as data: the YAML file community leaders' alerts come from, checked at start.

Four kinds of rule, each over one metric of a sensor (staleness over the whole sensor):

- `threshold`: the value stays below (or above) a limit for a duration (water pressure
  under 0.2 bar for 30 minutes: the street is without water);
- `rate_of_change`: the value moves faster than a limit per hour, measured between pane
  means `over_minutes` apart (a wall's tilt rising);
- `staleness`: no reading for a duration (the sensor is offline, or its power is);
- `anomaly`: a pane's mean is far from the sensor's own recent baseline, in robust
  z-scores (median and MAD of the baseline's pane means).

Every rule has a base severity and may escalate it with the housing of its tile, as the
stream's join reports it: the same flood level is critical under precarious roofs. An
alert resolves itself when its condition has been clear for `clear_minutes`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vigia.contracts import HousingContext, Metric, Severity

DEFAULT_RULES = Path(__file__).resolve().parent / "rules.yaml"
SEVERITY_ORDER = (Severity.INFO, Severity.WARNING, Severity.CRITICAL)


class RulesError(ValueError):
    """A rule file that cannot be used, with every problem and where it is."""


class Escalation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    housing_score_at_least: float | None = Field(None, ge=0, le=1)
    precarious_share_at_least: float | None = Field(None, ge=0, le=1)
    severity: Severity

    @model_validator(mode="after")
    def _needs_a_condition(self) -> Escalation:
        if self.housing_score_at_least is None and self.precarious_share_at_least is None:
            raise ValueError("an escalation needs housing_score_at_least or precarious_share_at_least")
        return self

    def applies(self, housing: HousingContext) -> bool:
        score_ok = self.housing_score_at_least is None or (
            housing.housing_score is not None and housing.housing_score >= self.housing_score_at_least
        )
        share_ok = self.precarious_share_at_least is None or (
            housing.precarious_share is not None and housing.precarious_share >= self.precarious_share_at_least
        )
        return score_ok and share_ok


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", max_length=64)
    title: dict[Literal["es", "en"], str] = Field(description="what the alert says, in plain words")
    severity: Severity = Severity.WARNING
    escalate: tuple[Escalation, ...] = ()
    clear_minutes: float = Field(10, gt=0, description="condition clear this long: the alert resolves")

    @model_validator(mode="after")
    def _both_languages(self) -> _Rule:
        missing = {"es", "en"} - set(self.title)
        if missing:
            raise ValueError(f"title needs {', '.join(sorted(missing))}")
        return self

    def severity_for(self, housing: HousingContext) -> Severity:
        """The base severity, raised by the highest escalation whose housing condition holds."""
        chosen = self.severity
        for escalation in self.escalate:
            if escalation.applies(housing) and SEVERITY_ORDER.index(escalation.severity) > SEVERITY_ORDER.index(chosen):
                chosen = escalation.severity
        return chosen


class ThresholdRule(_Rule):
    kind: Literal["threshold"]
    metric: Metric
    below: float | None = None
    above: float | None = None
    for_minutes: float = Field(gt=0)

    @model_validator(mode="after")
    def _one_side(self) -> ThresholdRule:
        if (self.below is None) == (self.above is None):
            raise ValueError("a threshold rule needs exactly one of below or above")
        return self

    def breached(self, value: float) -> bool:
        return value < self.below if self.below is not None else value > self.above  # type: ignore[operator]  # one is set


class RateOfChangeRule(_Rule):
    kind: Literal["rate_of_change"]
    metric: Metric
    rise_per_hour: float | None = Field(None, gt=0)
    fall_per_hour: float | None = Field(None, gt=0)
    over_minutes: float = Field(15, gt=0, description="the span the rate is measured over")

    @model_validator(mode="after")
    def _a_direction(self) -> RateOfChangeRule:
        if self.rise_per_hour is None and self.fall_per_hour is None:
            raise ValueError("a rate_of_change rule needs rise_per_hour or fall_per_hour")
        return self

    def breached(self, per_hour: float) -> bool:
        rising = self.rise_per_hour is not None and per_hour > self.rise_per_hour
        falling = self.fall_per_hour is not None and -per_hour > self.fall_per_hour
        return rising or falling


class StalenessRule(_Rule):
    kind: Literal["staleness"]
    silent_minutes: float = Field(gt=0)


class AnomalyRule(_Rule):
    kind: Literal["anomaly"]
    metric: Metric
    z: float = Field(4.0, gt=0, description="robust z-score at or beyond which a pane is anomalous")
    baseline_minutes: float = Field(60, gt=0)
    min_baseline_panes: int = Field(20, ge=3, description="panes of history before the rule may fire")
    min_spread: float = Field(0.0, ge=0, description="floor for the baseline's spread, in the metric's unit")


RULE_KINDS = ("threshold", "rate_of_change", "staleness", "anomaly")
Rule = Annotated[ThresholdRule | RateOfChangeRule | StalenessRule | AnomalyRule, Field(discriminator="kind")]


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: tuple[Rule, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> RuleFile:
        doubled = [rule_id for rule_id, n in Counter(r.id for r in self.rules).items() if n > 1]
        if doubled:
            raise ValueError(f"rule ids must be unique: {', '.join(sorted(doubled))}")
        return self


def _describe(error: ValidationError, rules: Sequence[object]) -> str:
    lines = []
    for problem in error.errors():
        loc = problem["loc"]
        where = ".".join(str(part) for part in loc)
        if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int) and loc[1] < len(rules):
            entry = rules[loc[1]]
            rule_id = entry.get("id", "?") if isinstance(entry, dict) else "?"
            fields = [str(part) for part in loc[2:] if part not in RULE_KINDS]  # drop the union's tag
            where = f"rule {loc[1] + 1} ({rule_id})" + (f" {'.'.join(fields)}" if fields else "")
        lines.append(f"{where}: {problem['msg']}")
    return "\n".join(lines)


def load_rules(path: Path = DEFAULT_RULES) -> RuleFile:
    try:
        document = yaml.safe_load(path.read_text())
    except FileNotFoundError as error:
        raise RulesError(f"{path}: no such rule file") from error
    except yaml.YAMLError as error:
        raise RulesError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise RulesError(f"{path}: expected a mapping with a `rules` list")
    try:
        return RuleFile.model_validate(document)
    except ValidationError as error:
        listed = document.get("rules")
        raw: list[object] = listed if isinstance(listed, list) else []
        raise RulesError(f"{path}:\n{_describe(error, raw)}") from error
