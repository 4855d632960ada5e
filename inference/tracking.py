"""A training run recorded in MLflow while it goes: parameters first, each epoch's figures as it ends,
then the weights, model card, report and plots, and a registered version.

Data scientists follow a run's curves in MLflow's interface during training and compare
runs there afterwards; the registry version made at the end points at the run that made it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlflow.entities import Metric, Param, RunStatus

from inference.registry import ARTIFACT_PATH, VERSION_TAG, ModelRegistry, RegisteredVersion
from inference.training import EpochFigures

EPOCH_FIGURES = ("train_loss", "validation_loss", "accuracy", "macro_f1", "seconds")
"""Logged per epoch as `epoch_<name>`; the kept model's figures go under their plain names."""


def _flat(params: Mapping[str, Any]) -> dict[str, str]:
    """MLflow keeps parameters as strings of at most 6000 characters."""
    return {key: str(value)[:6000] for key, value in params.items()}


class TrainingRun:
    def __init__(self, registry: ModelRegistry, *, name: str, params: Mapping[str, Any]) -> None:
        self.registry = registry
        experiment = registry.experiment_id()
        with registry.calls("starting the training run"):
            run = registry.client.create_run(experiment, run_name=name, tags={"mlflow.source.type": "LOCAL"})
            self.run_id = run.info.run_id
            self.url = f"{registry.uri}/#/experiments/{experiment}/runs/{self.run_id}"
            registry.client.log_batch(self.run_id, params=[Param(k, v) for k, v in _flat(params).items()])

    def epoch(self, figures: EpochFigures) -> None:
        now = int(time.time() * 1000)
        metrics = [Metric(f"epoch_{key}", float(getattr(figures, key)), now, figures.epoch) for key in EPOCH_FIGURES]
        with self.registry.calls(f"recording epoch {figures.epoch}"):
            self.registry.client.log_batch(self.run_id, metrics=metrics)

    def finish(self, folder: Path, *, version: str, summary: Mapping[str, Any]) -> RegisteredVersion:
        """The run's final figures and files, and a registry version made from them (not yet champion)."""
        client = self.registry.client
        now = int(time.time() * 1000)
        final = [Metric(k, float(v), now, 0) for k, v in summary.items() if isinstance(v, int | float)]
        with self.registry.calls("recording the trained model"):
            client.log_batch(self.run_id, metrics=final)
            client.set_tag(self.run_id, VERSION_TAG, version)
            client.log_artifacts(self.run_id, str(folder), artifact_path=ARTIFACT_PATH)
            client.set_terminated(self.run_id, RunStatus.to_string(RunStatus.FINISHED))
        return self.registry.register(self.run_id, version)

    def fail(self) -> None:
        """Mark the run failed; the server being gone as well is not worth a second error."""
        try:
            with self.registry.calls("closing the failed run"):
                self.registry.client.set_terminated(self.run_id, RunStatus.to_string(RunStatus.FAILED))
        except Exception:  # noqa: BLE001,S110  # the training error is the one to report
            pass
