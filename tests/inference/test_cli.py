"""`vigia train` and `vigia model evaluate` end to end on small folders, no database needed."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from inference import modelfile
from inference.assessor import DEFAULT_MODEL
from ops.cli import app
from tests.inference.test_training import generated
from vigia.settings import Settings

runner = CliRunner()


@pytest.mark.slow
def test_train_writes_weights_report_plots_and_card(tmp_path: Path) -> None:
    folder = generated(tmp_path / "tiles")
    args = ["train", str(folder), "--out", str(tmp_path / "models"), "--epochs", "1", "--size", "64", "--no-register"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    (written,) = (tmp_path / "models").iterdir()
    assert {p.name for p in written.iterdir()} == {
        "model.pt",
        "report.json",
        "confusion.png",
        "curves.png",
        "reliability.png",
        "MODEL_CARD.md",
    }
    _, info = modelfile.load(written / "model.pt")
    assert info.version == written.name
    assert info.classes == ("crops", "roofs", "water")
    report = json.loads((written / "report.json").read_text())
    assert report["version"] == info.version
    assert len(report["confusion"]) == 3
    card = (written / "MODEL_CARD.md").read_text()
    assert "Not Peruvian imagery" in card
    assert "## Figures on the test split (used once)" in card
    assert "as other sensors would" in card
    assert "expected calibration error of the housing score" in card
    assert "test_degraded_housing_macro_f1" in info.metrics


def test_train_refuses_a_folder_without_classes(tmp_path: Path) -> None:
    result = runner.invoke(app, ["train", str(tmp_path), "--no-register"])
    assert result.exit_code == 1
    assert "no class folders" in " ".join(result.output.split())  # rich wraps long lines


def test_evaluate_prints_the_figures_on_any_labelled_folder(tmp_path: Path) -> None:
    shared = Settings().imagery_dir / "ucmerced"
    for name in ("forest", "mobilehomepark"):
        (tmp_path / name).mkdir()
        for source in sorted((shared / name).glob("*.jpg"))[:3]:
            shutil.copy(source, tmp_path / name / source.name)
    result = runner.invoke(app, ["model", "evaluate", str(tmp_path), "--model", str(DEFAULT_MODEL)])
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert re.fullmatch(r"accuracy=[0-9.]+ macro_f1=[0-9.]+ housing_macro_f1=[0-9.]+", last)
    assert "forest" in result.output


def test_evaluate_refuses_classes_the_model_does_not_know(tmp_path: Path) -> None:
    (tmp_path / "esteras").mkdir()
    shutil.copy(next((Settings().imagery_dir / "ucmerced" / "forest").glob("*.jpg")), tmp_path / "esteras" / "a.jpg")
    result = runner.invoke(app, ["model", "evaluate", str(tmp_path), "--model", str(DEFAULT_MODEL)])
    assert result.exit_code == 1
    assert "does not know: esteras" in " ".join(result.output.split())


def test_imagery_for_a_district_no_one_could_query_is_refused_before_anything_is_queued(tmp_path: Path) -> None:
    result = runner.invoke(app, ["imagery", "ingest", str(tmp_path), "--district", "San Juan"])
    assert result.exit_code == 1
    assert "district 'San Juan'" in " ".join(result.output.split())
    assert "Traceback" not in result.output


def test_a_scene_that_cannot_be_cut_ends_in_one_line_and_queues_nothing(tmp_path: Path) -> None:
    from tests.inference.scenes import write_scene

    coarse = write_scene(tmp_path / "sentinel.tif", np.zeros((64, 64, 3), dtype=np.uint8), metres_per_pixel=10.0)
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"II*\x00" + b"\x00" * 64)
    for scene, said in ((coarse, "--zoom 15 or coarser"), (junk, "not a readable raster"),
                        (tmp_path / "missing.tif", "no such file")):  # fmt: skip
        result = runner.invoke(app, ["imagery", "ingest", str(scene), "--district", "sjl"])
        assert result.exit_code == 1
        said_all = " ".join(result.output.split())
        assert said in said_all
        assert "Traceback" not in result.output
    assert "nothing was queued" in " ".join(
        runner.invoke(app, ["imagery", "ingest", str(junk), "--district", "sjl"]).output.split()
    )
