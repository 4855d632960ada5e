"""A simulated district: where its sensors stand and what they measure, minute by minute.

Pure and seeded: the same scenario gives the same sensors and the same payloads, so the
shapes of the signals are testable without a broker. The water model follows Lima's
periphery: piped supply only in a daily window, zero pressure outside it, roof tanks that
fill while water comes and drain while it does not (SUNASS, via La República,
2023-08-18); mains voltage is Peru's 220 V with sags and cuts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

from simulate.scenario import Damp, PowerOutage, Rain, Scenario, Silent, Tremor, VoltageSags
from vigia.contracts import SENSOR_METRICS, Metric
from vigia.tiles import tile_id_for
from vigia.topics import telemetry_topic

LIMA_OFFSET = timedelta(hours=-5)
METRES_PER_DEGREE = 111_320.0


@dataclass(frozen=True)
class SimSensor:
    sensor_id: str
    sensor_type: str
    district: str
    latitude: float
    longitude: float
    tile_id: str
    metrics: tuple[Metric, ...]
    supply_start_hour: int  # local hour the piped water arrives
    supply_hours: int
    place: str = ""  # how neighbours name where it stands: "Mz. C, AA.HH. Villa Hermosa"

    @property
    def topic(self) -> str:
        return telemetry_topic(self.district, self.sensor_id)


@dataclass(frozen=True)
class Emission:
    """One MQTT message the district sends."""

    at: datetime
    topic: str
    payload: bytes
    readings: int  # how many valid readings it carries (0 for a malformed one)
    malformed: bool = False


def place_sensors(scenario: Scenario, zoom: int) -> list[SimSensor]:
    """Sensors scattered within the district's radius, deterministic for the scenario's seed."""
    rng = random.Random(scenario.seed)
    district = scenario.district
    spread = district.radius_m / METRES_PER_DEGREE
    sensors = []
    naming = random.Random(f"{scenario.seed}-places")  # apart from `rng`: positions stay as they were
    for sensor_type, count in scenario.sensors.items():
        for index in range(1, count + 1):
            lat = district.latitude + rng.uniform(-spread, spread)
            lon = district.longitude + rng.uniform(-spread, spread) / math.cos(math.radians(district.latitude))
            sensors.append(
                SimSensor(
                    sensor_id=f"{district.code}-{sensor_type}-{index:02d}",
                    sensor_type=sensor_type,
                    district=district.slug,
                    latitude=round(lat, 6),
                    longitude=round(lon, 6),
                    tile_id=tile_id_for(lat, lon, zoom),
                    metrics=SENSOR_METRICS[sensor_type],
                    supply_start_hour=rng.choice(scenario.water.supply_start_hours),
                    supply_hours=rng.choice(scenario.water.supply_hours),
                    place=f"Mz. {naming.choice('ABCDEFGHJKLMNPQRST')}, {naming.choice(district.neighbourhoods)}",
                )
            )
    return sensors


def local_hour(at: datetime) -> float:
    local = at + LIMA_OFFSET
    return local.hour + local.minute / 60 + local.second / 3600


def water_supplied(sensor: SimSensor, at: datetime) -> bool:
    return (local_hour(at) - sensor.supply_start_hour) % 24 < sensor.supply_hours


@dataclass
class _State:
    tank: float
    battery: float
    flood: float = 0.0


@dataclass
class DistrictModel:
    scenario: Scenario
    sensors: list[SimSensor]
    start: datetime
    rng: random.Random = field(init=False)
    affected: dict[int, set[str]] = field(init=False)
    state: dict[str, _State] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.scenario.seed + 1)
        # Which sensors each event touches is drawn once, so an outage hits the same streets throughout.
        self.affected = {}
        for index, event in enumerate(self.scenario.events):
            share = getattr(event, "share", 1.0)
            self.affected[index] = {s.sensor_id for s in self.sensors if self.rng.random() < share}
        self.state = {
            s.sensor_id: _State(tank=self.rng.uniform(30, 90), battery=self.rng.uniform(70, 100)) for s in self.sensors
        }

    def _hours(self, at: datetime) -> float:
        return (at - self.start).total_seconds() / 3600

    def _active(self, kind: type, sensor: SimSensor, at: datetime) -> object | None:
        """The first event of this kind touching the sensor at this time, if any."""
        hours = self._hours(at)
        for index, event in enumerate(self.scenario.events):
            if not isinstance(event, kind) or sensor.sensor_id not in self.affected[index]:
                continue
            after = getattr(event, "after_hours", 0.0)
            duration = getattr(event, "duration_hours", None)
            if hours >= after and (duration is None or hours < after + duration):
                return event
        return None

    def values(self, sensor: SimSensor, at: datetime, step_hours: float) -> dict[Metric, float]:
        """One reading of every metric the sensor has, advancing its state by `step_hours`."""
        rng, state = self.rng, self.state[sensor.sensor_id]
        daily = math.sin((local_hour(at) - 9) / 24 * 2 * math.pi)  # peaks mid-afternoon
        supplied = water_supplied(sensor, at)
        water = self.scenario.water
        if supplied:
            state.tank = min(95.0, state.tank + water.fill_percent_per_hour * step_hours)
        else:
            state.tank = max(0.0, state.tank - water.drain_percent_per_hour * step_hours * (1.3 + 0.5 * daily))
        state.battery = max(5.0, state.battery - 0.05 * step_hours)

        voltage = rng.gauss(220, 3)
        sag = self._active(VoltageSags, sensor, at)
        if isinstance(sag, VoltageSags) and rng.random() < sag.probability:
            voltage -= sag.depth_volts
        if self._active(PowerOutage, sensor, at):
            voltage = 0.0

        damp = self._active(Damp, sensor, at)
        humidity = (
            damp.humidity_percent + rng.gauss(0, 1) if isinstance(damp, Damp) else 82 - 8 * daily + rng.gauss(0, 1.5)
        )

        tilt, vibration = 0.4 + rng.gauss(0, 0.01), abs(rng.gauss(0.2, 0.08))
        tremor = self._active(Tremor, sensor, at)
        if isinstance(tremor, Tremor):
            since = self._hours(at) - tremor.after_hours
            tilt += tremor.tilt_degrees_per_hour * since
            if since < 0.1:
                vibration = rng.uniform(5, 20)

        rain = self._active(Rain, sensor, at)
        if isinstance(rain, Rain):
            state.flood += rain.rise_m_per_hour * step_hours
        else:
            state.flood = max(0.0, state.flood - 0.1 * step_hours)

        values: dict[Metric, float] = {
            Metric.WATER_PRESSURE: rng.uniform(1.1, 2.0) if supplied else rng.uniform(0.0, 0.04),
            Metric.TANK_LEVEL: state.tank,
            Metric.FLOW: rng.uniform(4, 14) if supplied and state.tank < 95 else 0.0,
            Metric.MAINS_VOLTAGE: max(0.0, voltage),
            Metric.TEMPERATURE: 18 + 4 * daily + rng.gauss(0, 0.3),
            Metric.RELATIVE_HUMIDITY: min(100.0, max(0.0, humidity)),
            Metric.PM25: max(0.0, 35 + 15 * daily + rng.gauss(0, 5)),
            Metric.CO: max(0.0, 1.5 + 0.8 * daily + rng.gauss(0, 0.2)),
            Metric.TILT: tilt,
            Metric.VIBRATION: vibration,
            Metric.FLOOD_LEVEL: max(0.0, state.flood + abs(rng.gauss(0.01, 0.004))),
            Metric.BATTERY: state.battery,
        }
        return {metric: round(values[metric], 4) for metric in sensor.metrics}

    def payload(self, sensor: SimSensor, at: datetime, values: dict[Metric, float]) -> bytes:
        """Water sensors speak SenML with pressure in kPa; the others the plain JSON form."""
        if sensor.sensor_type == "water":
            pack: list[dict[str, object]] = []
            for metric, value in values.items():
                record: dict[str, object] = {"n": metric.value, "v": value}
                if metric is Metric.WATER_PRESSURE:
                    record.update(u="kPa", v=round(value * 100, 2))
                pack.append(record)
            pack[0] = {"bn": f"{sensor.sensor_id}:", "bt": round(at.timestamp(), 3), **pack[0]}
            return orjson.dumps(pack)
        return orjson.dumps({"ts": at.isoformat(), **{m.value: v for m, v in values.items()}})

    def malformed(self, at: datetime) -> bytes:
        """The kinds of garbage cheap firmware sends."""
        return self.rng.choice(
            [
                b'{"ts": "' + at.isoformat().encode() + b'", "water_pressure": NaN}',
                b'{"ts": "' + at.isoformat().encode() + b'", "presion": 1.2}',
                b'{"ts": "' + at.isoformat().encode() + b'", "tank_level": 250}',
                b'{"ts": 17',
            ]
        )

    def ticks(self) -> Iterator[list[Emission]]:
        """Every sensor's message per interval, in simulated-time order."""
        scenario = self.scenario
        step = timedelta(seconds=scenario.interval_seconds)
        step_hours = scenario.interval_seconds / 3600
        end = self.start + timedelta(hours=scenario.duration_hours)
        at = self.start
        while at < end:
            tick = []
            for sensor in self.sensors:
                if self._active(Silent, sensor, at):
                    continue
                values = self.values(sensor, at, step_hours)
                if self.rng.random() < scenario.malformed_share:
                    tick.append(Emission(at, sensor.topic, self.malformed(at), 0, malformed=True))
                else:
                    tick.append(Emission(at, sensor.topic, self.payload(sensor, at, values), len(values)))
            yield tick
            at += step


def start_time(scenario: Scenario, now: datetime | None = None) -> datetime:
    now = now or datetime.now(UTC)
    return (now - timedelta(hours=scenario.start_hours_ago)).replace(microsecond=0)
