"""The model registry: versions of one registered model in MLflow, and the one served.

The served model is the registered model's `champion` alias: promotion moves the alias,
and the inference workers, which look at it every `model_check_seconds`, fetch the new
version's weights from the tracking server into their own cache. Nothing is read from a
path on another machine's disk, so a pod with an empty disk and the server's address serves
what was promoted anywhere.

Every version keeps Vigía's own version (`tilenet-YYYYMMDD-<hash of the weights>`) as a tag,
so people and the assessments stored in the database speak of the same names; MLflow's
numbers are shown beside them. A version remembers when it was last made champion, which
is what `rollback` goes back by.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from mlflow import MlflowClient
from mlflow.artifacts import download_artifacts
from mlflow.entities.model_registry import ModelVersion
from mlflow.exceptions import MlflowException, RestException

from inference.assessor import DEFAULT_MODEL
from inference.modelfile import ModelFileError
from inference.modelfile import load as load_model_file
from inference.quantize import graph_path, verdict_path
from vigia.settings import Settings

CHAMPION = "champion"
ARTIFACT_PATH = "model"  # the folder of a run's artifacts a version is made from
MODEL_FILE = "model.pt"
COMPANIONS = ("MODEL_CARD.md", "report.json", "confusion.png", "curves.png", "reliability.png")
VERSION_TAG = "vigia.version"
PROMOTED_TAG = "vigia.promoted_at"


class RegistryError(RuntimeError):
    """A registry change that cannot be made, or a registry that cannot be reached, with why."""


class RegistryUnreachable(RegistryError):
    """The tracking server did not answer: keep serving what is loaded and look again later."""


@dataclass(frozen=True)
class RegisteredVersion:
    number: str  # MLflow's version number of the registered model
    version: str  # Vigía's: tilenet-YYYYMMDD-<hash>
    source: str
    run_id: str | None
    champion: bool
    created: datetime
    promoted_at: datetime | None = None
    metrics: dict[str, float] = field(default_factory=dict)


def quiet_client() -> None:
    """Fail fast and print nothing: the callers report for themselves, and a worker retries on its own clock."""
    for name, value in (
        ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2"),
        ("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1"),
        ("MLFLOW_HTTP_REQUEST_TIMEOUT", "30"),
        ("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false"),
        ("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true"),
    ):
        os.environ.setdefault(name, value)
    logging.getLogger("mlflow").setLevel(logging.WARNING)  # its notes ("waiting for the version...") are not news


class ModelRegistry:
    def __init__(self, settings: Settings) -> None:
        quiet_client()
        self.uri = settings.mlflow_tracking_uri
        self.name = settings.model_name
        self.client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        self.cache = settings.state_dir / "models" / "registry"  # downloaded versions, one folder each

    @contextmanager
    def calls(self, doing: str) -> Iterator[None]:
        """MLflow's exceptions as ours: one line that says what failed and where."""
        try:
            yield
        except RestException as error:
            raise RegistryError(f"{doing}: {error.message}") from error
        except MlflowException as error:
            raise RegistryUnreachable(f"{doing}: the MLflow server at {self.uri} did not answer") from error

    def experiment_id(self) -> str:
        """The experiment training runs go to, named like the registered model; made on first use."""
        with self.calls("finding the experiment"):
            found = self.client.get_experiment_by_name(self.name)
            return found.experiment_id if found else self.client.create_experiment(self.name)

    def _ensure_registered_model(self) -> None:
        with self.calls("creating the registered model"):
            try:
                self.client.get_registered_model(self.name)
            except RestException:
                self.client.create_registered_model(
                    self.name, description="Vigía's tile model: land-use class, housing score and 128-d embedding."
                )

    def register(self, run_id: str, version: str) -> RegisteredVersion:
        """A new version from a run's `model/` artifacts (the weights and their companions)."""
        self._ensure_registered_model()
        with self.calls(f"registering {version}"):
            run = self.client.get_run(run_id)
            created = self.client.create_model_version(
                self.name, source=f"{run.info.artifact_uri}/{ARTIFACT_PATH}", run_id=run_id,
                tags={VERSION_TAG: version}, description=f"Vigía model {version}",
            )  # fmt: skip
        return self._entry(created, champion=None)

    def register_file(self, path: Path) -> RegisteredVersion:
        """A version from a model file made elsewhere: a run of its own holds the file and any companions beside it."""
        try:
            _, info = load_model_file(path)
        except (FileNotFoundError, ModelFileError) as error:
            raise RegistryError(str(error)) from error
        if (existing := self.find_by_version(info.version)) is not None:
            return existing
        experiment = self.experiment_id()
        with self.calls(f"recording {path}"), tempfile.TemporaryDirectory() as tmp:
            staging = Path(tmp) / ARTIFACT_PATH
            staging.mkdir()
            shutil.copyfile(path, staging / MODEL_FILE)
            for name in COMPANIONS:
                if (path.parent / name).is_file():
                    shutil.copyfile(path.parent / name, staging / name)
            # An INT8 graph kept for these weights travels with them, named after the model file.
            for companion, named in ((graph_path(path), graph_path(staging / MODEL_FILE)),
                                     (verdict_path(path), verdict_path(staging / MODEL_FILE))):  # fmt: skip
                if companion.is_file():
                    shutil.copyfile(companion, named)
            run = self.client.create_run(
                experiment, run_name=f"register {info.version}", tags={VERSION_TAG: info.version, "source": str(path)}
            )
            numbers = {k: float(v) for k, v in info.metrics.items() if isinstance(v, int | float)}
            for key, value in numbers.items():
                self.client.log_metric(run.info.run_id, key, value)
            self.client.log_artifacts(run.info.run_id, str(staging), artifact_path=ARTIFACT_PATH)
            self.client.set_terminated(run.info.run_id)
        return self.register(run.info.run_id, info.version)

    def versions(self) -> list[RegisteredVersion]:
        """Every version, newest first, with the figures its run recorded."""
        with self.calls("listing the registry"):
            found = self.client.search_model_versions(f"name = '{self.name}'")
            champion = self._champion_number()
            entries = []
            for mv in found:
                metrics = self.client.get_run(mv.run_id).data.metrics if mv.run_id else {}
                entries.append(self._entry(mv, champion=champion, metrics=metrics))
        return sorted(entries, key=lambda e: int(e.number), reverse=True)

    def find_by_version(self, version: str) -> RegisteredVersion | None:
        """A version by Vigía's name or MLflow's number."""
        for entry in self.versions():
            if version in (entry.version, entry.number, f"v{entry.number}"):
                return entry
        return None

    def _champion_number(self) -> str | None:
        try:
            return str(self.client.get_model_version_by_alias(self.name, CHAMPION).version)
        except RestException:  # no registered model yet, or no alias
            return None

    def champion(self) -> RegisteredVersion | None:
        with self.calls("reading the champion"):
            try:
                mv = self.client.get_model_version_by_alias(self.name, CHAMPION)
            except RestException:
                return None
        return self._entry(mv, champion=str(mv.version))

    def promote(self, version: str) -> RegisteredVersion:
        entry = self.find_by_version(version)
        if entry is None:
            raise RegistryError(f"no model {version!r} in the registry (see `vigia model list`)")
        with self.calls(f"promoting {entry.version}"):
            self.client.set_model_version_tag(self.name, entry.number, PROMOTED_TAG, datetime.now(UTC).isoformat())
            self.client.set_registered_model_alias(self.name, CHAMPION, entry.number)
        return entry

    def rollback(self) -> RegisteredVersion:
        """Make champion again the version that was champion before the current one."""
        earlier = [e for e in self.versions() if not e.champion and e.promoted_at is not None]
        if not earlier:
            raise RegistryError("no earlier champion to roll back to")
        previous = max(earlier, key=lambda e: e.promoted_at or datetime.min.replace(tzinfo=UTC))
        return self.promote(previous.number)

    def fetch(self, entry: RegisteredVersion) -> Path:
        """The version's weights on this disk: downloaded from the server once, then read from the cache."""
        cache = self.cache
        target = cache / entry.version
        if (target / MODEL_FILE).is_file():
            return target / MODEL_FILE
        cache.mkdir(parents=True, exist_ok=True)
        with self.calls(f"downloading {entry.version}"), tempfile.TemporaryDirectory(dir=cache) as tmp:
            local = Path(download_artifacts(artifact_uri=entry.source, dst_path=tmp, tracking_uri=self.uri))
            if not (local / MODEL_FILE).is_file():
                raise RegistryError(f"version {entry.number} ({entry.version}) holds no {MODEL_FILE} at {entry.source}")
            shutil.rmtree(target, ignore_errors=True)
            local.rename(target)  # whole or not at all: a half download never passes for the model
        return target / MODEL_FILE

    def ensure_champion(self, default: Path = DEFAULT_MODEL) -> RegisteredVersion:
        """The champion; on a registry without one, the shipped model is registered and promoted."""
        if (current := self.champion()) is not None:
            return current
        return self.promote(self.register_file(default).number)

    def _entry(
        self, mv: ModelVersion, *, champion: str | None, metrics: dict[str, float] | None = None
    ) -> RegisteredVersion:
        tags = dict(mv.tags or {})
        promoted = tags.get(PROMOTED_TAG)
        return RegisteredVersion(
            number=str(mv.version),
            version=tags.get(VERSION_TAG, f"{self.name}-v{mv.version}"),
            source=str(mv.source),
            run_id=mv.run_id or None,
            champion=champion == str(mv.version) or CHAMPION in (mv.aliases or []),
            created=datetime.fromtimestamp((mv.creation_timestamp or 0) / 1000, tz=UTC),
            promoted_at=datetime.fromisoformat(promoted) if promoted else None,
            metrics=dict(metrics or {}),
        )
