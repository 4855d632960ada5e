"""Apache Kafka in KRaft mode, resolved from Maven Central and run on the machine's JDK."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
import shutil
import subprocess
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from ops.component import Component, Health, Program, StackError
from ops.kafka_admin import ensure_topics
from vigia.settings import PROJECT_ROOT

POM = PROJECT_ROOT / "deploy" / "kafka" / "pom.xml"
VERSION_LINE = re.compile(r"Kafka version: (\S+)")


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
    name = "kafka"
    kind = "infra"
    start_timeout = 90.0

    @property
    def libs(self) -> Path:
        """Jars are a cache, kept by `vigia down --purge`: resolving them again costs a download."""
        return self.settings.state_dir / "cache" / f"kafka-{pinned_kafka_version()}"

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
        self.fetch()
        data = self.home / "data"
        data.mkdir(parents=True, exist_ok=True)
        host, _, port = s.kafka_bootstrap.split(",")[0].rpartition(":")
        controller = f"{host}:{s.kafka_controller_port}"
        (self.home / "server.properties").write_text(
            "# Written by `vigia up`; edit the settings, not this file.\n"
            "process.roles=broker,controller\n"
            "node.id=1\n"
            f"controller.quorum.voters=1@{controller}\n"
            f"listeners=PLAINTEXT://{host}:{port},CONTROLLER://{controller}\n"
            f"advertised.listeners=PLAINTEXT://{host}:{port}\n"
            "controller.listener.names=CONTROLLER\n"
            "inter.broker.listener.name=PLAINTEXT\n"
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT\n"
            f"log.dirs={data}\n"
            f"num.partitions={s.kafka_partitions}\n"
            "auto.create.topics.enable=false\n"
            "offsets.topic.replication.factor=1\n"
            "offsets.topic.num.partitions=10\n"
            "transaction.state.log.replication.factor=1\n"
            "transaction.state.log.min.isr=1\n"
            "share.coordinator.state.topic.replication.factor=1\n"
            "share.coordinator.state.topic.min.isr=1\n"
            "group.initial.rebalance.delay.ms=0\n"
            "log.retention.hours=168\n"
            "log.segment.bytes=134217728\n"
        )
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
            cluster_id = new_cluster_id()
            result = subprocess.run(
                [
                    *self._java(),
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

    def _java(self) -> list[str]:
        return [
            java_binary(),
            f"-Xmx{self.settings.kafka_heap}",
            f"-Xms{self.settings.kafka_heap}",
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
        return f"kafka://{self.settings.kafka_bootstrap}"

    def probe(self) -> Health:
        async def check() -> Health:
            admin = AIOKafkaAdminClient(bootstrap_servers=self.settings.kafka_bootstrap, request_timeout_ms=5000)
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

    def version(self) -> str | None:
        """The version the running broker logged at start (Apache Kafka's AppInfoParser line)."""
        if not self.log_path.exists():
            return None
        found = VERSION_LINE.findall(self.log_path.read_text(errors="replace"))
        return f"Apache Kafka {found[-1]}" if found else None
