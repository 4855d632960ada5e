"""Apache Kafka in KRaft mode, resolved from Maven Central and run on the machine's JDK.

The local stack runs one node for each address in `VIGIA_KAFKA_BOOTSTRAP`: one by default,
three for the drills of a cluster. Every node is both broker and controller (KRaft's
combined mode), node i answering clients on the i-th address and its peers' controllers on
`VIGIA_KAFKA_CONTROLLER_PORT` + 2·(i - 1). The first node is the component `kafka`, the
others `kafka-2`, `kafka-3`…; they share one cluster id and start together, since no node is
healthy before a majority of the controllers is up.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import os
import re
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from ops.component import Component, Health, Program, StackError
from ops.kafka_admin import ensure_topics
from vigia.settings import PROJECT_ROOT, Settings

POM = PROJECT_ROOT / "deploy" / "kafka" / "pom.xml"
VERSION_LINE = re.compile(r"Kafka version: (\S+)")
LEADER_LINE = re.compile(r"^LeaderId:\s*(\d+)", re.MULTILINE)


@dataclass(frozen=True)
class Node:
    """One Kafka node of the local stack."""

    id: int  # Kafka's node.id, from 1
    host: str
    port: int  # clients
    controller_port: int  # the other nodes' controllers

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def component(self) -> str:
        return "kafka" if self.id == 1 else f"kafka-{self.id}"


def nodes(settings: Settings) -> list[Node]:
    """The local cluster's nodes: one per address in the bootstrap list."""
    found = []
    for i, address in enumerate(a.strip() for a in settings.kafka_bootstrap.split(",")):
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise StackError(f"VIGIA_KAFKA_BOOTSTRAP: {address!r} is not host:port")
        found.append(Node(i + 1, host, int(port), settings.kafka_controller_port + 2 * i))
    clients, controllers = {n.port for n in found}, {n.controller_port for n in found}
    if clients & controllers or len(clients) < len(found):
        raise StackError(
            f"Kafka's client ports {sorted(clients)} and controller ports {sorted(controllers)} must all differ"
            " (node i listens for controllers on VIGIA_KAFKA_CONTROLLER_PORT + 2·(i - 1))"
        )
    return found


def server_properties(settings: Settings, node: Node, data: Path) -> str:
    """The node's configuration. Kafka's own topics are replicated three times where there are
    three nodes; the project's topics follow the replication settings, which the cluster must hold."""
    peers = nodes(settings)
    copies, insync = min(3, len(peers)), min(2, len(peers))
    voters = ",".join(f"{p.id}@{p.host}:{p.controller_port}" for p in peers)
    return (
        "# Written by `vigia up`; edit the settings, not this file.\n"
        "process.roles=broker,controller\n"
        f"node.id={node.id}\n"
        f"controller.quorum.voters={voters}\n"
        f"listeners=PLAINTEXT://{node.address},CONTROLLER://{node.host}:{node.controller_port}\n"
        f"advertised.listeners=PLAINTEXT://{node.address}\n"
        "controller.listener.names=CONTROLLER\n"
        "inter.broker.listener.name=PLAINTEXT\n"
        "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
        f"log.dirs={data}\n"
        f"num.partitions={settings.kafka_partitions}\n"
        f"default.replication.factor={settings.kafka_replication_factor}\n"
        f"min.insync.replicas={settings.kafka_min_insync_replicas}\n"
        "auto.create.topics.enable=false\n"
        f"offsets.topic.replication.factor={copies}\n"
        "offsets.topic.num.partitions=10\n"
        f"transaction.state.log.replication.factor={copies}\n"
        f"transaction.state.log.min.isr={insync}\n"
        f"share.coordinator.state.topic.replication.factor={copies}\n"
        f"share.coordinator.state.topic.min.isr={insync}\n"
        "group.initial.rebalance.delay.ms=0\n"
        "log.retention.hours=168\n"
        "log.segment.bytes=134217728\n"
    )


def pinned_kafka_version(pom: Path = POM) -> str:
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    root = ET.parse(pom).getroot()  # noqa: S314 - the project's own pinned file
    node = root.find("m:properties/m:kafka.version", ns)
    if node is None or not node.text:
        raise StackError(f"{pom} does not pin kafka.version")
    return node.text.strip()


def java_binary() -> str:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return str(Path(java_home) / "bin" / "java")
    found = shutil.which("java")
    if not found:
        raise StackError("no java on PATH; run `make install` first")
    return found


