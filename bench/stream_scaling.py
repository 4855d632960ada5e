"""One stream worker against two: does a second worker process add throughput?

One worker and then two in one consumer group (splitting the partitions) drain backlogs
of packed records, taking turns for several rounds; the median of the rounds' ratios is
reported, since on two cores shared with Kafka and PostgreSQL single runs drift.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from bench.stream_backlog import STREAM_GROUP, produce, stored, stream_workers, time_rows
from vigia.settings import Settings


async def group_state(settings: Settings, group: str) -> tuple[str, int]:
    """The consumer group's state and member count, from the broker's raw DescribeGroups answer."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=5000)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
        # Each group: (error_code, group_id, state, protocol_type, protocol, members, ...)
        described = response.groups[0]
        return str(described[2]), len(described[5])
    finally:
        await admin.close()


def bench_joined(
    settings: Settings, prefix: str, sensors: int, per_sensor: int, pack: int, rules: Path, workers: int
) -> float:
    """Readings/s of `workers` draining a backlog, like `bench_faust`, but the backlog is
    produced only once every worker has joined the group and is running: with the backlog
    there first, the first worker to join takes every partition and a rebalance stops both a
    few seconds in, which a five-second drain cannot hide."""
    with stream_workers(settings, rules, workers) as started:
        deadline = time.monotonic() + 120
        while True:
            try:
                if asyncio.run(group_state(settings, STREAM_GROUP)) == ("Stable", workers):
                    break
            except KafkaError:  # no coordinator yet: the group's first member is still on its way
                pass
            if time.monotonic() > deadline or any(worker.poll() is not None for worker in started):
                raise RuntimeError(f"{workers} stream workers did not form a stable group")
            time.sleep(0.5)
        asyncio.run(produce(settings, f"{prefix}warm", 60, 1))  # every partition's worker past its start
        while stored(settings, f"{prefix}warm") < 60:
            if time.monotonic() > deadline or any(worker.poll() is not None for worker in started):
                raise RuntimeError(f"{workers} stream workers did not store the warm-up readings")
            time.sleep(0.2)
        asyncio.run(produce(settings, prefix, sensors, per_sensor, pack))
        return time_rows(settings, prefix, sensors * per_sensor, started)


@dataclass
class Scaling:
    one: list[float]  # readings/s of one worker, round by round
    two: list[float]  # of two, in the same rounds

    @property
    def ratio(self) -> float:
        """The median of each round's two over one: each pair ran minutes apart, on the same drift."""
        return statistics.median(b / a for a, b in zip(self.one, self.two, strict=True))


def measure_scaling(settings: Settings, rules: Path, sensors: int, per_sensor: int, pack: int, rounds: int) -> Scaling:
    """One worker and two workers taking turns on fresh backlogs, `rounds` times."""
    print(f"(d) one worker, then two splitting the partitions, {pack}-reading records, {rounds} rounds ...", flush=True)
    found = Scaling([], [])
    for round_ in range(1, rounds + 1):
        for workers, rates in ((1, found.one), (2, found.two)):
            rates.append(bench_joined(settings, f"w{workers}r{round_}", sensors, per_sensor, pack, rules, workers))
        one, two = found.one[-1], found.two[-1]
        print(f"  round {round_}: one {one:,.0f} readings/s, two {two:,.0f} ({two / one:.2f}x)", flush=True)
    print(f"  two workers {found.ratio:.2f} times one (the median of the rounds)", flush=True)
    return found
