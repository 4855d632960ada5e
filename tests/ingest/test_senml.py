"""Resolution cases from RFC 8428's examples (section 5) and its rules (section 4)."""

from __future__ import annotations

import pytest

from ingest.senml import Record, SenMLError, resolve

NOW = 1_772_463_600.0


def test_single_datapoint_without_time_is_now() -> None:
    # RFC 8428 section 5.1.1
    [record] = resolve([{"n": "urn:dev:ow:10e2073a01080063", "u": "Cel", "v": 23.1}], NOW)
    assert record == Record("urn:dev:ow:10e2073a01080063", NOW, "Cel", 23.1)


def test_multiple_datapoints_share_the_base_name() -> None:
    # RFC 8428 section 5.1.2
    pack = [
        {"bn": "urn:dev:ow:10e2073a01080063:", "n": "voltage", "u": "V", "v": 120.1},
        {"n": "current", "u": "A", "v": 1.2},
    ]
    assert [(r.name, r.unit, r.value) for r in resolve(pack, NOW)] == [
        ("urn:dev:ow:10e2073a01080063:voltage", "V", 120.1),
        ("urn:dev:ow:10e2073a01080063:current", "A", 1.2),
    ]


def test_base_time_unit_and_relative_offsets() -> None:
    # RFC 8428 section 5.1.3
    pack = [
        {"bn": "urn:dev:ow:10e2073a0108006:", "bt": 1.276020076001e09, "bu": "A", "bver": 5,
         "n": "voltage", "u": "V", "v": 120.1},
        {"n": "current", "t": -5, "v": 1.2},
        {"n": "current", "t": -4, "v": 1.3},
        {"n": "current", "t": -3, "v": 1.4},
        {"n": "current", "t": -2, "v": 1.5},
        {"n": "current", "t": -1, "v": 1.6},
        {"n": "current", "v": 1.7},
    ]  # fmt: skip
    records = resolve(pack, NOW)
    assert records[0] == Record("urn:dev:ow:10e2073a0108006:voltage", 1.276020076001e09, "V", 120.1)
    currents = records[1:]
    assert [r.unit for r in currents] == ["A"] * 6
    assert [round(r.time - 1.276020076001e09, 6) for r in currents] == [-5, -4, -3, -2, -1, 0]
    assert [r.value for r in currents] == [1.2, 1.3, 1.4, 1.5, 1.6, 1.7]


def test_base_fields_change_for_later_records() -> None:
    # RFC 8428 section 5.1.4: a later record sets a new base time
    pack = [
        {"bn": "urn:dev:ow:10e2073a01080063", "bt": 1.320067464e09, "bu": "%RH", "v": 20},
        {"u": "lon", "v": 24.30621},
        {"u": "lat", "v": 60.07965},
        {"t": 60, "v": 20.3},
        {"bt": 1.320067524e09, "v": 20.7},
    ]
    times = [r.time for r in resolve(pack, NOW)]
    assert times == [1.320067464e09, 1.320067464e09, 1.320067464e09, 1.320067524e09, 1.320067524e09]
    assert [r.unit for r in resolve(pack, NOW)] == ["%RH", "lon", "lat", "%RH", "%RH"]


def test_data_types_string_boolean_and_data() -> None:
    # RFC 8428 section 5.1.5
    pack = [
        {"bn": "urn:dev:ow:10e2073a01080063:", "n": "temp", "u": "Cel", "v": 23.1},
        {"n": "label", "vs": "Machine Room"},
        {"n": "open", "vb": False},
        {"n": "nfc-reader", "vd": "aGkgCg"},
    ]
    assert [r.value for r in resolve(pack, NOW)] == [23.1, "Machine Room", False, "aGkgCg"]


def test_base_value_is_added_and_relative_time_counts_from_now() -> None:
    pack = [{"bn": "tank-", "bv": 100, "n": "a", "v": -2.5, "t": -10}, {"n": "b", "v": 1}]
    records = resolve(pack, NOW)
    assert [(r.name, r.value, r.time) for r in records] == [("tank-a", 97.5, NOW - 10), ("tank-b", 101.0, NOW)]


def test_sum_only_record_is_accepted() -> None:
    [record] = resolve([{"n": "flow-total", "u": "l", "s": 1200}], NOW)
    assert record.value is None
    assert record.total == 1200


@pytest.mark.parametrize(
    "pack",
    [
        {"n": "x", "v": 1},
        [{"n": "", "v": 1}],
        [{"n": "-bad", "v": 1}],
        [{"n": "x"}],
        [{"n": "x", "v": 1, "vb": True}],
        [{"n": "x", "vb": "yes"}],
        [{"bt": "soon", "n": "x", "v": 1}],
        [{"n": 5, "v": 1}],
        [{"bver": 12, "n": "x", "v": 1}],
        [{"n": "x", "v": 1, "unknown_": 1}],
        ["not a record"],
    ],
)
def test_malformed_packs_are_refused(pack: object) -> None:
    with pytest.raises(SenMLError):
        resolve(pack, NOW)
