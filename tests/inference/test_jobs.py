import base64
from datetime import UTC, datetime

from inference import jobs
from inference.assessor import Assessment
from inference.housing import RollUp
from inference.preprocess import TileFeatures
from vigia.contracts import TileJob
from vigia.images import ImageError

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
FEATURES = TileFeatures(0.5, 0.1, 0.6, 0.1, 0.2, 0.3)


def job(tile_id: str = "19/150041/279759", image: bytes = b"png") -> TileJob:
    return TileJob(tile_id=tile_id, district="sjl", source="scene.tif", captured_at=NOW, image=image)


def assessment(score: float = 0.8) -> Assessment:
    return Assessment("denseresidential", 0.9, score, [0.6, 0.8], FEATURES, "tilenet-x", [("denseresidential", 0.9)])


def test_malformed_and_misplaced_jobs_are_rejected_with_reasons() -> None:
    good = job()
    decoded = jobs.decode_jobs([b"{nope", None, job(tile_id="19/1").to_json(), good.to_json()], NOW)
    assert decoded.jobs == [good]
    assert [r.reason for r in decoded.rejected] == ["malformed_job", "malformed_job", "bad_tile_id"]
    assert base64.b64decode(decoded.rejected[0].job_b64 or "") == b"{nope"
    assert decoded.rejected[2].tile_id == "19/1"


def test_image_rows_carry_parent_tile_features_and_refusals() -> None:
    rows, rejected = jobs.image_rows(
        [job(), job(tile_id="19/150041/279760"), job(tile_id="17/37510/69939")],
        [assessment(), ImageError("corrupt", "not an image"), assessment(0.3)],
        sensor_zoom=17,
        now=NOW,
    )
    assert [r.tile_id for r in rows] == ["19/150041/279759", "17/37510/69939"]
    assert rows[0].parent_tile_id == "17/37510/69939"
    assert rows[0].time == NOW
    assert rows[0].features is not None
    assert rows[1].parent_tile_id is None
    assert rows[1].zoom == 17
    assert rejected[0].reason == "corrupt"
    assert rejected[0].tile_id == "19/150041/279760"


def test_embeddings_for_the_join_carry_roll_up_figures() -> None:
    rollup = RollUp("denseresidential", 0.65, 0.5, 16, [1.0, 0.0])
    row = jobs.roll_up_row("17/37510/69939", rollup, time=NOW, district="sjl", model_version="tilenet-x")
    embedding = jobs.embedding_of(row, NOW)
    assert (embedding.tile_id, embedding.sub_tiles, embedding.precarious_share) == ("17/37510/69939", 16, 0.5)
    assert embedding.embedding_id.startswith("tilenet-x/17/37510/69939/")
    rows, _ = jobs.image_rows([job(tile_id="17/37510/69939")], [assessment(0.7)], sensor_zoom=17, now=NOW)
    direct = jobs.embedding_of(rows[0], NOW)
    assert (direct.sub_tiles, direct.precarious_share) == (1, 1.0)
