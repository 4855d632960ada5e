"""Tile jobs to table rows and embeddings: the worker's logic, without Kafka or a database.

Imagery tiles become rows of their own; each sensor tile (at `sensor_zoom`) that holds
one is then rolled up from the newest assessments of all its imagery tiles, and that
roll-up is what goes to the compacted embeddings topic for the stream's join. A tile job
already at the sensor zoom (an image uploaded for a sensor tile) is its own roll-up.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from pydantic import ValidationError

from inference.assessor import Assessment
from inference.housing import RollUp
from inference.repo import AssessmentRow
from vigia.contracts import RejectedTileJob, TileEmbedding, TileJob
from vigia.images import ImageError
from vigia.tiles import parent_tile, parse_tile_id


@dataclass
class Decoded:
    jobs: list[TileJob] = field(default_factory=list)
    rejected: list[RejectedTileJob] = field(default_factory=list)


def decode_jobs(values: Sequence[bytes | None], now: datetime | None = None) -> Decoded:
    now = now or datetime.now(UTC)
    out = Decoded()
    for value in values:
        try:
            job = TileJob.model_validate_json(value or b"")
        except ValidationError as error:
            out.rejected.append(
                RejectedTileJob(
                    reason="malformed_job",
                    detail=f"not a tile job: {error.errors()[0]['msg']}",
                    rejected_at=now,
                    job_b64=base64.b64encode(value or b"").decode(),
                )
            )
            continue
        try:
            parse_tile_id(job.tile_id)
        except ValueError as error:
            out.rejected.append(_rejected(job, "bad_tile_id", str(error), now))
            continue
        out.jobs.append(job)
    return out


def _rejected(job: TileJob, reason: str, detail: str, now: datetime) -> RejectedTileJob:
    return RejectedTileJob(reason=reason, detail=detail, tile_id=job.tile_id, source=job.source, rejected_at=now)


def image_rows(
    jobs: Sequence[TileJob],
    results: Sequence[Assessment | ImageError],
    *,
    sensor_zoom: int,
    now: datetime | None = None,
) -> tuple[list[AssessmentRow], list[RejectedTileJob]]:
    now = now or datetime.now(UTC)
    rows, rejected = [], []
    for job, result in zip(jobs, results, strict=True):
        if isinstance(result, ImageError):
            rejected.append(_rejected(job, result.reason, result.detail, now))
            continue
        zoom = parse_tile_id(job.tile_id).z
        rows.append(
            AssessmentRow(
                time=job.captured_at,
                tile_id=job.tile_id,
                zoom=zoom,
                parent_tile_id=parent_tile(job.tile_id, sensor_zoom) if zoom > sensor_zoom else None,
                district=job.district,
                model_version=result.model_version,
                land_use_class=result.land_use_class,
                class_probability=result.class_probability,
                housing_score=result.housing_score,
                precarious_share=None,
                sub_tiles=None,
                features=result.features.as_dict(),
                embedding=result.embedding,
                source=job.source,
            )
        )
    return rows, rejected


def roll_up_row(
    parent: str, rollup: RollUp, *, time: datetime, district: str | None, model_version: str
) -> AssessmentRow:
    return AssessmentRow(
        time=time,
        tile_id=parent,
        zoom=parse_tile_id(parent).z,
        parent_tile_id=None,
        district=district,
        model_version=model_version,
        land_use_class=rollup.land_use_class,
        class_probability=None,
        housing_score=rollup.housing_score,
        precarious_share=rollup.precarious_share,
        sub_tiles=rollup.sub_tiles,
        features=None,
        embedding=rollup.embedding,
        source="roll-up",
    )


def embedding_of(row: AssessmentRow, computed_at: datetime) -> TileEmbedding:
    """What the stream's join reads for a sensor tile."""
    from inference.housing import PRECARIOUS

    share = row.precarious_share
    if share is None:  # a tile assessed directly at the sensor zoom is one sub-tile
        share = 1.0 if row.housing_score >= PRECARIOUS else 0.0
    return TileEmbedding(
        tile_id=row.tile_id,
        model_version=row.model_version,
        computed_at=computed_at,
        land_use_class=row.land_use_class,
        housing_score=row.housing_score,
        embedding=list(row.embedding),
        precarious_share=share,
        sub_tiles=row.sub_tiles or 1,
        district=row.district,
    )
