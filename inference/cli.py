"""Command line for imagery and training: `vigia train`, `vigia imagery ingest`, `vigia inference run`."""

from __future__ import annotations

import asyncio
import itertools
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import psycopg
import typer
import yaml
from rich.console import Console

from vigia import scenes
from vigia.settings import Settings, load_settings

if TYPE_CHECKING:
    from inference.modelfile import ModelInfo
    from inference.tracking import TrainingRun
    from inference.training import TrainResult

console = Console()
imagery_app = typer.Typer(help="Imagery in: scenes and tiles to the inference worker.", no_args_is_help=True)
inference_app = typer.Typer(help="The inference worker.", no_args_is_help=True)


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


def _connect(settings: Settings) -> psycopg.Connection:
    return psycopg.connect(settings.db_conninfo, autocommit=True, connect_timeout=3)


def _housing_weights(path: Path | None) -> dict[str, float]:
    from inference.housing import DEFAULT_HOUSING_WEIGHTS

    if path is None:
        return dict(DEFAULT_HOUSING_WEIGHTS)
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or not all(isinstance(v, int | float) for v in data.values()):
        raise _fail(f"{path}: expected a mapping of class name to weight in [0, 1]")
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
    epochs: Annotated[int, typer.Option(min=1)] = 16,
    patience: Annotated[int, typer.Option(min=1, help="epochs without a better validation score before stopping")] = 4,
    size: Annotated[int, typer.Option(min=64, max=512, help="input side in pixels")] = 192,
    scratch: Annotated[bool, typer.Option("--scratch", help="random initial weights instead of ImageNet")] = False,
    housing: Annotated[Path | None, typer.Option(help="YAML of housing class to weight in [0, 1]")] = None,
    validation_share: Annotated[float, typer.Option(min=0.05, max=0.5, help="tiles choosing the epoch")] = 0.15,
    test_share: Annotated[float, typer.Option(min=0.0, max=0.5, help="tiles held out for one final test")] = 0.15,
    other_sensors: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="share of training tiles degraded as another sensor sees them")
    ] = 0.5,
    seed: int = 0,
    threads: Annotated[int, typer.Option(min=1)] = 2,
    register: Annotated[
        bool, typer.Option(help="record the run in MLflow and register the model (not yet champion)")
    ] = True,
) -> None:
    """Train the tile model on a labelled folder and write weights, report, plots and model card."""
    from inference import dataset, modelfile, training
    from inference.housing import class_weights
    from inference.registry import RegistryError

    settings = load_settings()
    folder = folder or settings.imagery_dir / "ucmerced"
    out = out or settings.state_dir / "models"
    try:
        labelled = dataset.scan(folder)
        weights = _housing_weights(housing)
        weights = {k: v for k, v in weights.items() if k in labelled.classes} if housing is None else weights
        class_weights(labelled.classes, weights)
    except (dataset.DatasetError, ValueError) as error:
        raise _fail(str(error)) from error
    config = training.TrainConfig(
        input_size=size, epochs=epochs, patience=patience, pretrained=not scratch,
        validation_share=validation_share, test_share=test_share, other_sensors=other_sensors, seed=seed,
        threads=threads,
    )  # fmt: skip
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
        raise _fail(str(error)) from error
    housing_classes = [name for name, w in weights.items() if w > 0]
    trained_at = training.trained_at()
    summary = result.evaluation.summary(housing_classes)
    if result.test is not None and result.test_degraded is not None:
        summary |= {f"test_{k}": v for k, v in result.test.summary(housing_classes).items()}
        summary |= {f"test_degraded_{k}": v for k, v in result.test_degraded.summary(housing_classes).items()}
        summary |= _calibration(result, weights)
    info = modelfile.ModelInfo(
        version=modelfile.version_for(modelfile.half_state(result.net), trained_at),
        classes=labelled.classes,
        input_size=size,
        housing_weights=weights,
        trained_at=trained_at,
        metrics={**summary, "best_epoch": result.best_epoch, "validation_tiles": result.validation_tiles},
        initialisation="ImageNet (EfficientNet-Lite0)" if config.pretrained else "random",
    )
    target = _write_model_folder(out, result, info, housing_classes, data=folder)
    console.print(f"wrote {target}/ (model.pt, report.json, confusion.png, curves.png, reliability.png, MODEL_CARD.md)")
    console.print(" ".join(f"{k}={v}" for k, v in summary.items()))
    if run is None:
        if register:
            console.print(f"register it later with `vigia model register {target / 'model.pt'}`")
        return
    try:
        registered = run.finish(target, version=info.version, summary=info.metrics)
    except RegistryError as error:
        raise _fail(f"{error}; register it later with `vigia model register {target / 'model.pt'}`") from error
    console.print(
        f"registered {info.version} as version {registered.number} of {settings.model_name}; "
        f"serve it with: vigia model promote {info.version}"
    )


