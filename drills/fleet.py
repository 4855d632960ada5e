"""Several stream workers and bridges beside the stack, started, killed and restarted by a drill.

A cluster drill needs three workers in one consumer group and two bridges in one shared
subscription, and must kill one for good or add another mid-run, so it runs them itself
rather than through the stack's supervisor (which keeps one of each). Each runs as
`vigia stream run` or `vigia bridge run` with the drill's settings, its log in the state
directory's logs (`stream-1.log`, `bridge-2.log`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from vigia.settings import Settings

STREAM_GROUP = "vigia-stream"
RETRIED = re.compile(r"a batch of \d+ records failed|database away")  # stream/app.py and stream/sink.py


@dataclass
class Fleet:
    """The members run as under a supervisor: one that exits on its own (a stream worker's
    watchdog ends a worker whose consumer stopped delivering) is started again, and counted.
    One the drill kills or stops stays down."""

    settings: Settings
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    restarts: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _watching: threading.Event = field(default_factory=threading.Event)

    def watch(self, every: float = 1.0) -> None:
        """Restart members that exit on their own, from a thread of its own, until `stop_all`."""
        self._watching.set()

        def loop() -> None:
            while self._watching.is_set():
                with self._lock:
                    for name in [n for n, p in self.processes.items() if p.poll() is not None]:
                        self.restarts.append(name)
                        self._start(name)
                time.sleep(every)

        threading.Thread(target=loop, daemon=True, name="fleet-supervisor").start()

    def log(self, name: str) -> Path:
        return self.settings.log_dir / f"{name}.log"

    def start(self, name: str) -> None:
        """Start `stream-N` or `bridge-N`."""
        with self._lock:
            self._start(name)

    def _start(self, name: str) -> None:
        service, _, number = name.partition("-")
        env = {**os.environ, "VIGIA_STATE_DIR": str(self.settings.state_dir)}
        if service == "stream":
            env["VIGIA_STREAM_METRICS_PORT"] = "0"
        elif service == "bridge":
            env |= {"VIGIA_BRIDGE_METRICS_PORT": "0", "VIGIA_MQTT_CLIENT_ID": f"vigia-bridge-{number}"}
        else:
            raise ValueError(f"{name}: only stream workers and bridges join a fleet")
        self.settings.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log(name).open("ab") as out:
            self.processes[name] = subprocess.Popen(
                [sys.executable, "-m", "ops", service, "run"], env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def kill(self, name: str) -> None:
        """SIGKILL: no goodbye to the group, which notices only when the session times out."""
        with self._lock:
            process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(30)

    def stop(self, name: str, timeout: float = 90) -> None:
        """SIGTERM and wait: the worker leaves its group in order."""
        with self._lock:
            process = self.processes.pop(name)
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
            raise RuntimeError(f"{name} did not stop within {timeout:.0f} s of SIGTERM") from None

    def stop_all(self) -> None:
        self._watching.clear()
        for name in list(self.processes):
            with contextlib.suppress(RuntimeError):  # killed instead; the verdict already has what it needs
                self.stop(name, timeout=60)

    def retries(self, names: list[str]) -> int:
        """Batches the workers tried again, from their logs."""
        logs = [self.log(name) for name in names]
        return sum(len(RETRIED.findall(log.read_text(errors="replace"))) for log in logs if log.exists())


async def _members(settings: Settings, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, request_timeout_ms=10000)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
        _error, _group, state, _protocol_type, _protocol, members, *_ = response.groups[0]  # the raw response
        return len(members) if state == "Stable" else -1
    finally:
        await admin.close()


def wait_members(settings: Settings, count: int, timeout: float = 120, group: str = STREAM_GROUP) -> float:
    """Wait until the stream workers' group is stable with `count` members; returns the seconds it took."""
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        try:
            if asyncio.run(_members(settings, group)) == count:
                return time.monotonic() - began
        except Exception:  # noqa: BLE001, S110  # a broker away or a group rebalancing: ask again
            pass
        time.sleep(1)
    raise TimeoutError(f"the stream group did not settle with {count} members within {timeout:.0f} s")
