"""The MLflow tracking server: the model registry and the record of every training run.

Runs and the registry live in the project's PostgreSQL, in a schema of their own
(`mlflow`, made by a migration), so there is no second database to back up and the app
role needs no right to create databases. Artifacts (weights, model cards, plots) are kept
and served by the server itself: a worker needs only the server's address to fetch the
champion, which is what a pod with an empty disk has.

MLflow's background job runners serve its generative-AI features, which Vigía does not
use; they are off, which saves seven processes of about 280 MB each.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from urllib.parse import quote

import httpx

from ops.component import Component, Health, Program, StackError
from vigia.settings import Settings

SCHEMA = "mlflow"


def backend_store_uri(settings: Settings) -> str:
    """SQLAlchemy's address of the registry's tables: psycopg 3, the `mlflow` schema first on the search path."""
    password = quote(settings.db_password.get_secret_value(), safe="")
    user = quote(settings.db_user, safe="")
    return (
        f"postgresql+psycopg://{user}:{password}@{settings.db_host}:{settings.db_port}/{settings.db_name}"
        f"?options=-csearch_path%3D{SCHEMA}"
    )


def artifacts_destination(settings: Settings) -> str:
    return settings.mlflow_artifacts or str(settings.state_dir / "mlflow" / "artifacts")


def server_command(settings: Settings) -> list[str]:
    mlflow = shutil.which("mlflow", path=str(Path(sys.executable).parent)) or shutil.which("mlflow") or "mlflow"
    command = [
        mlflow, "server",
        "--host", settings.mlflow_listen_host,
        "--port", str(settings.mlflow_port),
        "--workers", "1",
        "--serve-artifacts",
        "--artifacts-destination", artifacts_destination(settings),
    ]  # fmt: skip
    if settings.mlflow_allowed_hosts:
        command += ["--allowed-hosts", settings.mlflow_allowed_hosts]
    return command


def server_environment(settings: Settings) -> dict[str, str]:
    """The database address goes by environment, not on the command line where `ps` shows it."""
    return {
        "MLFLOW_BACKEND_STORE_URI": backend_store_uri(settings),
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",
    }


class MlflowServer(Component):
    name = "mlflow"
    kind = "infra"
    start_timeout = 90.0  # the first start creates the registry's tables

    def prepare(self) -> None:
        if not self.settings.mlflow_artifacts:
            Path(artifacts_destination(self.settings)).mkdir(parents=True, exist_ok=True)

    def program(self) -> Program:
        command = server_command(self.settings)
        if not Path(command[0]).exists() and not shutil.which(command[0]):
            raise StackError("MLflow is not installed; run `make install` first")
        return Program(
            command=command,
            directory=self.settings.state_dir,
            environment=server_environment(self.settings),
            stopwaitsecs=15,
        )

    def endpoint(self) -> str:
        return f"{self.settings.mlflow_tracking_uri} (runs and registry in {self.settings.db_name}.{SCHEMA})"

    def probe(self) -> Health:
        base = f"http://127.0.0.1:{self.settings.mlflow_port}"
        try:
            health = httpx.get(f"{base}/health", timeout=3)
            version = httpx.get(f"{base}/version", timeout=3)
        except httpx.HTTPError as exc:
            return Health(False, type(exc).__name__)
        if health.status_code != 200:
            return Health(False, f"/health answered {health.status_code}")
        return Health(True, f"MLflow {version.text.strip()[:20]} answering")

    def after_start(self) -> None:
        """The shipped model is registered and made champion when the registry has none."""
        from inference.registry import ModelRegistry, RegistryError

        try:
            ModelRegistry(self.settings).ensure_champion()
        except RegistryError as error:
            raise StackError(f"MLflow is up but the default model could not be registered: {error}") from error