def _calibration(result: TrainResult, weights: dict[str, float]) -> dict[str, float]:
    from inference import calibration
    from inference.housing import class_weights

    if result.test_probabilities is None or result.test_labels is None:
        return {}
    labels = result.test_labels.tolist()
    housing = calibration.housing(result.test_probabilities, labels, class_weights(result.classes, weights))
    confidence = calibration.confidence(result.test_probabilities, labels)
    return {"housing_ece": housing.ece, "confidence_ece": confidence.ece}


def _reliability(result: TrainResult, info: ModelInfo, path: Path) -> None:
    from inference import calibration, report
    from inference.housing import class_weights

    if result.test_probabilities is None or result.test_labels is None:
        return
    labels = result.test_labels.tolist()
    weights = class_weights(result.classes, info.housing_weights)
    report.reliability_png(
        calibration.housing(result.test_probabilities, labels, weights),
        calibration.confidence(result.test_probabilities, labels),
        path,
    )


def _write_model_folder(
    out: Path, result: TrainResult, info: ModelInfo, housing_classes: list[str], *, data: Path
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
                {"version": info.version, "history": result.history_dicts(), "config": vars(config) | {}},
            ),
        )  # fmt: skip
        report.confusion_png(result.evaluation, staging / "confusion.png", f"{info.version} on validation")
        report.curves_png(result.history_dicts(), staging / "curves.png")
        held_out = ""
        if result.test is not None and result.test_degraded is not None and "housing_ece" in info.metrics:
            _reliability(result, info, staging / "reliability.png")
            ece = {k: float(info.metrics[k]) for k in ("housing_ece", "confidence_ece")}
            held_out = report.test_section(
                result.test, result.test_degraded, housing_classes, tiles=result.test_tiles, ece=ece
            )
        notes = {
            "epochs run": len(result.history),
            "best epoch": result.best_epoch,
            "batch": config.batch_size,
            "learning rate": config.learning_rate,
            "frozen blocks": config.frozen_blocks,
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


@imagery_app.command("ingest")
def imagery_ingest(
    path: Annotated[
        Path, typer.Argument(help="a GeoTIFF scene, or a folder of tiles named z_x_y.png or listed in tiles.csv")
    ],
    district: Annotated[str, typer.Option(help="the district the imagery covers")],
    zoom: Annotated[int | None, typer.Option(help="imagery zoom (default: the imagery_zoom setting)")] = None,
    min_valid: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="least share of a tile inside the scene's data")
    ] = 0.5,
    max_tiles: Annotated[
        int, typer.Option(min=1, help="refuse a scene that makes more tiles than this (nothing is queued)")
    ] = scenes.MAX_TILES,
    wait: Annotated[bool, typer.Option(help="wait until every tile's assessment is stored")] = False,
    timeout: Annotated[float, typer.Option(help="seconds to wait with --wait")] = 300.0,
) -> None:
    """Cut imagery into tiles and queue them for the inference worker, with a progress bar.

    A scene is read whole before any tile is queued: an unreadable, damaged or truncated one
    ends with one line saying what is wrong, and so does one more than four times coarser than
    the zoom's pixel (it names the zoom that fits) or one making more than --max-tiles tiles."""
    from inference import intake, spool, tiling
    from vigia.contracts import DISTRICT_PATTERN

    if not re.fullmatch(DISTRICT_PATTERN, district):
        raise _fail(f"district {district!r}: lower-case letters, digits, '_' or '-', at most 64")
    if not path.exists():
        raise _fail(f"{path}: no such file or folder")
    settings = load_settings()
    zoom = zoom or settings.imagery_zoom
    report = tiling.CutReport()
    with spool.TileSpool(settings.state_dir) as held:
        try:
            tiles = (
                tiling.cut_scene(path, zoom, min_valid=min_valid, report=report, max_tiles=max_tiles)
                if tiling.is_scene(path)
                else tiling.folder_tiles(path, zoom, report=report)
            )
            held.fill(tiles, show_progress=True)
        except tiling.SceneError as error:
            raise _fail(f"{error}; nothing was queued") from error
        for warning in report.warnings + [f"skipped {bad}" for bad in report.skipped_unreadable]:
            console.print(f"[yellow]warning:[/yellow] {warning}")
        resolution = f" from {report.metres_per_pixel:.2f} m a pixel" if report.metres_per_pixel else ""
        console.print(f"{len(held)} tiles cut at zoom {zoom}{resolution}; queueing them")
        queued = asyncio.run(intake.queue_tiles(settings, held.tiles(), district=district, show_progress=True))
    console.print(
        f"queued {len(queued)} tiles at zoom {zoom} for {district} "
        f"({report.partial} partial, {report.skipped_no_data} skipped for no data"
        + (f", {len(report.skipped_unnamed)} files without a tile id" if report.skipped_unnamed else "")
        + ")"
    )
    if wait and queued:
        started = time.monotonic()
        with _connect(settings) as conn:
            done = intake.wait_for_assessments(conn, queued, timeout=timeout, show_progress=True)
        console.print(f"{done}/{len(set(queued))} assessments stored in {time.monotonic() - started:.1f} s")
        if done < len(set(queued)):
            raise _fail("not every tile was assessed in time: see `vigia status` and the inference log")


