"""Message contracts: the one definition of every payload that crosses a topic or a table.

Each model has one owner (the service that produces it); readers import it from here and
never redefine it. All timestamps are timezone-aware UTC.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from typing import Annotated

import orjson
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, computed_field


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must carry a timezone")
    if value.tzinfo is UTC:  # the common case, cheaply: every reading passes here
        return value
    return value.astimezone(UTC)


UtcDatetime = Annotated[datetime, AfterValidator(_as_utc)]

SENSOR_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
DISTRICT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"
"""A district's slug: lower case, as in `san-juan-de-lurigancho`; the same wherever a district is named."""

SensorId = Annotated[str, StringConstraints(pattern=SENSOR_ID_PATTERN)]
"""A sensor's id: what it is registered as, its MQTT account and a level of its topic."""
DistrictSlug = Annotated[str, StringConstraints(pattern=DISTRICT_PATTERN)]


class Metric(StrEnum):
    """What a sensor measures. The canonical unit of each is in `CANONICAL_UNITS`."""

    WATER_PRESSURE = "water_pressure"
    TANK_LEVEL = "tank_level"
    FLOW = "flow"
    MAINS_VOLTAGE = "mains_voltage"
    TEMPERATURE = "temperature"
    RELATIVE_HUMIDITY = "relative_humidity"
    PM25 = "pm25"
    CO = "co"
    TILT = "tilt"
    VIBRATION = "vibration"
    FLOOD_LEVEL = "flood_level"
    BATTERY = "battery"


# Units follow the SenML registry (RFC 8428) where it has one.
CANONICAL_UNITS: dict[Metric, str] = {
    Metric.WATER_PRESSURE: "bar",
    Metric.TANK_LEVEL: "%",
    Metric.FLOW: "l/min",
    Metric.MAINS_VOLTAGE: "V",
    Metric.TEMPERATURE: "Cel",
    Metric.RELATIVE_HUMIDITY: "%RH",
    Metric.PM25: "ug/m3",
    Metric.CO: "ppm",
    Metric.TILT: "deg",
    Metric.VIBRATION: "mm/s",
    Metric.FLOOD_LEVEL: "m",
    Metric.BATTERY: "%",
}


class SensorType(StrEnum):
    """What kind of device a sensor is; it decides the metrics it reports unless registered otherwise."""

    WATER = "water"
    POWER = "power"
    CLIMATE = "climate"
    AIR = "air"
    STRUCTURE = "structure"
    FLOOD = "flood"
    GATEWAY = "gateway"  # carries readings of other sensors of its district, measures nothing itself


SENSOR_METRICS: dict[str, tuple[Metric, ...]] = {
    SensorType.WATER: (Metric.WATER_PRESSURE, Metric.TANK_LEVEL, Metric.FLOW, Metric.BATTERY),
    SensorType.POWER: (Metric.MAINS_VOLTAGE,),
    SensorType.CLIMATE: (Metric.TEMPERATURE, Metric.RELATIVE_HUMIDITY, Metric.BATTERY),
    SensorType.AIR: (Metric.PM25, Metric.CO, Metric.BATTERY),
    SensorType.STRUCTURE: (Metric.TILT, Metric.VIBRATION, Metric.BATTERY),
    SensorType.FLOOD: (Metric.FLOOD_LEVEL, Metric.BATTERY),
    SensorType.GATEWAY: (),
}
"""The metrics a sensor of each type reports unless registered with others."""


def reading_id(sensor_id: str, metric: str, event_time: datetime) -> str:
    """A UUID-shaped digest of what identifies a reading.

    BLAKE2b rather than uuid5: the bridge computes one per reading and this is several
    times cheaper; the id only has to be stable and collision-free, not a versioned UUID.
    """
    return reading_id_at(sensor_id, metric, event_time.timestamp())