def new_cluster_id() -> str:
    """A random cluster id as Kafka writes them, never starting with '-'.

    One in 64 base64 ids would, and the storage tool then reads it as an option and stops
    ("expected one argument"); Kafka's own generator draws again in that case too.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


class Kafka(Component):
    name = "kafka"  # the cluster; each node's component is named after it (see `Node.component`)
    kind = "infra"
    start_timeout = 90.0

    def __init__(self, settings: Settings, node: Node | None = None) -> None:
        super().__init__(settings)
        self.node = node or nodes(settings)[0]
        self.name = self.node.component

    @property
    def libs(self) -> Path:
        """Jars are a cache, kept by `vigia down --purge`: resolving them again costs a download.
        One folder per version of the pinned file, so a jar added there is fetched."""
        digest = hashlib.sha256(POM.read_bytes()).hexdigest()[:8]
        return self.settings.state_dir / "cache" / f"kafka-{pinned_kafka_version()}-{digest}"

    @property
    def cluster_id_path(self) -> Path:
        """Every node of one cluster formats its storage with the same id, kept beside the first's data."""
        return self.settings.state_dir / "kafka" / "cluster.id"

    def cluster_id(self) -> str:
        path = self.cluster_id_path
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(new_cluster_id())
        return path.read_text().strip()

    def fetch(self) -> Path:
        marker = self.libs / ".complete"
        if marker.exists():
            return self.libs
        mvn = shutil.which("mvn")
        if not mvn:
            raise StackError("Maven (mvn) is not installed; run `make install` first")
        self.libs.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [mvn, "-q", "-B", "-f", str(POM), "dependency:copy-dependencies", f"-DoutputDirectory={self.libs}"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise StackError(f"Maven could not resolve Apache Kafka:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
        marker.touch()
        return self.libs

    def prepare(self) -> None:
        s = self.settings
        count = len(nodes(s))
        if s.kafka_replication_factor > count or s.kafka_min_insync_replicas > s.kafka_replication_factor:
            raise StackError(
                f"{count} Kafka node(s) (one per VIGIA_KAFKA_BOOTSTRAP address) cannot hold"
                f" VIGIA_KAFKA_REPLICATION_FACTOR={s.kafka_replication_factor} with"
                f" VIGIA_KAFKA_MIN_INSYNC_REPLICAS={s.kafka_min_insync_replicas}"
            )
        self.fetch()
        data = self.home / "data"
        data.mkdir(parents=True, exist_ok=True)
        (self.home / "server.properties").write_text(server_properties(s, self.node, data))
        (self.home / "log4j2.properties").write_text(
            "rootLogger.level = INFO\n"
            "rootLogger.appenderRef.stdout.ref = STDOUT\n"
            "appender.stdout.type = Console\n"
            "appender.stdout.name = STDOUT\n"
            "appender.stdout.layout.type = PatternLayout\n"
            "appender.stdout.layout.pattern = [%d] %p %m (%c)%n\n"
            "logger.kafka.name = kafka\nlogger.kafka.level = WARN\n"
            "logger.apache.name = org.apache.kafka\nlogger.apache.level = WARN\n"
            "logger.appinfo.name = org.apache.kafka.common.utils.AppInfoParser\nlogger.appinfo.level = INFO\n"
            "logger.raftserver.name = kafka.server.KafkaRaftServer\nlogger.raftserver.level = INFO\n"
        )
        if not (data / "meta.properties").exists():
            cluster_id = self.cluster_id()
            result = subprocess.run(
                [
                    *self._java(tool=True),
                    "kafka.tools.StorageTool",
                    "format",
                    "-t",
                    cluster_id,
                    "-c",
                    str(self.home / "server.properties"),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0:
                raise StackError(f"formatting Kafka's storage failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")

    def _java(self, *, tool: bool = False) -> list[str]:
        """The JVM's command line: the broker's, or a small one for Kafka's command-line tools."""
        heap = "128m" if tool else self.settings.kafka_heap
        return [
            java_binary(),
            f"-Xmx{heap}",
            f"-Xms{heap}",
            # The whole heap resident from the start: a broker's memory is known the moment it
            # is up (a too-small limit fails then, not an hour in) and a soak measures growth.
            "-XX:+AlwaysPreTouch",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.home / 'log4j2.properties'}",
            "-cp",
            f"{self.libs}/*",
        ]

    def program(self) -> Program:
        return Program(
            command=[*self._java(), "kafka.Kafka", str(self.home / "server.properties")],
            stopwaitsecs=60,
        )

    def endpoint(self) -> str:
        return f"kafka://{self.node.address}"

    def probe(self) -> Health:
        """This node answers for the cluster (asked on its own address only)."""

        async def check() -> Health:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.node.address, request_timeout_ms=5000)
            try:
                await asyncio.wait_for(admin.start(), 8)
                cluster = await asyncio.wait_for(admin.describe_cluster(), 8)
                return Health(True, f"cluster {cluster['cluster_id']}, {len(cluster['brokers'])} broker(s)")
            except Exception as exc:  # noqa: BLE001 - any failure means "not healthy yet"
                return Health(False, f"{type(exc).__name__}: {exc}")
            finally:
                await admin.close()

        # While the broker starts, aiokafka logs every refused connection; the probe's answer
        # says enough. Quiet only for the probe: other clients in this process keep their logs.
        quiet = logging.getLogger("aiokafka")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            return asyncio.run(check())
        finally:
            quiet.setLevel(level)

    def after_start(self) -> None:
        asyncio.run(ensure_topics(self.settings))

    def quorum_leader(self) -> int | None:
        """The node id of the controller leading the metadata quorum (Kafka's own tool asks the cluster)."""
        result = subprocess.run(
            [*self._java(tool=True), "org.apache.kafka.tools.MetadataQuorumCommand", "--bootstrap-server",
             self.settings.kafka_bootstrap, "describe", "--status"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        found = LEADER_LINE.search(result.stdout)
        return int(found.group(1)) if found else None

    def version(self) -> str | None:
        """The version the running broker logged at start (Apache Kafka's AppInfoParser line)."""
        if not self.log_path.exists():
            return None
        found = VERSION_LINE.findall(self.log_path.read_text(errors="replace"))
        return f"Apache Kafka {found[-1]}" if found else None