def _let_workers_take_the_champion(settings: Settings) -> None:
    """Right after a promotion, wait out the workers' check interval, so the new champion assesses the tiles."""
    from datetime import UTC, datetime

    from inference.registry import ModelRegistry, RegistryError

    try:
        champion = ModelRegistry(settings).champion()
    except RegistryError as error:
        console.print(f"[yellow]warning:[/yellow] {error}; the tiles go to whatever model the workers serve")
        return
    if champion is None or champion.promoted_at is None:
        return
    left = settings.model_check_seconds + 1 - (datetime.now(UTC) - champion.promoted_at).total_seconds()
    if left > 0:
        console.print(f"{champion.version} was promoted just now: waiting {left:.0f} s for the workers to load it")
        time.sleep(left)


@imagery_app.command("reassess")
def imagery_reassess(
    district: Annotated[str | None, typer.Option(help="only this district's imagery (default: all)")] = None,
    wait: Annotated[bool, typer.Option(help="wait until the champion has assessed every tile")] = False,
    timeout: Annotated[float, typer.Option(help="seconds to wait with --wait")] = 600.0,
) -> None:
    """Assess the archived imagery again, every acquisition, with the model served now (after a promotion)."""
    from inference import intake, repo
    from inference.tiling import ImageTile
    from vigia.archive import ArchiveError, ImageryArchive

    settings = load_settings()
    archive = ImageryArchive.from_settings(settings)
    with _connect(settings) as conn:
        rows = repo.archived(conn, district=district)
    _let_workers_take_the_champion(settings)
    if not rows:
        raise _fail(
            f"no archived imagery{f' of {district}' if district else ''}: ingest some with `vigia imagery ingest`"
        )
    missing, queued = 0, []
    for place, group in itertools.groupby(rows, key=lambda r: r[2]):
        tiles = []
        for tile_id, captured_at, _, source, digest in group:
            try:
                data = archive.get(digest)
            except ArchiveError:
                missing += 1
                continue
            tiles.append(ImageTile(tile_id=tile_id, source=source or "archive", captured_at=captured_at, data=data))
        queued += asyncio.run(intake.queue_tiles(settings, tiles, district=place, show_progress=True))
    if missing:
        console.print(f"[yellow]warning:[/yellow] {missing} archived images are missing from {archive.root}")
    console.print(f"queued {len(queued)} archived tiles for the model served now")
    if wait and queued:
        from inference.registry import ModelRegistry, RegistryError

        try:
            champion = ModelRegistry(settings).champion()
        except RegistryError as error:
            raise _fail(str(error)) from error
        version = champion.version if champion else None
        started = time.monotonic()
        with _connect(settings) as conn:
            done = intake.wait_for_assessments(conn, queued, timeout=timeout, show_progress=True, model_version=version)
        console.print(f"{done}/{len(set(queued))} assessed by {version} in {time.monotonic() - started:.1f} s")
        if done < len(set(queued)):
            raise _fail("not every tile was assessed in time: see `vigia status` and the inference log")


@inference_app.command("run")
def inference_run() -> None:
    """Run the inference worker in the foreground."""
    from inference import worker

    worker.run(load_settings())
