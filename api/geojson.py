"""GeoJSON for the map: tiles as polygons, written straight to bytes as `application/geo+json`.

A returned dict would be checked against the route's annotation and served as plain JSON;
the layers are built here from the database's rows, so there is nothing to check, and a
map client is told what the document is.
"""

from __future__ import annotations

from typing import Any

import mercantile
import orjson
from fastapi.responses import Response

from vigia.tiles import parse_tile_id

MEDIA_TYPE = "application/geo+json"


def tile_polygon(tile_id: str) -> dict[str, Any]:
    """The tile's square as a GeoJSON polygon (longitude, latitude; closed)."""
    w, s, e, n = mercantile.bounds(parse_tile_id(tile_id))
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def feature_collection(features: list[dict[str, Any]]) -> Response:
    body = orjson.dumps({"type": "FeatureCollection", "features": features}, option=orjson.OPT_UTC_Z)
    return Response(body, media_type=MEDIA_TYPE)
