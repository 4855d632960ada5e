"""The Kubernetes manifests, checked offline: both overlays build, validate against the
Kubernetes schemas, and say what an operator relies on (limits, probes, non-root, policies)."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from vigia.settings import Settings
from vigia.topics import TOPICS

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".venv-tools" / "bin"  # checkers whose libraries clash with the services' (see Makefile)
KUBERNETES = ROOT / "deploy" / "kubernetes"
OVERLAYS = ["dev", "prod"]
CANARY = "../canary"  # built like an overlay: the API's canary Deployment, Service and Ingress
STRIMZI = "kafka.strimzi.io/v1beta2"
CUSTOM = {STRIMZI, "cert-manager.io/v1"}  # custom resources, checked for what they must say below
WORKLOADS = {"Deployment", "StatefulSet", "Job"}

Doc = dict[str, Any]


@cache
def build(overlay: str) -> tuple[Doc, ...]:
    """`kubectl kustomize` of an overlay (kubectl comes as a wheel with the dev tools)."""
    kubectl = Path(sys.executable).parent / "kubectl"
    out = subprocess.run(
        [str(kubectl), "kustomize", str((KUBERNETES / "overlays" / overlay).resolve())],
        capture_output=True,
        text=True,
        check=True,
    )
    return tuple(doc for doc in yaml.safe_load_all(out.stdout) if doc)


def of_kind(overlay: str, kind: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in build(overlay) if d["kind"] == kind}


def containers(doc: Doc) -> list[Doc]:
    spec = doc["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


@pytest.mark.parametrize("overlay", [*OVERLAYS, CANARY])
def test_every_resource_validates_against_the_kubernetes_schemas(overlay: str) -> None:
    checked = 0
    for doc in build(overlay):
        if doc["apiVersion"] in CUSTOM:
            continue  # custom resources: checked against what their operators require below
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
        checked += 1
    assert checked >= (3 if overlay == CANARY else 25)


@pytest.mark.parametrize("overlay", [*OVERLAYS, CANARY])
def test_every_workload_runs_unprivileged_with_limits_and_probes(overlay: str) -> None:
    for kind in WORKLOADS:
        for name, doc in of_kind(overlay, kind).items():
            pod = doc["spec"]["template"]["spec"]
            assert pod["securityContext"]["runAsNonRoot"] is True, name
            assert pod["automountServiceAccountToken"] is False, name
            for container in containers(doc):
                where = f"{kind}/{name}/{container['name']}"
                assert {"requests", "limits"} <= set(container["resources"]), where
                assert {"cpu", "memory"} <= set(container["resources"]["limits"]), where
                security = container["securityContext"]
                assert security["readOnlyRootFilesystem"] is True, where
                assert security["allowPrivilegeEscalation"] is False, where
                assert security["capabilities"]["drop"] == ["ALL"], where
                assert ":" in container["image"], f"{where}: the image has no tag"
                if kind != "Job":
                    assert "readinessProbe" in container, where
                    assert "livenessProbe" in container, where


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_api_is_published_and_everything_else_is_denied_by_default(overlay: str) -> None:
    ingresses = of_kind(overlay, "Ingress")
    assert list(ingresses) == ["api"]
    [rule] = ingresses["api"]["spec"]["rules"]
    assert rule["http"]["paths"][0]["backend"]["service"]["name"] == "api"
    assert ingresses["api"]["spec"]["tls"][0]["secretName"] == "vigia-api-tls"
    assert all(s["spec"].get("type", "ClusterIP") == "ClusterIP" for s in of_kind(overlay, "Service").values())
    policies = of_kind(overlay, "NetworkPolicy")
    assert policies["default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    from_outside = [
        name for name, p in policies.items() for rule in p["spec"].get("ingress", []) if "from" not in rule
    ]  # a rule without `from` admits any source
    assert from_outside == ["mosquitto-from-sensors-and-bridges"]  # the field sensors must reach the broker
    sendsms = policies["kannel-from-notifier"]["spec"]["ingress"][0]["from"]
    assert sendsms == [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "notifier"}}}]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_scaling_and_disruption_budgets(overlay: str) -> None:
    hpas = of_kind(overlay, "HorizontalPodAutoscaler")
    assert set(hpas) == {"api", "inference"}
    assert set(of_kind(overlay, "PodDisruptionBudget")) >= {"api", "bridge", "stream", "notifier"}
    topics = {t["spec"]["topicName"]: t for t in of_kind(overlay, "KafkaTopic").values()}
    partitions = topics["vigia.readings"]["spec"]["partitions"]
    assert of_kind(overlay, "Deployment")["stream"]["spec"]["replicas"] <= partitions  # a worker per partition at most
    settings = of_kind(overlay, "ConfigMap")["vigia-settings"]["data"]
    assert int(settings["VIGIA_KAFKA_PARTITIONS"]) == partitions


def test_production_kafka_keeps_three_copies_and_acknowledges_on_two() -> None:
    [kafka] = of_kind("prod", "Kafka").values()
    assert kafka["metadata"]["annotations"]["strimzi.io/kraft"] == "enabled"
    config = kafka["spec"]["kafka"]["config"]
    assert (config["default.replication.factor"], config["min.insync.replicas"]) == (3, 2)
    [pool] = of_kind("prod", "KafkaNodePool").values()
    assert pool["spec"]["replicas"] == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    for topic in of_kind("prod", "KafkaTopic").values():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"]
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"]["min.insync.replicas"] == "2"
    settings = of_kind("prod", "ConfigMap")["vigia-settings"]["data"]
    assert (settings["VIGIA_KAFKA_REPLICATION_FACTOR"], settings["VIGIA_KAFKA_MIN_INSYNC_REPLICAS"]) == ("3", "2")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_topics_are_those_of_the_code_with_the_same_retention_and_compaction(overlay: str) -> None:
    declared = {t["spec"]["topicName"]: t["spec"]["config"] for t in of_kind(overlay, "KafkaTopic").values()}
    assert set(declared) == {spec.name for spec in TOPICS}
    for spec in TOPICS:
        for key, value in spec.kafka_configs().items():
            assert declared[spec.name][key] == value, (spec.name, key)


def test_no_secret_is_kept_for_production() -> None:
    assert of_kind("prod", "Secret") == {}
    # the development overlay generates the public development passwords, which production refuses
    dev = of_kind("dev", "Secret")["vigia-secrets"]
    assert of_kind("dev", "ConfigMap")["vigia-settings"]["data"]["VIGIA_ENVIRONMENT"] == "development"
    assert set(dev["data"]) == {
        "VIGIA_MQTT_PASSWORD", "VIGIA_MQTT_SIMULATOR_PASSWORD", "VIGIA_MQTT_ADMIN_PASSWORD", "VIGIA_DB_PASSWORD",
        "VIGIA_KANNEL_PASSWORD",
        "VIGIA_KANNEL_ADMIN_PASSWORD", "VIGIA_SMS_CALLBACK_TOKEN", "VIGIA_APPRISE_URLS",
    }  # fmt: skip


def _compose_settings() -> set[str]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return set(compose["x-vigia-settings"])


def test_settings_have_the_same_names_locally_in_compose_and_in_kubernetes() -> None:
    known = {f"VIGIA_{name.upper()}" for name in Settings.model_fields}
    kubernetes = set(of_kind("prod", "ConfigMap")["vigia-settings"]["data"]) | set(
        of_kind("dev", "Secret")["vigia-secrets"]["data"]
    )
    compose = _compose_settings()
    assert kubernetes - known == set(), "names Kubernetes sets that no service reads"
    assert compose - known == set(), "names docker-compose sets that no service reads"
    # Everything docker-compose configures, Kubernetes configures under the same name.
    assert compose <= kubernetes
    for doc in (d for overlay in OVERLAYS for d in build(overlay) if d["kind"] in WORKLOADS):
        for container in containers(doc):
            for env in container.get("env", []):
                if env["name"].startswith("VIGIA_"):
                    assert env["name"] in known, f"{doc['metadata']['name']}: {env['name']}"


def test_yaml_is_lint_clean() -> None:
    yamllint = Path(sys.executable).parent / "yamllint"
    result = subprocess.run(
        [str(yamllint), "--strict", "-c", str(ROOT / ".yamllint.yaml"), "deploy", "docker-compose.yml"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout


def _checkov(*target: str) -> dict[str, Any]:
    checkov = TOOLS / "checkov"
    assert checkov.exists(), "checkov is installed by `make install` into .venv-tools"
    result = subprocess.run(
        [str(checkov), "--config-file", str(ROOT / ".checkov.yaml"), "-o", "json", *target],
        capture_output=True, text=True, env={"BC_SKIP_MAPPING": "TRUE", "PATH": "/usr/bin:/bin"}, cwd=ROOT,
    )  # fmt: skip
    reports = json.loads(result.stdout)
    return {r["check_type"]: r for r in (reports if isinstance(reports, list) else [reports])}


@pytest.mark.parametrize("overlay", [*OVERLAYS, CANARY])
def test_the_security_scan_finds_nothing_left_unexplained(overlay: str, tmp_path: Path) -> None:
    (tmp_path / "all.yaml").write_text(yaml.safe_dump_all(build(overlay)))
    report = _checkov("-d", str(tmp_path))["kubernetes"]
    assert report["summary"]["failed"] == 0, [
        f["check_id"] + " " + f["resource"] for f in report["results"]["failed_checks"]
    ]
    assert report["summary"]["passed"] > (50 if overlay == CANARY else 500)
    # what is skipped for one resource is skipped there, with its reason
    reasons = [
        value
        for doc in build(overlay)
        for key, value in doc["metadata"].get("annotations", {}).items()
        if key.startswith("checkov.io/skip")
    ]
    assert report["summary"]["skipped"] == len(reasons) == (1 if overlay == CANARY else 2)
    assert all(len(reason.split("=", 1)[1]) > 20 for reason in reasons)


def test_the_image_passes_the_dockerfile_scan() -> None:
    report = _checkov("-f", "deploy/Dockerfile")["dockerfile"]
    assert report["summary"]["failed"] == 0
    assert report["summary"]["passed"] > 20


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_prometheus_finds_each_service_on_the_port_it_listens_on(overlay: str) -> None:
    settings = of_kind(overlay, "ConfigMap")["vigia-settings"]["data"]
    ports = {
        "bridge": settings["VIGIA_BRIDGE_METRICS_PORT"], "stream": settings["VIGIA_STREAM_METRICS_PORT"],
        "inference": settings["VIGIA_INFERENCE_METRICS_PORT"], "notifier": settings["VIGIA_NOTIFIER_METRICS_PORT"],
        "api": settings["VIGIA_API_PORT"],
    }  # fmt: skip
    assert settings["VIGIA_BIND_HOST"] == "0.0.0.0"  # noqa: S104  # a pod's metrics must be reachable by Prometheus
    deployments = of_kind(overlay, "Deployment")
    for name, port in ports.items():
        annotations = deployments[name]["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true", name
        assert annotations["prometheus.io/port"] == port, name


def test_mosquitto_is_configured_alike_in_compose_and_kubernetes() -> None:
    """The same plugin, file, options and TLS listener; only where the certificate comes from differs."""

    def meaningful(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]

    kubernetes = meaningful(of_kind("prod", "ConfigMap")["mosquitto-config"]["data"]["mosquitto.conf"])
    compose = meaningful((ROOT / "deploy" / "compose" / "mosquitto.conf").read_text())
    assert kubernetes == compose
    tls = ["listener 8883 0.0.0.0", "certfile /mosquitto/tls/tls.crt", "keyfile /mosquitto/tls/tls.key",
           "tls_version tlsv1.2"]  # fmt: skip
    assert all(line in compose for line in tls)
    for lines in (kubernetes, compose):
        assert "plugin /usr/lib/mosquitto_dynamic_security.so" in lines
        assert "plugin_opt_config_file /mosquitto/data/dynamic-security.json" in lines
        assert not [line for line in lines if line.startswith(("password_file", "acl_file"))]
    [certificate] = of_kind("prod", "Certificate").values()
    assert certificate["spec"]["secretName"] == "mosquitto-tls"
    # Both start from the same initial accounts: the sensor-admin account from the settings.
    compose_file = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    entry = " ".join(compose_file["services"]["mosquitto"]["entrypoint"])
    pod = of_kind("prod", "StatefulSet")["mosquitto"]["spec"]["template"]["spec"]["containers"][0]
    for script in (entry, " ".join(pod["args"])):
        assert "mosquitto_ctrl dynsec init /mosquitto/data/dynamic-security.json" in script
        assert "VIGIA_MQTT_ADMIN_USERNAME" in script
    assert of_kind("prod", "ConfigMap")["vigia-settings"]["data"]["VIGIA_BROKER_ACCOUNTS"] == "dynsec"
    assert compose_file["x-vigia-settings"]["VIGIA_BROKER_ACCOUNTS"] == "dynsec"
    assert of_kind("prod", "Job")["migrate"]["spec"]["template"]["spec"]["containers"][0]["args"][0] == "init"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_model_registry_runs_alike_in_compose_and_kubernetes_and_inference_reads_it(overlay: str) -> None:
    """One MLflow server from the Vigía image, artifacts on a volume that outlives it, every service told where."""
    compose_file = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    service = compose_file["services"]["mlflow"]
    assert service["command"] == ["mlflow"]
    assert service["environment"]["VIGIA_MLFLOW_ARTIFACTS"].startswith("/var/lib/vigia/")
    assert any(v.endswith(":/var/lib/vigia") and not v.startswith(("/", ".")) for v in service["volumes"])
    assert compose_file["services"]["inference"]["depends_on"]["mlflow"]["condition"] == "service_healthy"
    assert compose_file["x-vigia-settings"]["VIGIA_MLFLOW_URI"] == "http://mlflow:5000"

    deployment = of_kind(overlay, "Deployment")["mlflow"]
    [pod] = containers(deployment)
    assert pod["args"] == ["mlflow"]
    env = {e["name"]: e["value"] for e in pod["env"]}
    assert env["VIGIA_MLFLOW_PORT"] == "5000"
    assert env["VIGIA_MLFLOW_ARTIFACTS"].startswith("/var/lib/vigia/")
    [claim] = [v for v in deployment["spec"]["template"]["spec"]["volumes"] if "persistentVolumeClaim" in v]
    assert claim["persistentVolumeClaim"]["claimName"] in of_kind(overlay, "PersistentVolumeClaim")
    assert of_kind(overlay, "Service")["mlflow"]["spec"]["ports"][0]["port"] == 5000
    assert of_kind(overlay, "ConfigMap")["vigia-settings"]["data"]["VIGIA_MLFLOW_URI"] == "http://mlflow:5000"
    for host in ("mlflow:5000", f"mlflow.{deployment['metadata']['namespace']}.svc.cluster.local:5000"):
        allowed = env["VIGIA_MLFLOW_ALLOWED_HOSTS"].split(",")
        assert any(fnmatch.fnmatch(host, pattern) for pattern in allowed), host


def test_the_log_shipper_reads_only_vigias_pods_and_labels_lines_by_component_and_level(tmp_path: Path) -> None:
    docs = build("../logging")
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert kinds == {("ServiceAccount", "promtail"), ("Role", "promtail"), ("RoleBinding", "promtail"),
                     ("ConfigMap", "promtail-config"), ("DaemonSet", "promtail"),
                     ("NetworkPolicy", "promtail-from-monitoring")}  # fmt: skip
    for doc in docs:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    config = yaml.safe_load(next(d for d in docs if d["kind"] == "ConfigMap")["data"]["promtail.yml"])
    [job] = config["scrape_configs"]
    assert job["kubernetes_sd_configs"][0]["namespaces"] == {"own_namespace": True}
    stages = {key for stage in job["pipeline_stages"] for key in stage}
    assert {"cri", "json", "labels"} <= stages
    assert set(next(s["labels"] for s in job["pipeline_stages"] if "labels" in s)) == {"level", "component"}
    [daemon] = [d for d in docs if d["kind"] == "DaemonSet"]
    [container] = containers(daemon)
    assert all(m.get("readOnly") for m in container["volumeMounts"] if m["name"] in {"config", "pods"})
    (tmp_path / "all.yaml").write_text(yaml.safe_dump_all(docs))
    report = _checkov("-d", str(tmp_path))["kubernetes"]
    assert report["summary"]["failed"] == 0, [f["check_id"] for f in report["results"]["failed_checks"]]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_imagery_archive_is_one_volume_written_by_inference_and_read_by_the_api(overlay: str) -> None:
    where = of_kind(overlay, "ConfigMap")["vigia-settings"]["data"]["VIGIA_IMAGERY_ARCHIVE_DIR"]
    claim = of_kind(overlay, "PersistentVolumeClaim")["imagery-archive"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]  # pods on several nodes
    deployments = of_kind(overlay, "Deployment")
    for name, read_only in (("inference", False), ("api", True)):
        spec = deployments[name]["spec"]["template"]["spec"]
        [volume] = [
            v["name"]
            for v in spec["volumes"]
            if v.get("persistentVolumeClaim", {}).get("claimName") == "imagery-archive"
        ]
        [mount] = [m for m in containers(deployments[name])[0]["volumeMounts"] if m["name"] == volume]
        assert mount["mountPath"] == where
        assert bool(mount.get("readOnly")) is read_only, name
    compose_file = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    compose_dir = compose_file["x-vigia-settings"]["VIGIA_IMAGERY_ARCHIVE_DIR"]
    assert f"imagery-archive:{compose_dir}" in compose_file["services"]["inference"]["volumes"]
    assert f"imagery-archive:{compose_dir}:ro" in compose_file["services"]["api"]["volumes"]
