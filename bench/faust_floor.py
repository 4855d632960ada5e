"""The bare Faust floor: an agent on the readings topic that takes batches and does nothing else.

Run as its own process by `bench.stream`; prints `floor_rps=…` when it has seen
`--expected` records, timed from its first batch to its last.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import faust

from stream.faust_tuning import quiet
from vigia import topics
from vigia.settings import Settings


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--expected", type=int, required=True)
    parser.add_argument("--batch", type=int, default=2000)
    args = parser.parse_args()
    settings = Settings()
    app = faust.App(
        f"vigia-bench-floor-{os.getpid()}",
        broker=settings.kafka_broker_url,
        store="memory://",
        datadir=str(settings.state_dir / "faust"),
        consumer_auto_offset_reset="earliest",
        web_enabled=False,
        topic_partitions=settings.kafka_partitions,
        stream_buffer_maxsize=max(4096, 2 * args.batch),
    )
    quiet(app)  # the same tuning as the worker
    readings = app.topic(
        topics.READINGS, key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw"
    )
    seen = {"count": 0, "first": 0.0, "first_n": 0}

    @app.agent(readings)
    async def floor(stream: faust.StreamT[bytes]) -> None:
        async for values in stream.take(args.batch, within=0.2):
            if not seen["count"]:
                seen["first"], seen["first_n"] = time.perf_counter(), len(values)
            seen["count"] += len(values)
            if seen["count"] >= args.expected:
                rate = (seen["count"] - seen["first_n"]) / max(time.perf_counter() - seen["first"], 1e-9)
                print(f"floor_rps={rate:.0f}", flush=True)
                os._exit(0)  # the measurement is done; Faust's orderly shutdown takes seconds

    sys.argv = [sys.argv[0], "worker", "--loglevel", "warn"]
    app.main()


if __name__ == "__main__":
    main()
