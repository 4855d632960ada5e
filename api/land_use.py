"""What the imagery model's land-use classes are called in Spanish, for the API's own sentences (the priority's
`why`, the report). The model names its classes after the UC Merced set it learned from; English keeps those."""

from __future__ import annotations

CLASSES_ES = {
    "agricultural": "cultivos", "airplane": "avión", "baseballdiamond": "campo de béisbol", "beach": "playa",
    "buildings": "edificios", "chaparral": "matorral", "denseresidential": "vivienda densa", "forest": "bosque",
    "freeway": "autopista", "golfcourse": "campo de golf", "harbor": "puerto", "intersection": "cruce de vías",
    "mediumresidential": "vivienda media", "mobilehomepark": "vivienda ligera agrupada", "overpass": "paso elevado",
    "parkinglot": "estacionamiento", "river": "río", "runway": "pista", "sparseresidential": "vivienda dispersa",
    "storagetanks": "tanques", "tenniscourt": "cancha de tenis", "unassessed": "sin evaluar",
}  # fmt: skip


def class_name(land_use_class: str, language: str) -> str:
    """The class as a reader of `language` says it; an unknown class keeps its own name."""
    return CLASSES_ES.get(land_use_class, land_use_class) if language == "es" else land_use_class
