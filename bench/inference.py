"""Inference benchmark: tiles/s end to end against the model's raw forward pass, in one run.

End to end is what the worker does to a batch of tile jobs' images: decode each JPEG,
check it, resize it, compute the OpenCV features and run the model (`Assessor.assess`,
its lanes at once), then publish the embeddings to a real Kafka broker (started on
benchmark ports). The raw forward pass is the same fused model on ready uint8 tensors at
the same batch size and in the same lanes: the ceiling the pipeline is measured against.

Both are measured twice: in full precision, and with the model quantized to INT8 in the
same run (`inference/quantize.py`, calibrated on training tiles), whose housing macro-F1
on the validation tiles is printed beside full precision's.

    python -m bench.inference [--tiles 960] [--batch 16] [--threads 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench.common import bench_stack
from inference import modelfile, quantize
from inference.assessor import DEFAULT_MODEL, Assessment, Assessor
from inference.preprocess import prepare
from ops.kafka_admin import ensure_topics
from vigia import kafka
from vigia.contracts import TileEmbedding
from vigia.images import decode
from vigia.settings import Settings
from vigia.topics import TILE_EMBEDDINGS


def tile_bytes(count: int) -> list[bytes]:
    files = sorted((Settings().imagery_dir / "ucmerced").glob("*/*.jpg"))
    step = max(1, len(files) // count)
    chosen = (files[::step] * (count // len(files[::step]) + 1))[:count]
    return [Path(p).read_bytes() for p in chosen]


def bench_forward(assessor: Assessor, data: list[bytes], batch: int, seconds: float) -> float:
    ready = np.stack([prepare(decode(d), assessor.info.input_size) for d in data[: batch * 8]])
    batches = [ready[i : i + batch] for i in range(0, len(ready), batch)]
    assessor.forward(batches[0])  # warm-up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for b in batches:
            assessor.forward(b)
            done += len(b)
    return done / (time.perf_counter() - started)


async def bench_pipeline(settings: Settings, assessor: Assessor, data: list[bytes], batch: int) -> tuple[float, int]:
    producer = kafka.producer(settings, linger_ms=5)
    await producer.start()
    try:
        assessor.assess(data[:batch])  # warm-up, as the forward pass had
        batches = [data[i : i + batch] for i in range(0, len(data), batch)]
        published, started = 0, time.perf_counter()
        now = datetime.now(UTC)
        for images in batches:  # as the worker takes them: assessed, then published
            outcome = await asyncio.to_thread(assessor.assess, images)
            for i, result in enumerate(outcome):
                if not isinstance(result, Assessment):
                    continue
                embedding = TileEmbedding(
                    tile_id=f"19/{published}/{i}",
                    model_version=result.model_version,
                    computed_at=now,
                    land_use_class=result.land_use_class,
                    housing_score=result.housing_score,
                    embedding=result.embedding,
                )
                await producer.send(
                    TILE_EMBEDDINGS, embedding.model_dump_json().encode(), key=embedding.tile_id.encode()
                )
                published += 1
        await producer.flush()
        return published / (time.perf_counter() - started), published
    finally:
        await producer.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiles", type=int, default=960)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--forward-seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    data = tile_bytes(args.tiles)
    net, info = modelfile.load(DEFAULT_MODEL)
    print("quantizing to INT8 and judging both on the validation tiles ...", flush=True)
    verdict, graph = quantize.build(DEFAULT_MODEL, Settings().imagery_dir / "ucmerced", threads=args.threads)
    print(
        f"  housing macro-F1 {verdict.fp32_housing_f1:.4f} full precision, {verdict.int8_housing_f1:.4f} INT8"
        f" ({verdict.validation_tiles} tiles); {'kept' if verdict.kept else 'would not be kept'}"
    )
    assessors = {
        "fp32": Assessor(net, info, threads=args.threads),
        "int8": Assessor(net, info, threads=args.threads, int8_graph=graph),
    }
    print(
        f"model {info.version}, input {info.input_size} px, batch {args.batch},"
        f" ONNX Runtime in {args.threads} lanes of one thread"
    )
    print(f"{len(data)} tiles of the shared set, JPEG, about 256 px", flush=True)
    forwards: dict[str, list[float]] = {name: [] for name in assessors}
    pipelines: dict[str, list[float]] = {name: [] for name in assessors}
    with bench_stack(["kafka"]) as settings:
        asyncio.run(ensure_topics(settings))
        # Alternate the contenders, several rounds, and compare medians: this machine's speed
        # drifts by a fifth from minute to minute, and each should meet the same drift.
        for round_ in range(1, args.rounds + 1):
            for name, assessor in assessors.items():
                forwards[name].append(bench_forward(assessor, data, args.batch, args.forward_seconds))
                pipelines[name].append(asyncio.run(bench_pipeline(settings, assessor, data, args.batch))[0])
                print(
                    f"  round {round_}, {name}: forward {forwards[name][-1]:.1f} tiles/s,"
                    f" end to end {pipelines[name][-1]:.1f} tiles/s",
                    flush=True,
                )
    for assessor in assessors.values():
        assessor.close()
    forward = {name: statistics.median(found) for name, found in forwards.items()}
    pipeline = {name: statistics.median(found) for name, found in pipelines.items()}
    print(
        f"pipeline_tps={pipeline['fp32']:.1f} forward_tps={forward['fp32']:.1f}"
        f" ratio={pipeline['fp32'] / forward['fp32']:.2f} ms_per_tile={1000 / pipeline['fp32']:.1f}"
        f" int8_pipeline_tps={pipeline['int8']:.1f} int8_forward_tps={forward['int8']:.1f}"
        f" int8_ratio={pipeline['int8'] / forward['int8']:.2f} int8_speedup={pipeline['int8'] / pipeline['fp32']:.2f}"
        f" housing_f1_fp32={verdict.fp32_housing_f1:.4f} housing_f1_int8={verdict.int8_housing_f1:.4f}"
    )


if __name__ == "__main__":
    main()
