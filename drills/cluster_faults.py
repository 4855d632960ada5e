"""The cluster drill's faults, each inflicted on the fleet of bridges and workers or on a Kafka node.

A fault returns what a reader of the drill's output should know of it (which node it
killed), or None.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from drills import faults
from drills.fleet import Fleet, wait_members
from ops.kafka import Kafka, nodes
from vigia.settings import Settings

WORKERS = ["stream-1", "stream-2", "stream-3"]
BRIDGES = ["bridge-1", "bridge-2"]
DOWN_S = 60.0  # a broker's outage
BRIDGE_DOWN_S = 30.0
Fault = Callable[[Fleet, Settings], str | None]


def kill_broker(fleet: Fleet, settings: Settings, *, leader: bool) -> str:
    """SIGKILL the quorum's leader, or another node, for `DOWN_S`; returns which."""
    leading = Kafka(settings).quorum_leader()
    if leading is None:
        raise RuntimeError("Kafka's quorum tool named no leader")
    victim = next(n for n in nodes(settings) if (n.id == leading) == leader)
    faults.kill_and_hold(settings, victim.component, DOWN_S)
    return f"{victim.component} (node {victim.id}; leader was {leading})"


def broker_kill(fleet: Fleet, settings: Settings) -> str:
    return f"killed {kill_broker(fleet, settings, leader=False)}"


def leader_kill(fleet: Fleet, settings: Settings) -> str:
    return f"killed {kill_broker(fleet, settings, leader=True)}"


def worker_kill(fleet: Fleet, settings: Settings) -> None:
    fleet.kill("stream-3")


def worker_add(fleet: Fleet, settings: Settings) -> None:
    fleet.start("stream-4")
    wait_members(settings, len(WORKERS) + 1, timeout=180)


def gateway_silent(fleet: Fleet, settings: Settings) -> None:
    """Nothing to inflict: the feed's gateway falls silent and uploads its buffer itself."""


def rolling_restart(fleet: Fleet, settings: Settings) -> None:
    for worker in WORKERS:
        fleet.stop(worker)
        fleet.start(worker)
        wait_members(settings, len(WORKERS))


def bridge_kill(fleet: Fleet, settings: Settings) -> None:
    fleet.kill("bridge-2")
    time.sleep(BRIDGE_DOWN_S)
    fleet.start("bridge-2")


def scenarios() -> dict[str, Fault]:
    return {
        "worker-kill": worker_kill,
        "worker-add": worker_add,
        "rolling-restart": rolling_restart,
        "broker-kill": broker_kill,
        "leader-kill": leader_kill,
        "bridge-kill": bridge_kill,
        "gateway-silent": gateway_silent,
    }
