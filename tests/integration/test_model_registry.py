"""The model registry in MLflow on the real stack: train, register, promote, serve anywhere, roll back."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import torch

from inference import intake, modelfile
from inference.assessor import DEFAULT_MODEL
from inference.registry import ModelRegistry, RegisteredVersion
from inference.tiling import ImageTile
from ops import control
from ops.supervisor import Supervisor
from tests.inference.test_training import generated
from tests.integration.helpers import eventually, query, served_by, vigia
from vigia.settings import Settings

pytestmark = pytest.mark.integration

SECOND_WORKER_PORT = 29115


def test_a_promoted_model_is_served_without_a_restart_and_rollback_returns(
    stack: Settings, tmp_path: Path, champion_restored: RegisteredVersion
) -> None:
    net, info = modelfile.load(DEFAULT_MODEL)
    with torch.no_grad():
        net.classify.bias[0] += 0.01  # a different model: different weights, different version
    trained_at = datetime.now(UTC).replace(microsecond=0)
    fresh = modelfile.ModelInfo(
        version=modelfile.version_for(modelfile.half_state(net), trained_at),
        classes=info.classes,
        input_size=info.input_size,
        housing_weights=info.housing_weights,
        trained_at=trained_at,
    )
    modelfile.save(tmp_path / "model.pt", net, fresh)
    registered = vigia("model", "register", str(tmp_path / "model.pt"))
    assert registered.returncode == 0, registered.stdout + registered.stderr
    promoted = vigia("model", "promote", fresh.version)
    assert promoted.returncode == 0, promoted.stdout
    listing = vigia("model", "list").stdout
    assert fresh.version in listing
    assert champion_restored.version in listing

    image = (stack.imagery_dir / "ucmerced" / "denseresidential" / "denseresidential01.jpg").read_bytes()

    def served_by_the_promoted_model() -> bool | None:
        """One fresh job; the worker looks at the registry every second, so an early one may meet the old model."""
        when = datetime.now(UTC)
        tile = ImageTile(tile_id="19/150060/279770", source="after-promote", captured_at=when, data=image)
        asyncio.run(intake.queue_tiles(stack, [tile], district="sjl-m"))
        sql = "SELECT model_version FROM tile_assessments WHERE tile_id = %(t)s AND time = %(w)s"
        rows = eventually(lambda: query(stack, sql, {"t": tile.tile_id, "w": when}) or None, what="an assessment")
        return True if rows[0][0] == fresh.version else None

    eventually(served_by_the_promoted_model, timeout=60, what="an assessment by the promoted model")

    back = vigia("model", "rollback")
    assert back.returncode == 0, back.stdout
    champion = ModelRegistry(stack).champion()
    assert champion is not None
    assert champion.version == champion_restored.version
    refused = vigia("model", "promote", "no-such-version")
    assert refused.returncode == 1
    assert "no model 'no-such-version'" in refused.stdout


def test_a_trained_model_is_served_by_a_worker_with_an_empty_disk_and_the_servers_address(
    stack: Settings, tmp_path: Path, champion_restored: RegisteredVersion
) -> None:
    trained = vigia("train", str(generated(tmp_path / "tiles")), "--epochs", "2", "--size", "64", "--out",
                    str(tmp_path / "models"))  # fmt: skip
    assert trained.returncode == 0, trained.stdout + trained.stderr
    (folder,) = (tmp_path / "models").iterdir()
    version = folder.name
    registry = ModelRegistry(stack)
    entry = registry.find_by_version(version)
    assert entry is not None, "vigia train registered the model"
    assert not entry.champion
    run = registry.client.get_run(entry.run_id or "")
    assert run.data.params["input_size"] == "64"
    history = registry.client.get_metric_history(run.info.run_id, "epoch_validation_loss")
    assert [m.step for m in history] == [1, 2]
    assert {"accuracy", "macro_f1", "housing_macro_f1"} <= set(run.data.metrics)
    artifacts = {a.path for a in registry.client.list_artifacts(run.info.run_id, "model")}
    assert artifacts == {
        f"model/{n}"
        for n in ("model.pt", "MODEL_CARD.md", "report.json", "confusion.png", "curves.png", "reliability.png")
    }

    assert vigia("model", "promote", version).returncode == 0
    empty = tmp_path / "pod"
    empty.mkdir()
    env = {
        **os.environ,
        "VIGIA_STATE_DIR": str(empty),
        "VIGIA_MLFLOW_URI": f"http://127.0.0.1:{stack.mlflow_port}",
        "VIGIA_INFERENCE_PORT": str(SECOND_WORKER_PORT),
        "VIGIA_INFERENCE_METRICS_PORT": "0",
    }
    log = tmp_path / "second-worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen(
            [sys.executable, "-m", "ops", "inference", "run"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        image = (stack.imagery_dir / "ucmerced" / "forest" / "forest01.jpg").read_bytes()

        def assessed() -> dict[str, object] | None:
            if worker.poll() is not None:
                raise AssertionError(f"the second worker exited: {log.read_text()[-2000:]}")
            try:
                answer = httpx.post(f"http://127.0.0.1:{SECOND_WORKER_PORT}/assess", content=image, timeout=10)
            except httpx.HTTPError:
                return None
            return answer.json() if answer.status_code == 200 else None

        reading = eventually(assessed, timeout=120, what="the second worker's assessment")
        assert reading["model_version"] == version
        assert reading["land_use_class"] in {"crops", "roofs", "water"}
        assert (empty / "models" / "registry" / version / "model.pt").is_file()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)


def test_while_the_registry_is_away_tiles_are_still_assessed_and_promotion_says_why_not(
    stack: Settings, champion_restored: RegisteredVersion
) -> None:
    served_by(stack, stack.inference_port, champion_restored.version)
    Supervisor(stack.state_dir).stop("mlflow")
    try:
        refused = vigia("model", "promote", champion_restored.version)
        assert refused.returncode == 1
        assert "did not answer" in refused.stdout
        assert "Traceback" not in refused.stdout + refused.stderr
        when = datetime.now(UTC)
        image = (stack.imagery_dir / "ucmerced" / "mobilehomepark" / "mobilehomepark03.jpg").read_bytes()
        tile = ImageTile(tile_id="19/150061/279771", source="registry-away", captured_at=when, data=image)
        asyncio.run(intake.queue_tiles(stack, [tile], district="sjl-away"))
        sql = "SELECT model_version FROM tile_assessments WHERE tile_id = %(t)s AND time = %(w)s"
        rows = eventually(lambda: query(stack, sql, {"t": tile.tile_id, "w": when}) or None, what="an assessment")
        assert rows[0][0] == champion_restored.version
    finally:
        control.up(stack, ["mlflow"], report=lambda line: None)
    back = ModelRegistry(stack).champion()
    assert back is not None
    assert back.version == champion_restored.version
