"""Where to act first: tiles ranked by housing vulnerability and infrastructure alert burden.

The index, 0 to 100, follows the disaster-risk reading that harm is what a hazard does to
the vulnerable: failing services hurt most under precarious roofs, yet neither alone
should be ignored (a precarious block with no sensor is not a safe block, and a water
outage in sound housing is still an outage).

    index = 100 * (0.3 * V + 0.3 * B + 0.4 * V * B)

- V, vulnerability: the tile's housing score from the imagery model (0 sound, 1 precarious).
  An unassessed tile takes 0.5, and its row says so.
- B, burden: 1 - exp(-H / 48), where H is the tile's alert-hours in the period weighted by
  severity (critical 3, warning 2, info 1), an alert still open counting up to now. 48
  weighted hours (sixteen hours of a critical outage, say) gives B = 0.63; B tends to 1.

Every row carries the figures behind it and a sentence saying why it ranks where it does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from api.land_use import class_name

SEVERITY_WEIGHT = {"critical": 3.0, "warning": 2.0, "info": 1.0}
BURDEN_SCALE_HOURS = 48.0
UNASSESSED_VULNERABILITY = 0.5
W_VULNERABILITY, W_BURDEN, W_BOTH = 0.3, 0.3, 0.4


@dataclass(frozen=True)
class AlertSpan:
    rule: str
    severity: str
    hours: float  # within the period; up to now for an alert still open
    open: bool


@dataclass(frozen=True)
class TileFacts:
    tile_id: str
    district: str
    housing_score: float | None
    land_use_class: str = "unassessed"
    alerts: Sequence[AlertSpan] = field(default_factory=tuple)


@dataclass(frozen=True)
class Ranked:
    rank: int
    tile_id: str
    district: str
    index: float
    vulnerability: float
    burden: float
    weighted_alert_hours: float
    open_alerts: int
    why: str


def burden(alerts: Iterable[AlertSpan]) -> tuple[float, float]:
    """(B, weighted alert-hours)."""
    hours = sum(SEVERITY_WEIGHT.get(a.severity, 1.0) * max(0.0, a.hours) for a in alerts)
    return 1.0 - math.exp(-hours / BURDEN_SCALE_HOURS), hours


def index(vulnerability: float, burden_: float) -> float:
    v, b = min(max(vulnerability, 0.0), 1.0), min(max(burden_, 0.0), 1.0)
    return 100.0 * (W_VULNERABILITY * v + W_BURDEN * b + W_BOTH * v * b)


WHY_WORDS = {
    "en": {
        "unassessed": "housing not yet assessed (taken as middling)",
        "housing": "housing score {score:.2f} ({land_use})",
        "quiet": "{housing}; no alerts in the period",
        "busy": "{housing}; {alerts} alert{s}, {hours:.0f} weighted alert-hours ({rules}){still_open}",
        "still_open": "; {n} still open",
    },
    "es": {
        "unassessed": "vivienda aún sin evaluar (se toma como intermedia)",
        "housing": "puntaje de vivienda {score:.2f} ({land_use})",
        "quiet": "{housing}; sin alertas en el periodo",
        "busy": "{housing}; {alerts} alerta{s}, {hours:.0f} horas-alerta ponderadas ({rules}){still_open}",
        "still_open": "; {n} aún abierta{s}",
    },
}


def why(facts: TileFacts, vulnerability: float, hours: float, language: str = "en") -> str:
    words = WHY_WORDS[language]
    if facts.housing_score is None:
        housing = words["unassessed"]
    else:
        housing = words["housing"].format(score=vulnerability, land_use=class_name(facts.land_use_class, language))
    if not facts.alerts:
        return words["quiet"].format(housing=housing)
    by_rule: dict[str, float] = {}
    for alert in facts.alerts:
        by_rule[alert.rule] = by_rule.get(alert.rule, 0.0) + alert.hours
    worst = sorted(by_rule.items(), key=lambda item: -item[1])[:2]
    rules = ", ".join(f"{rule} {h:.1f} h" for rule, h in worst)
    still_open = sum(1 for a in facts.alerts if a.open)
    opened = words["still_open"].format(n=still_open, s="s" if still_open > 1 else "") if still_open else ""
    return words["busy"].format(
        housing=housing, alerts=len(facts.alerts), s="s" if len(facts.alerts) > 1 else "", hours=hours, rules=rules,
        still_open=opened,
    )  # fmt: skip


def rank(tiles: Iterable[TileFacts], language: str = "en") -> list[Ranked]:
    """Highest index first; ties go to the heavier burden, then the tile id, so the order is stable."""
    rows = []
    for facts in tiles:
        vulnerability = UNASSESSED_VULNERABILITY if facts.housing_score is None else facts.housing_score
        b, hours = burden(facts.alerts)
        rows.append((index(vulnerability, b), b, facts, vulnerability, hours))
    rows.sort(key=lambda row: (-row[0], -row[1], row[2].tile_id))
    return [
        Ranked(
            rank=position,
            tile_id=facts.tile_id,
            district=facts.district,
            index=round(score, 1),
            vulnerability=round(vulnerability, 3),
            burden=round(b, 3),
            weighted_alert_hours=round(hours, 1),
            open_alerts=sum(1 for a in facts.alerts if a.open),
            why=why(facts, vulnerability, hours, language),
        )
        for position, (score, b, facts, vulnerability, hours) in enumerate(rows, start=1)
    ]


@dataclass(frozen=True)
class RankedDistrict:
    rank: int
    district: str
    index: float
    tiles: int
    open_alerts: int
    why: str


WORST_TILES = 3


def rank_districts(tiles: Iterable[Ranked]) -> list[RankedDistrict]:
    """Districts by the mean index of their three worst tiles.

    The worst few rather than the mean of all: a district with a handful of blocks in crisis
    must not be diluted by many quiet ones, and a district is not made urgent by size alone.
    """
    by_district: dict[str, list[Ranked]] = {}
    for tile in tiles:
        by_district.setdefault(tile.district, []).append(tile)
    rows = []
    for district, ranked in by_district.items():
        worst = sorted(ranked, key=lambda t: (-t.index, t.tile_id))[:WORST_TILES]
        score = sum(t.index for t in worst) / len(worst)
        open_alerts = sum(t.open_alerts for t in ranked)
        named = ", ".join(f"{t.tile_id} ({t.index:.0f})" for t in worst)
        why = f"worst tiles {named}; {len(ranked)} tiles, {open_alerts} open alerts"
        rows.append((score, district, len(ranked), open_alerts, why))
    rows.sort(key=lambda row: (-row[0], row[1]))
    return [
        RankedDistrict(rank=i, district=d, index=round(score, 1), tiles=n, open_alerts=o, why=why)
        for i, (score, d, n, o, why) in enumerate(rows, start=1)
    ]
