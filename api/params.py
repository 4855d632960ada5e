"""Path and query parameters every route names the same way, checked by the shared patterns."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from vigia.contracts import DISTRICT_PATTERN, SENSOR_ID_PATTERN

DISTRICT_EXAMPLE = "san-juan-de-lurigancho"

DistrictPath = Annotated[str, Path(max_length=64, pattern=DISTRICT_PATTERN, examples=[DISTRICT_EXAMPLE])]
DistrictQuery = Annotated[str | None, Query(max_length=64, pattern=DISTRICT_PATTERN, examples=[DISTRICT_EXAMPLE])]
SensorIdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=SENSOR_ID_PATTERN, examples=["sjl-water-01"])]

# An XYZ tile: map layers draw from zoom 0 to 24; uploads, labels and changes name tiles zoom 1 to 22.
MapZoomPath = Annotated[int, Path(ge=0, le=24)]
TileZoomPath = Annotated[int, Path(ge=1, le=22)]
TileXPath = Annotated[int, Path(ge=0, le=4_194_303)]  # the last column at zoom 22
TileYPath = Annotated[int, Path(ge=0, le=4_194_303)]
