"""The priority index: vulnerability and burden each count, together most; every row says why."""

from __future__ import annotations

import math

import pytest

from api.priorities import AlertSpan, TileFacts, burden, index, rank, rank_districts

OUTAGE = AlertSpan("water-outage", "critical", hours=16.0, open=False)


def test_the_index_spans_zero_to_one_hundred() -> None:
    assert index(0.0, 0.0) == 0.0
    assert index(1.0, 1.0) == pytest.approx(100.0)
    assert index(1.0, 0.0) == pytest.approx(30.0)  # precarious and quiet: still on the list
    assert index(0.0, 1.0) == pytest.approx(30.0)  # sound housing, failing services: too
    assert index(2.0, -1.0) == pytest.approx(30.0)  # out-of-range inputs are clamped


def test_burden_weighs_severity_and_saturates() -> None:
    b, hours = burden([OUTAGE])
    assert hours == 48.0  # 16 h critical
    assert b == pytest.approx(1 - math.exp(-1))
    assert burden([AlertSpan("low-voltage", "info", 16.0, False)])[1] == 16.0
    assert burden([])[0] == 0.0
    assert burden([AlertSpan("x", "critical", 48, True)])[0] < burden([AlertSpan("x", "critical", 96, True)])[0] <= 1.0


def test_the_same_outage_ranks_a_precarious_tile_above_a_sound_one() -> None:
    ranked = rank(
        [
            TileFacts("17/1/1", "sjl", housing_score=0.2, land_use_class="mediumresidential", alerts=[OUTAGE]),
            TileFacts("17/1/2", "sjl", housing_score=0.9, land_use_class="mobilehomepark", alerts=[OUTAGE]),
            TileFacts("17/1/3", "sjl", housing_score=0.9, land_use_class="mobilehomepark"),
        ]
    )
    assert [r.tile_id for r in ranked] == ["17/1/2", "17/1/1", "17/1/3"]
    assert [r.rank for r in ranked] == [1, 2, 3]
    assert "housing score 0.90 (mobilehomepark)" in ranked[0].why
    assert "water-outage 16.0 h" in ranked[0].why
    assert "no alerts" in ranked[2].why


def test_an_unassessed_tile_is_taken_as_middling_and_says_so() -> None:
    (row,) = rank(
        [TileFacts("17/9/9", "ate", housing_score=None, alerts=[AlertSpan("power-outage", "warning", 2, True)])]
    )
    assert row.vulnerability == 0.5
    assert "not yet assessed" in row.why
    assert "1 still open" in row.why
    assert row.open_alerts == 1


def test_ties_are_broken_by_burden_then_tile_id() -> None:
    quiet = [TileFacts(f"17/0/{i}", "sjl", housing_score=0.5) for i in (3, 1, 2)]
    assert [r.tile_id for r in rank(quiet)] == ["17/0/1", "17/0/2", "17/0/3"]


def test_a_district_is_ranked_by_its_worst_tiles_not_diluted_by_quiet_ones() -> None:
    crisis = [TileFacts(f"17/1/{i}", "small", 0.9, alerts=[AlertSpan("water_outage", "critical", 30, True)])
              for i in range(2)]  # fmt: skip
    quiet = [TileFacts(f"17/2/{i}", "large", 0.3) for i in range(40)]
    one_bad = [TileFacts("17/2/99", "large", 0.9, alerts=[AlertSpan("power_outage", "critical", 5, False)])]
    districts = rank_districts(rank([*crisis, *quiet, *one_bad]))
    assert [d.district for d in districts] == ["small", "large"]
    assert districts[0].tiles == 2
    assert districts[0].open_alerts == 2
    assert districts[1].tiles == 41
    assert "17/2/99" in districts[1].why
    # the large district's score is its three worst tiles, not the mean of 41
    worst_three = sorted((t.index for t in rank([*quiet, *one_bad])), reverse=True)[:3]
    assert districts[1].index == round(sum(worst_three) / 3, 1)


def test_the_reason_reads_in_spanish_for_a_spanish_page() -> None:
    facts = TileFacts("17/1/1", "sjl", 0.8, "mobilehomepark", [AlertSpan("Sin agua", "critical", 10, True)])
    [row] = rank([facts], "es")
    expected = (
        "puntaje de vivienda 0.80 (vivienda ligera agrupada); 1 alerta, 30 horas-alerta ponderadas (Sin agua 10.0 h);"
        " 1 aún abierta"
    )
    assert row.why == expected
    [unassessed] = rank([TileFacts("17/1/2", "sjl", None)], "es")
    assert unassessed.why == "vivienda aún sin evaluar (se toma como intermedia); sin alertas en el periodo"