def reading_id_at(sensor_id: str, metric: str, ts: float) -> str:
    """`reading_id` of an event time already in epoch seconds, as the bridge holds it."""
    h = hashlib.blake2b(f"{sensor_id}|{metric}|{ts:.6f}".encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


class _Contract(BaseModel):
    # Readers ignore fields they do not know, so a producer can add one without breaking them.
    model_config = ConfigDict(frozen=True, extra="ignore")


class Reading(_Contract):
    """One measurement of one metric by one sensor: the record on the readings topic.

    Owner: the ingest bridge. Keyed by `sensor_id` on Kafka so a sensor's order holds.
    """

    sensor_id: str = Field(min_length=1, max_length=64)
    district: str = Field(min_length=1, max_length=64)
    tile_id: str = Field(description="XYZ tile 'z/x/y' holding the sensor", examples=["17/36926/69893"])
    metric: Metric
    value: float = Field(allow_inf_nan=False)
    unit: str
    event_time: UtcDatetime
    received_at: UtcDatetime
    raw_value: float | None = Field(None, description="what the sensor sent, when a calibration changed it")
    calibration: int | None = Field(None, description="the sensor's calibration version applied")

    def to_json(self) -> bytes:
        """The document `model_dump_json` gives, built several times faster: the bridge's hot path."""
        return orjson.dumps(
            {
                "sensor_id": self.sensor_id,
                "district": self.district,
                "tile_id": self.tile_id,
                "metric": self.metric.value,
                "value": self.value,
                "unit": self.unit,
                "event_time": self.event_time,
                "received_at": self.received_at,
                "raw_value": self.raw_value,
                "calibration": self.calibration,
                "reading_id": self.reading_id,
            }
        )

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented idiom
    @cached_property
    def reading_id(self) -> str:
        """Same sensor, metric and event time give the same id, so re-deliveries can be dropped."""
        return reading_id(self.sensor_id, self.metric.value, self.event_time)


class TileEmbedding(_Contract):
    """The imagery model's latest view of one tile: the record on the compacted embeddings topic.

    Owner: inference. Keyed by `tile_id`; compaction keeps the newest per tile.
    """

    tile_id: str
    model_version: str
    computed_at: UtcDatetime
    land_use_class: str
    housing_score: float = Field(ge=0.0, le=1.0)
    embedding: list[float] = Field(min_length=1)
    precarious_share: float | None = Field(
        None, ge=0.0, le=1.0, description="share of imagery sub-tiles scored precarious"
    )
    sub_tiles: int | None = Field(None, ge=1, description="imagery tiles rolled up into this one")
    district: str | None = None

    @computed_field  # type: ignore[prop-decorator]  # pydantic's documented idiom
    @property
    def embedding_id(self) -> str:
        return f"{self.model_version}/{self.tile_id}/{self.computed_at.strftime('%Y%m%dT%H%M%SZ')}"


class TileJob(_Contract):
    """One image tile to assess: the record on the tile-jobs topic.

    Owner: whoever brings imagery in (`vigia imagery ingest`, the API's upload). Keyed by
    `tile_id`. `captured_at` is when the image was taken (or submitted, when unknown): the
    same image re-assessed by the same model rewrites one row, never adds another.
    """

    model_config = ConfigDict(frozen=True, extra="ignore", ser_json_bytes="base64", val_json_bytes="base64")

    tile_id: str
    district: str | None = None
    source: str = Field(description="where the image came from: a scene file, a folder, an upload")
    captured_at: UtcDatetime
    image: bytes = Field(description="the tile as PNG or JPEG bytes, base64 in JSON")

    def to_json(self) -> bytes:
        return self.model_dump_json().encode()


class HousingContext(_Contract):
    """What the stream knows of a tile's housing when it aggregates or alerts."""

    embedding_id: str | None = None
    model_version: str | None = None
    land_use_class: str = "unassessed"
    housing_score: float | None = None
    precarious_share: float | None = None

    @classmethod
    def from_embedding(cls, embedding: TileEmbedding | None) -> HousingContext:
        if embedding is None:
            return cls()
        return cls(
            embedding_id=embedding.embedding_id,
            model_version=embedding.model_version,
            land_use_class=embedding.land_use_class,
            housing_score=embedding.housing_score,
            precarious_share=embedding.precarious_share,
        )


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"  # late readings show its condition never held long enough


class Alert(_Contract):
    """An alert and its current state: the record on the alerts topic. Owner: the stream processor."""

    alert_id: str
    rule: str
    sensor_id: str
    metric: Metric | None = Field(None, description="none for alerts about the whole sensor, such as silence")
    district: str
    tile_id: str
    severity: Severity
    state: AlertState
    opened_at: UtcDatetime
    updated_at: UtcDatetime
    summary: str
    housing: HousingContext = HousingContext()
    window_start: UtcDatetime | None = None
    window_end: UtcDatetime | None = None
    change: str = Field("opened", description="what happened: opened, updated, acknowledged or resolved")
    changed_at: UtcDatetime | None = Field(None, description="when the condition began, changed or cleared")
    title_es: str = ""
    title_en: str = ""
    value: float | None = None


class DeadLetter(_Contract):
    """A message the bridge could not accept, kept whole with the reason. Owner: the ingest bridge."""

    reason: str = Field(description="the first problem found, a stable code such as 'out_of_range'")
    detail: str = Field(description="every problem found, for a person")
    mqtt_topic: str
    received_at: UtcDatetime
    payload_b64: str = Field(description="the original MQTT payload, base64")
    accepted_readings: int = Field(0, description="readings of the same message that were accepted")


class RejectedTileJob(_Contract):
    """A tile job the inference worker could not assess, kept with the reason. Owner: inference."""

    reason: str = Field(
        description="a stable code: 'malformed_job', 'bad_tile_id', or an image reason such as 'corrupt'"
    )
    detail: str
    tile_id: str | None = None
    source: str | None = None
    rejected_at: UtcDatetime
    job_b64: str | None = Field(None, description="the original record, base64, when it was not a readable job")


class ClassShare(_Contract):
    land_use_class: str = Field(examples=["denseresidential"])
    probability: float = Field(examples=[0.82])


class ImageAssessment(_Contract):
    """The model's reading of one image, assessed on demand and stored nowhere.

    Owner: inference, which answers `POST /assess` on its own port; the API's `POST /assess`
    passes it on to the person who asked.
    """

    land_use_class: str = Field(examples=["denseresidential"])
    class_probability: float = Field(examples=[0.82])
    housing_score: float = Field(description="0 sound housing, 1 precarious", examples=[0.64])
    top_classes: list[ClassShare]
    features: dict[str, float] = Field(examples=[{"built_up_fraction": 0.37, "vegetation_fraction": 0.05}])
    model_version: str = Field(examples=["tilenet-20261120-3f2a"])
