"""docker-compose.yml cannot run here (no engine); check it says what it must."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from vigia.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
VIGIA_SERVICES = {"init", "bridge", "stream", "inference", "notifier", "api"}
ONE_SHOT = {"init", "certificates"}
SMS_GATEWAY = {"kannel", "smsbox", "smsc"}  # on the Vigía image, which carries Kannel
REGISTRY = {"mlflow"}  # on the Vigía image, which carries MLflow
OBSERVABILITY = {"prometheus": "prom/prometheus:", "loki": "grafana/loki:", "promtail": "grafana/promtail:",
                 "grafana": "grafana/grafana:"}  # fmt: skip
REQUIRED_SETTINGS = {
    "VIGIA_MQTT_HOST", "VIGIA_MQTT_PORT", "VIGIA_MQTT_USERNAME", "VIGIA_MQTT_PASSWORD",
    "VIGIA_KAFKA_BOOTSTRAP",
    "VIGIA_DB_HOST", "VIGIA_DB_PORT", "VIGIA_DB_NAME", "VIGIA_DB_USER", "VIGIA_DB_PASSWORD",
}  # fmt: skip


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return document


def test_names_every_service_on_the_real_images(compose: dict[str, Any]) -> None:
    services = compose["services"]
    every = {"mosquitto", "kafka", "timescaledb"} | VIGIA_SERVICES | ONE_SHOT | SMS_GATEWAY | REGISTRY
    every |= set(OBSERVABILITY)
    assert set(services) == every
    for name, image in OBSERVABILITY.items():
        assert services[name]["image"].startswith(image), name
    assert services["mosquitto"]["image"].startswith("eclipse-mosquitto:")
    assert services["kafka"]["image"].startswith("apache/kafka:")
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["timescaledb"]["image"].startswith("timescale/timescaledb:")
    for name in VIGIA_SERVICES | ONE_SHOT | SMS_GATEWAY | REGISTRY:
        assert services[name]["build"]["dockerfile"] == "deploy/Dockerfile"


def test_kannels_boxes_and_the_stand_in_smsc_share_one_network_as_in_one_pod(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["kannel"]["command"] == ["kannel", "bearerbox"]
    assert services["smsbox"]["command"] == ["kannel", "smsbox"]
    assert services["smsbox"]["network_mode"] == services["smsc"]["network_mode"] == "service:kannel"
    assert "kannel-state:/var/lib/vigia" in services["smsbox"]["volumes"]  # the configuration bearerbox wrote
    assert services["notifier"]["depends_on"]["smsbox"]["condition"] == "service_healthy"
    settings = services["api"]["environment"]
    assert settings["VIGIA_KANNEL_HOST"] == "kannel"
    assert settings["VIGIA_SMS_CALLBACK_URL"] == "http://api:8080"


def test_every_long_running_service_has_a_health_check(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name in ONE_SHOT:
            assert service["restart"] == "no", name
            continue
        assert service["healthcheck"]["test"], name


def test_services_wait_for_healthy_dependencies(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in VIGIA_SERVICES:
        conditions = {dep: spec["condition"] for dep, spec in services[name]["depends_on"].items()}
        assert conditions, name
        for dep, condition in conditions.items():
            expected = "service_completed_successfully" if dep == "init" else "service_healthy"
            assert condition == expected, (name, dep)
    for name in VIGIA_SERVICES - {"init"}:
        assert "init" in services[name]["depends_on"], name


def test_settings_names_are_the_ones_the_code_reads(compose: dict[str, Any]) -> None:
    known = {f"VIGIA_{field.upper()}" for field in Settings.model_fields}
    for name in VIGIA_SERVICES:
        environment = compose["services"][name]["environment"]
        names = {key for key in environment if key.startswith("VIGIA_")}
        assert names <= known, (name, names - known)
        assert names >= REQUIRED_SETTINGS, (name, REQUIRED_SETTINGS - names)


def test_state_is_on_volumes(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, target in [("mosquitto", "/mosquitto/data"), ("kafka", "/var/lib/kafka/data"),
                         ("timescaledb", "/var/lib/postgresql/data")]:  # fmt: skip
        mounts = [m.split(":")[1] for m in services[name]["volumes"]]
        assert target in mounts, name


def test_image_runs_as_a_non_root_user() -> None:
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    users = [line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER ")]
    assert users
    assert users[-1] != "root"


def test_validates_against_the_compose_specification() -> None:
    checker = ROOT / ".venv-tools" / "bin" / "check-jsonschema"
    assert checker.exists(), "check-jsonschema is installed by `make install` into .venv-tools"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.compose-spec", str(ROOT / "docker-compose.yml")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_is_built_in_stages_on_a_pinned_base_with_no_secret_and_a_health_check() -> None:
    lines = [line.strip() for line in (ROOT / "deploy" / "Dockerfile").read_text().splitlines()]
    bases = [line.split()[1] for line in lines if line.startswith("FROM ")]
    assert len(bases) == 3  # the page's npm packages, the Python build, then the runtime
    assert re.fullmatch(r"node:\d+\.\d+\.\d+-\w+-slim", bases[0]), bases
    assert all(re.fullmatch(r"python:\d+\.\d+\.\d+-slim-\w+", base) for base in bases[1:]), bases
    assert "RUN npm ci --ignore-scripts --no-audit --no-fund" in lines  # Leaflet at its lock's version
    runtime = lines[next(i for i, line in enumerate(lines) if line.startswith("FROM ") and "AS runtime" in line) :]
    copies = [line for line in runtime if line.startswith("COPY")]
    assert copies == ["COPY --from=build /opt/vigia /opt/vigia"]  # only the installed virtualenv
    assert not [
        line for line in lines if re.search(r"(PASSWORD|SECRET|TOKEN)", line) and line.startswith(("ENV", "ARG"))
    ]
    assert any(line.startswith("HEALTHCHECK") for line in runtime)
    assert "download.pytorch.org/whl/cpu" in "\n".join(lines)  # the CPU-only torch


def test_prometheus_grafana_and_the_logs_run_beside_the_services(compose: dict[str, Any]) -> None:
    observability = ROOT / "deploy" / "observability"
    scraped = yaml.safe_load((observability / "prometheus-compose.yml").read_text())["scrape_configs"][0]
    targets = {group["labels"]["service"]: group["targets"][0] for group in scraped["static_configs"]}
    settings = Settings()
    api_port = compose["services"]["api"]["environment"]["VIGIA_API_PORT"]
    assert targets == {
        "bridge": f"bridge:{settings.bridge_metrics_port}", "stream": f"stream:{settings.stream_metrics_port}",
        "inference": f"inference:{settings.inference_metrics_port}",
        "notifier": f"notifier:{settings.notifier_metrics_port}", "api": f"api:{api_port}",
    }  # fmt: skip
    assert compose["x-vigia-settings"]["VIGIA_BIND_HOST"] == "0.0.0.0"  # noqa: S104  # reachable by Prometheus
    sources = yaml.safe_load((observability / "grafana" / "provisioning" / "datasources" / "vigia.yml").read_text())
    assert {(d["uid"], d["url"]) for d in sources["datasources"]} == {
        ("prometheus", "http://prometheus:9090"), ("loki", "http://loki:3100")}  # fmt: skip
    dashboard = json.loads((observability / "grafana" / "vigia.json").read_text())
    [logs] = [panel for panel in dashboard["panels"] if panel["type"] == "logs"]
    shipped = yaml.safe_load((observability / "promtail.yml").read_text())["scrape_configs"][0]
    labels = set(shipped["pipeline_stages"][1]["labels"])
    assert set(re.findall(r"(\w+)=~", logs["targets"][0]["expr"])) <= labels | {"service"}
    mounts = compose["services"]["grafana"]["volumes"]
    assert "./deploy/observability/grafana/vigia.json:/var/lib/grafana/dashboards/vigia.json:ro" in mounts


def test_mosquitto_serves_tls_with_a_certificate_made_before_it_starts_and_plain_mqtt_on_loopback(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    broker = services["mosquitto"]
    assert broker["depends_on"]["certificates"]["condition"] == "service_completed_successfully"
    assert "8883:8883" in broker["ports"]
    plain = [p for p in broker["ports"] if p.endswith(":1883")]
    assert plain == ["127.0.0.1:1883:1883"]
    made = services["certificates"]
    assert made["command"][:2] == ["certificates", "/tls"]
    [shared] = [v.split(":")[0] for v in made["volumes"] if v.endswith(":/tls")]
    assert f"{shared}:/mosquitto/tls:ro" in broker["volumes"]
    assert made["command"][made["command"].index("--owner") + 1] == "1883"  # the eclipse-mosquitto image's user
