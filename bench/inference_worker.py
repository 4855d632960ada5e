"""The inference worker on the stack against its own model alone, in one run.

`make bench-inference` measures the model's path in one process. This measures the worker
as it is deployed: tile jobs queued on Kafka, the worker process (its default lanes and
precision, or `--lanes`) assessing them, writing the assessments and roll-ups to
TimescaleDB, publishing embeddings and committing offsets; tiles per second are counted
from the database, between a tenth and nine tenths of the queue stored. The peer is the
model the worker serves (the registry's champion, fetched the same way, same lanes and
precision) assessing the same images in batches of the same size in this process while the
worker is idle: what the worker would reach if writing and publishing cost nothing. Rounds
alternate the two; the medians are compared.

    python -m bench.inference_worker [--tiles 1200] [--rounds 2] [--lanes N]

Last line: worker_tps=… assess_tps=… ratio=… lanes=… precision=…
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
from datetime import UTC, datetime

import psycopg

from bench.common import bench_stack
from bench.inference import tile_bytes
from inference.assessor import Assessor
from inference.intake import queue_tiles
from inference.registry import ModelRegistry
from inference.repo import stored_assessments
from inference.tiling import ImageTile
from vigia.settings import Settings

SUB_TILES = 16  # zoom-19 tiles in one zoom-17 sensor tile: each job rolls up into a block


def block_tiles(data: list[bytes], source: str, captured: datetime) -> list[ImageTile]:
    """Zoom-19 tiles filling zoom-17 blocks in order, as a survey's would."""
    return [
        ImageTile(tile_id=f"19/{150000 + (i // SUB_TILES) * 4 + i % 4}/{280000 + (i % SUB_TILES) // 4}",
                  source=source, captured_at=captured, data=image)
        for i, image in enumerate(data)
    ]  # fmt: skip


def worker_rate(settings: Settings, data: list[bytes], source: str) -> float:
    """Tiles per second the worker stored, from a tenth to nine tenths of the queue."""
    captured = datetime.now(UTC).replace(microsecond=0)
    queued = asyncio.run(queue_tiles(settings, block_tiles(data, source, captured), district="bench"))
    marks: dict[float, tuple[float, int]] = {}
    deadline = time.monotonic() + 900
    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
        while time.monotonic() < deadline:
            done = stored_assessments(conn, queued=queued)
            for share in (0.1, 0.9):
                if share not in marks and done >= share * len(queued):
                    marks[share] = (time.monotonic(), done)
            if done >= len(queued):
                (start, first), (end, last) = marks[0.1], marks[0.9]
                return (last - first) / (end - start)
            time.sleep(0.05)
    raise TimeoutError(f"the worker stored {done} of {len(queued)} tiles")


def assess_rate(assessor: Assessor, data: list[bytes], batch: int) -> float:
    batches = [data[i : i + batch] for i in range(0, len(data), batch)]
    assessor.assess(batches[0])  # warm-up
    started = time.perf_counter()
    for images in batches:
        assessor.assess(images)
    return len(data) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiles", type=int, default=1200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--lanes", type=int, help="the worker's lanes (VIGIA_INFERENCE_THREADS); default: its own")
    args = parser.parse_args()
    env = {"VIGIA_INFERENCE_THREADS": str(args.lanes)} if args.lanes else {}
    data = tile_bytes(args.tiles)
    print("starting Kafka, TimescaleDB, MLflow and the inference worker on benchmark ports", flush=True)
    with bench_stack(["kafka", "timescaledb", "mlflow", "inference"], env=env) as settings:
        registry = ModelRegistry(settings)
        assessor = Assessor.from_file(
            registry.fetch(registry.ensure_champion()), threads=settings.inference_threads, int8=settings.inference_int8
        )
        lanes, precision = settings.inference_threads, assessor.precision
        print(f"model {assessor.version}, {precision}, {lanes} lane(s), batch {settings.inference_batch}")
        workers: list[float] = []
        alone: list[float] = []
        try:
            for round_ in range(1, args.rounds + 1):
                workers.append(worker_rate(settings, data, f"bench-{os.getpid()}-{round_}"))
                alone.append(assess_rate(assessor, data, settings.inference_batch))
                print(
                    f"  round {round_}: worker {workers[-1]:.1f} tiles/s stored,"
                    f" its model alone {alone[-1]:.1f} tiles/s assessed",
                    flush=True,
                )
        finally:
            assessor.close()
    worker, model = statistics.median(workers), statistics.median(alone)
    print(
        f"worker_tps={worker:.1f} assess_tps={model:.1f} ratio={worker / model:.2f} lanes={lanes} precision={precision}"
    )


if __name__ == "__main__":
    main()
