"""`vigia train`: train the tile model on a labelled folder, or fine-tune the served one on field labels, and
leave the weights, figures, plots and model card a person reads."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml

from inference.cli import connect
from vigia.settings import Settings, load_settings
from vigia.terminal import console, fail

DEFAULT_EMA = 0.99  # an average over about 100 steps: two to three epochs of the shared tiles

if TYPE_CHECKING:
    from inference.calibration import Reliability
    from inference.modelfile import ModelInfo
    from inference.tracking import TrainingRun
    from inference.training import TrainResult


def _housing_weights(path: Path | None) -> dict[str, float]:
    from inference.housing import DEFAULT_HOUSING_WEIGHTS

    if path is None:
        return dict(DEFAULT_HOUSING_WEIGHTS)
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or not all(isinstance(v, int | float) for v in data.values()):
        raise fail(f"{path}: expected a mapping of class name to weight in [0, 1]")
    return {str(k): float(v) for k, v in data.items()}


def _tracked_run(settings: Settings, name: str, params: dict[str, object]) -> TrainingRun | None:
    """The run in MLflow, or None (with a line saying so) when the tracking server is not there."""
    from inference.registry import ModelRegistry, RegistryError
    from inference.tracking import TrainingRun

    try:
        run = TrainingRun(ModelRegistry(settings), name=name, params=params)
    except RegistryError as error:
        console.print(f"[yellow]not tracked:[/yellow] {error}")
        return None
    console.print(f"tracking the run in MLflow: {run.url}")
    return run


def train(
    folder: Annotated[
        Path | None, typer.Argument(help="labelled tiles, <class>/<tile>.png|jpg (default: the shared UC Merced tiles)")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="where the model's folder is written (default: <state dir>/models)")
    ] = None,
    epochs: Annotated[int | None, typer.Option(min=1, help="default: 30, or 4 when fine-tuning on --labels")] = None,
    patience: Annotated[int, typer.Option(min=1, help="epochs without a better validation score before stopping")] = 10,
    size: Annotated[int, typer.Option(min=64, max=512, help="input side in pixels")] = 192,
    scratch: Annotated[bool, typer.Option("--scratch", help="random initial weights instead of ImageNet")] = False,
    housing: Annotated[Path | None, typer.Option(help="YAML of housing class to weight in [0, 1]")] = None,
    validation_share: Annotated[float, typer.Option(min=0.05, max=0.5, help="tiles choosing the epoch")] = 0.15,
    test_share: Annotated[float, typer.Option(min=0.0, max=0.5, help="tiles held out for one final test")] = 0.15,
    other_sensors: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="share of training tiles degraded as another sensor sees them")
    ] = 0.5,
    frozen_blocks: Annotated[
        int, typer.Option(min=0, max=16, help="blocks after the stem that keep their ImageNet weights")
    ] = 3,
    label_smoothing: Annotated[float, typer.Option(min=0.0, max=0.3, help="softens the targets")] = 0.1,
    ema: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=0.9999,
            help="decay per step of the weights' moving average, 0 for the raw weights "
            "(default: 0.99, or 0 when fine-tuning on --labels, whose few steps an average would barely move)",
        ),
    ] = None,
    min_crop: Annotated[
        float, typer.Option(min=0.3, max=1.0, help="smallest random crop, as a share of a tile's area")
    ] = 0.85,
    seed: int = 0,
    threads: Annotated[int, typer.Option(min=1)] = 2,
    register: Annotated[
        bool, typer.Option(help="record the run in MLflow and register the model (not yet champion)")
    ] = True,
    labels: Annotated[
        bool, typer.Option("--labels", help="fine-tune the served model on the labels people gave on the map")
    ] = False,
    district: Annotated[str | None, typer.Option(help="with --labels: only this district's labels")] = None,
    replay: Annotated[
        int, typer.Option(min=1, help="with --labels: original tiles of each class kept beside the labels")
    ] = 20,
) -> None:
    """Train the tile model on a labelled folder and write weights, report, plots and model card; with
    --labels, fine-tune the model served now on the tiles people labelled on the map instead."""
    from inference import dataset, modelfile, training
    from inference.housing import class_weights
    from inference.registry import RegistryError

    settings = load_settings()
    start_from, start_info = None, None
    if labels:
        folder, start_from, start_info = _field_folder(settings, district, replay)
    folder = folder or settings.imagery_dir / "ucmerced"
    out = out or settings.state_dir / "models"
    try:
        labelled = dataset.scan(folder)
        weights = start_info.housing_weights if start_info else _housing_weights(housing)
        weights = {k: v for k, v in weights.items() if k in labelled.classes} if housing is None else weights
        class_weights(labelled.classes, weights)
    except (dataset.DatasetError, ValueError) as error:
        raise fail(str(error)) from error
    config = training.TrainConfig(
        input_size=start_info.input_size if start_info else size, epochs=epochs or (4 if labels else 30),
        patience=patience, pretrained=not scratch, validation_share=validation_share, test_share=test_share,
        other_sensors=other_sensors, seed=seed, threads=threads, start_from=start_from,
        learning_rate=3e-4 if labels else 1e-3, frozen_blocks=frozen_blocks, label_smoothing=label_smoothing,
        ema=(0.0 if labels else DEFAULT_EMA) if ema is None else ema, min_crop=min_crop,
    )  # fmt: skip
    size = config.input_size
    console.print(
        f"training on {len(labelled.tiles)} tiles of {len(labelled.classes)} classes from {folder} "
        f"({'ImageNet' if config.pretrained else 'random'} start, {size} px)"
    )
    params = {**vars(config), "data": str(folder), "tiles": len(labelled.tiles), "classes": ",".join(labelled.classes)}
    run = _tracked_run(settings, f"train on {folder.name}", params) if register else None

    def show(f: training.EpochFigures) -> None:
        nonlocal run
        console.print(
            f"epoch {f.epoch:>2}: train loss {f.train_loss:.3f}  validation loss {f.validation_loss:.3f}  "
            f"accuracy {f.accuracy:.3f}  macro-F1 {f.macro_f1:.3f}  ({f.seconds:.0f} s)"
        )
        if run is not None:
            try:
                run.epoch(f)
            except RegistryError as error:  # training goes on; the model can be registered from its file
                console.print(f"[yellow]no longer tracked:[/yellow] {error}")
                run = None

    try:
        result = training.train(labelled, config, on_epoch=show)
    except (dataset.DatasetError, KeyboardInterrupt) as error:
        if run is not None:
            run.fail()
        if isinstance(error, KeyboardInterrupt):
            raise
        raise fail(str(error)) from error
    housing_classes = [name for name, w in weights.items() if w > 0]
    trained_at = training.trained_at()
    summary = result.evaluation.summary(housing_classes)
    calibrated = _calibration(result, weights)
    if result.test is not None and result.test_degraded is not None:
        summary |= {f"test_{k}": v for k, v in result.test.summary(housing_classes).items()}
        summary |= {f"test_degraded_{k}": v for k, v in result.test_degraded.summary(housing_classes).items()}
    if calibrated is not None:
        summary |= {"housing_ece": calibrated[0].ece, "confidence_ece": calibrated[1].ece}
    info = modelfile.ModelInfo(
        version=modelfile.version_for(modelfile.half_state(result.net), trained_at),
        classes=labelled.classes,
        input_size=size,
        housing_weights=weights,
        trained_at=trained_at,
        metrics={**summary, "best_epoch": result.best_epoch, "validation_tiles": result.validation_tiles},
        initialisation=_initialisation(start_info, pretrained=config.pretrained),
    )
    target = _write_model_folder(out, result, info, housing_classes, data=folder, calibrated=calibrated)
    console.print(f"wrote {target}/ (model.pt, report.json, confusion.png, curves.png, reliability.png, MODEL_CARD.md)")
    console.print(" ".join(f"{k}={v}" for k, v in summary.items()))
    if run is None:
        if register:
            console.print(f"register it later with `vigia model register {target / 'model.pt'}`")
        return
    try:
        registered = run.finish(target, version=info.version, summary=info.metrics)
    except RegistryError as error:
        raise fail(f"{error}; register it later with `vigia model register {target / 'model.pt'}`") from error
    console.print(
        f"registered {info.version} as version {registered.number} of {settings.model_name}; "
        f"serve it with: vigia model promote {info.version}"
    )


def _initialisation(start: ModelInfo | None, *, pretrained: bool) -> str:
    if start is not None:
        return f"fine-tuned from {start.version} on field labels"
    return "ImageNet (EfficientNet-Lite0)" if pretrained else "random"


def _field_folder(settings: Settings, district: str | None, replay: int) -> tuple[Path, Path, ModelInfo]:
    """The labels people gave, with their archived images, as a training folder kept under the state directory
    (the record of what the fine-tuned model learned from), and the model served now to start from."""
    from datetime import UTC, datetime

    from inference import field_labels, modelfile, repo
    from inference.model_cli import current_model
    from vigia.archive import ArchiveError, ImageryArchive

    base = current_model(settings, None)
    _, info = modelfile.load(base)
    archive = ImageryArchive.from_settings(settings)
    with connect(settings) as conn:
        rows = repo.field_labels(conn, district=district)
    labelled, missing = [], 0
    for tile_id, cls, digest in rows:
        try:
            labelled.append((tile_id, cls, archive.get(digest)))
        except ArchiveError:
            missing += 1
    if missing:
        console.print(f"[yellow]warning:[/yellow] {missing} labelled tiles' images are missing from {archive.root}")
    root = settings.state_dir / "field-labels" / f"{datetime.now(UTC):%Y%m%dT%H%M%S}"
    try:
        used = field_labels.assemble(root, labelled, info.classes, settings.imagery_dir / "ucmerced", replay=replay)
    except field_labels.LabelError as error:
        raise fail(str(error)) from error
    where = f" of {district}" if district else ""
    console.print(f"fine-tuning {info.version} on {used} labelled tiles{where} ({root})")
    return root, base, info


def _calibration(result: TrainResult, weights: Mapping[str, float]) -> tuple[Reliability, Reliability] | None:
    """(housing score, class confidence) reliability on the clean test split, when there was one."""
    from inference import calibration
    from inference.housing import class_weights

    if result.test_probabilities is None or result.test_labels is None:
        return None
    labels = result.test_labels.tolist()
    return (
        calibration.housing(result.test_probabilities, labels, class_weights(result.classes, weights)),
        calibration.confidence(result.test_probabilities, labels),
    )


def _write_model_folder(
    out: Path,
    result: TrainResult,
    info: ModelInfo,
    housing_classes: list[str],
    *,
    data: Path,
    calibrated: tuple[Reliability, Reliability] | None,
) -> Path:
    """`out/<version>/` with the weights, report, plots and card, written whole or not at all."""
    from inference import modelfile, report

    config = result.config
    with tempfile.TemporaryDirectory(dir=out.parent if out.parent.exists() else None) as tmp:
        staging = Path(tmp)
        modelfile.save(staging / "model.pt", result.net, info)
        report.write_json(
            staging / "report.json",
            report.report_json(
                result.evaluation, housing_classes,
                {"version": info.version, "history": result.history_dicts(), "config": vars(config) | {},
                 "temperature": result.temperature},
            ),
        )  # fmt: skip
        report.confusion_png(result.evaluation, staging / "confusion.png", f"{info.version} on validation")
        report.curves_png(result.history_dicts(), staging / "curves.png")
        held_out = ""
        if result.test is not None and result.test_degraded is not None and calibrated is not None:
            report.reliability_png(*calibrated, staging / "reliability.png")
            ece = {"housing_ece": calibrated[0].ece, "confidence_ece": calibrated[1].ece}
            held_out = report.test_section(
                result.test, result.test_degraded, housing_classes, tiles=result.test_tiles, ece=ece
            )
        notes = {
            "epochs run": len(result.history),
            "best epoch": result.best_epoch,
            "batch": config.batch_size,
            "learning rate": config.learning_rate,
            "frozen blocks": config.frozen_blocks,
            "weight average decay": config.ema or "none (raw weights)",
            "smallest crop": f"{config.min_crop:.2f} of a tile's area",
            "temperature": (
                f"{result.temperature:.2f}, fitted on the validation tiles and folded into the class layer"
                if result.temperature != 1.0
                else "none (1.0)"
            ),
            "seed": config.seed,
        }
        card = report.model_card(
            info,
            result.evaluation,
            data=f"Labelled tiles from `{data.name}` ({len(info.classes)} classes).",
            train_tiles=result.train_tiles,
            validation_tiles=result.validation_tiles,
            notes=notes,
            held_out=held_out,
        )
        (staging / "MODEL_CARD.md").write_text(card)
        target = out / info.version
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, target)
    return target
