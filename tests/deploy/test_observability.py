"""The Prometheus configuration and the Grafana dashboard ask only for what the services expose."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml
from prometheus_client import REGISTRY

# Importing them registers their metrics.
import api.guards  # noqa: F401
import inference.telemetry  # noqa: F401
import ingest.telemetry  # noqa: F401
import notify.notifier  # noqa: F401
import stream.telemetry  # noqa: F401
from vigia.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "deploy" / "observability"
SUFFIXES = {"counter": ["_total", "_created"], "histogram": ["_bucket", "_sum", "_count", "_created"], "gauge": [""]}


def exposed() -> set[str]:
    """Every series name the services' metrics can produce."""
    names: set[str] = set()
    for family in REGISTRY.collect():
        if family.name.startswith("vigia_"):
            names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, [""])}
    return names


def test_every_dashboard_query_names_a_metric_the_services_expose() -> None:
    dashboard = json.loads((OBSERVABILITY / "grafana" / "vigia.json").read_text())
    queried = {
        name for panel in dashboard["panels"] for t in panel["targets"] for name in re.findall(r"vigia_\w+", t["expr"])
    }
    assert queried - exposed() == set()
    # ingest rate, dead letters, consumer lag, alerts, sink latency, inference throughput, API latency
    titles = " | ".join(panel["title"] for panel in dashboard["panels"]).lower()
    for subject in ("into kafka", "dead letters", "consumer lag", "alerts opened", "sink", "imagery tiles", "api p99"):
        assert subject in titles, subject


def test_prometheus_scrapes_every_service_where_it_listens() -> None:
    config = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text())
    local = next(job for job in config["scrape_configs"] if job["job_name"] == "local")
    targets = {group["labels"]["service"]: group["targets"][0] for group in local["static_configs"]}
    s = Settings()
    assert targets == {
        "bridge": f"127.0.0.1:{s.bridge_metrics_port}", "stream": f"127.0.0.1:{s.stream_metrics_port}",
        "inference": f"127.0.0.1:{s.inference_metrics_port}", "notifier": f"127.0.0.1:{s.notifier_metrics_port}",
        "api": f"127.0.0.1:{s.api_port}",
    }  # fmt: skip
    pods = next(job for job in config["scrape_configs"] if job["job_name"] == "kubernetes-pods")
    assert pods["kubernetes_sd_configs"][0]["role"] == "pod"
