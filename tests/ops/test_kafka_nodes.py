"""The local Kafka cluster: one node per bootstrap address, each configured to find the others."""

from __future__ import annotations

from pathlib import Path

import pytest

from ops.component import StackError
from ops.control import _groups, components
from ops.kafka import Kafka, nodes, server_properties
from vigia.settings import Settings

THREE = "127.0.0.1:30092,127.0.0.1:30094,127.0.0.1:30096"


def settings(tmp_path: Path, bootstrap: str, **more: object) -> Settings:
    return Settings(state_dir=tmp_path, kafka_bootstrap=bootstrap, kafka_controller_port=30093, **more)  # type: ignore[arg-type]  # pydantic-settings fields by name


def properties(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_each_address_is_a_node_with_its_own_controller_port(tmp_path: Path) -> None:
    found = nodes(settings(tmp_path, THREE))
    assert [(n.id, n.port, n.controller_port, n.component) for n in found] == [
        (1, 30092, 30093, "kafka"),
        (2, 30094, 30095, "kafka-2"),
        (3, 30096, 30097, "kafka-3"),
    ]


def test_a_node_knows_every_voter_and_replicates_kafkas_own_topics_three_times(tmp_path: Path) -> None:
    s = settings(tmp_path, THREE, kafka_replication_factor=3, kafka_min_insync_replicas=2)
    conf = properties(server_properties(s, nodes(s)[1], tmp_path / "data"))
    assert conf["node.id"] == "2"
    assert conf["controller.quorum.voters"] == "1@127.0.0.1:30093,2@127.0.0.1:30095,3@127.0.0.1:30097"
    assert conf["listeners"] == "PLAINTEXT://127.0.0.1:30094,CONTROLLER://127.0.0.1:30095"
    assert conf["offsets.topic.replication.factor"] == "3"
    assert conf["transaction.state.log.min.isr"] == "2"
    assert (conf["default.replication.factor"], conf["min.insync.replicas"]) == ("3", "2")


def test_one_node_keeps_one_copy(tmp_path: Path) -> None:
    s = settings(tmp_path, "127.0.0.1:30092")
    conf = properties(server_properties(s, nodes(s)[0], tmp_path / "data"))
    assert conf["controller.quorum.voters"] == "1@127.0.0.1:30093"
    assert conf["offsets.topic.replication.factor"] == "1"


def test_ports_that_collide_are_refused(tmp_path: Path) -> None:
    with pytest.raises(StackError, match="must all differ"):
        nodes(settings(tmp_path, "127.0.0.1:30092,127.0.0.1:30093"))


def test_more_copies_than_nodes_are_refused_before_anything_starts(tmp_path: Path) -> None:
    s = settings(tmp_path, "127.0.0.1:30092", kafka_replication_factor=3)
    with pytest.raises(StackError, match="cannot hold"):
        Kafka(s).prepare()


def test_the_nodes_of_a_cluster_are_started_together_and_named_alone_or_as_one(tmp_path: Path) -> None:
    s = settings(tmp_path, THREE)
    every = components(s)
    assert [c.name for c in every][:4] == ["mosquitto", "kafka", "kafka-2", "kafka-3"]
    assert [[c.name for c in g] for g in _groups(every)][:2] == [["mosquitto"], ["kafka", "kafka-2", "kafka-3"]]
    assert [c.name for c in components(s, ["kafka"])] == ["kafka", "kafka-2", "kafka-3"]
    assert [c.name for c in components(s, ["kafka-3"])] == ["kafka-3"]
    with pytest.raises(StackError, match="unknown"):
        components(s, ["kafka-4"])
