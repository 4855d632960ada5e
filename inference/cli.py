"""Command line for imagery and the model: `vigia train`, `vigia model ...`, `vigia imagery ingest`."""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
import time
from pathlib import Path
from typing import Annotated

import psycopg
import typer
import yaml
from rich.console import Console
from rich.table import Table

from vigia.settings import Settings, load_settings

console = Console()
model_app = typer.Typer(help="The imagery model registry.", no_args_is_help=True)
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
    validation_share: Annotated[float, typer.Option(min=0.05, max=0.5)] = 0.2,
    seed: int = 0,
    threads: Annotated[int, typer.Option(min=1)] = 2,
    register: Annotated[
        bool, typer.Option(help="add the model to the registry (inactive) when the database is up")
    ] = True,
) -> None:
    """Train the tile model on a labelled folder and write weights, report, plots and model card."""
    from inference import dataset, modelfile, report, training
    from inference.housing import class_weights

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
        validation_share=validation_share, seed=seed, threads=threads,
    )  # fmt: skip
    console.print(
        f"training on {len(labelled.tiles)} tiles of {len(labelled.classes)} classes from {folder} "
        f"({'ImageNet' if config.pretrained else 'random'} start, {size} px)"
    )

    def show(f: training.EpochFigures) -> None:
        console.print(
            f"epoch {f.epoch:>2}: train loss {f.train_loss:.3f}  validation loss {f.validation_loss:.3f}  "
            f"accuracy {f.accuracy:.3f}  macro-F1 {f.macro_f1:.3f}  ({f.seconds:.0f} s)"
        )

    try:
        result = training.train(labelled, config, on_epoch=show)
    except dataset.DatasetError as error:
        raise _fail(str(error)) from error
    housing_classes = [name for name, w in weights.items() if w > 0]
    trained_at = training.trained_at()
    state = modelfile.half_state(result.net)
    summary = result.evaluation.summary(housing_classes)
    info = modelfile.ModelInfo(
        version=modelfile.version_for(state, trained_at),
        classes=labelled.classes,
        input_size=size,
        housing_weights=weights,
        trained_at=trained_at,
        metrics={**summary, "best_epoch": result.best_epoch, "validation_tiles": result.validation_tiles},
        initialisation="ImageNet (EfficientNet-Lite0)" if config.pretrained else "random",
    )
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
            data=f"Labelled tiles from `{folder.name}` ({len(labelled.classes)} classes).",
            train_tiles=result.train_tiles,
            validation_tiles=result.validation_tiles,
            notes=notes,
        )
        (staging / "MODEL_CARD.md").write_text(card)
        target = out / info.version
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(staging, target)
    console.print(f"wrote {target}/ (model.pt, report.json, confusion.png, curves.png, MODEL_CARD.md)")
    console.print(" ".join(f"{k}={v}" for k, v in summary.items()))
    if register:
        try:
            with _connect(settings) as conn:
                from inference import repo

                repo.register_model(conn, info=info, path=(target / "model.pt").resolve())
            console.print(f"registered {info.version}; serve it with: vigia model promote {info.version}")
        except psycopg.OperationalError:
            console.print(f"database not reachable: register later with `vigia model register {target / 'model.pt'}`")


@model_app.command("list")
def model_list() -> None:
    """Every registered model, newest first, with its validation figures."""
    from inference import repo

    with _connect(load_settings()) as conn:
        rows = repo.list_models(conn)
    table = Table("version", "active", "accuracy", "macro-F1", "housing F1", "trained", "path")
    for row in rows:
        m = row["metrics"] or {}
        table.add_row(
            row["version"], "yes" if row["active"] else "", str(m.get("accuracy", "")), str(m.get("macro_f1", "")),
            str(m.get("housing_macro_f1", "")), f"{row['trained_at']:%Y-%m-%d}", row["path"],
        )  # fmt: skip
    # Piped output keeps whole versions and paths for scripts; a terminal gets a fitted table.
    (console if console.is_terminal else Console(width=240)).print(table)


@model_app.command("register")
def model_register(path: Path) -> None:
    """Add a model file to the registry, inactive."""
    from inference import modelfile, repo

    try:
        _, info = modelfile.load(path)
    except (FileNotFoundError, modelfile.ModelFileError) as error:
        raise _fail(str(error)) from error
    with _connect(load_settings()) as conn:
        repo.register_model(conn, info=info, path=path.resolve())
    console.print(f"registered {info.version}")


@model_app.command("promote")
def model_promote(version: str) -> None:
    """Make a registered model the one the inference worker serves (within its check interval)."""
    from inference import repo

    with _connect(load_settings()) as conn:
        try:
            repo.promote(conn, version=version)
        except repo.RegistryError as error:
            raise _fail(str(error)) from error
    console.print(f"active model: {version}")


@model_app.command("rollback")
def model_rollback() -> None:
    """Go back to the model that was active before the current one."""
    from inference import repo

    with _connect(load_settings()) as conn:
        try:
            version = repo.rollback(conn)
        except repo.RegistryError as error:
            raise _fail(str(error)) from error
    console.print(f"active model: {version}")


def _model_to_evaluate(settings: Settings, explicit: Path | None) -> Path:
    from inference.assessor import DEFAULT_MODEL

    if explicit is not None:
        return explicit
    try:
        with _connect(settings) as conn:
            from inference import repo

            active = repo.active_model(conn)
        if active is not None:
            return active[1]
    except psycopg.OperationalError:
        console.print("database not reachable: evaluating the shipped default model")
    return DEFAULT_MODEL


@model_app.command("evaluate")
def model_evaluate(
    folder: Annotated[Path, typer.Argument(help="labelled tiles, <class>/<tile>.png|jpg")],
    model: Annotated[Path | None, typer.Option(help="a model file (default: the active model)")] = None,
    confusion: Annotated[Path | None, typer.Option(help="also write the confusion matrix as PNG here")] = None,
    threads: Annotated[int, typer.Option(min=1)] = 2,
) -> None:
    """Accuracy, macro-F1 over all and over the housing classes, and per-class figures on a folder."""
    import numpy as np

    from inference import dataset, modelfile, report
    from inference.metrics import evaluate

    settings = load_settings()
    path = _model_to_evaluate(settings, model)
    try:
        net, info = modelfile.load(path)
        labelled = dataset.scan(folder, classes=info.classes)
        images, labels = dataset.load(labelled.tiles)
    except (FileNotFoundError, modelfile.ModelFileError, dataset.DatasetError) as error:
        raise _fail(str(error)) from error
    from inference.assessor import Assessor

    served = Assessor(net, info, threads=threads)  # judged exactly as it serves
    fitted = dataset.fit(images, info.input_size)
    probabilities = np.concatenate([served.forward(fitted[i : i + 32])[0] for i in range(0, len(fitted), 32)])
    served.close()
    present = sorted(set(labels.tolist()))
    evaluation = evaluate(labels.tolist(), probabilities.argmax(axis=1).tolist(), info.classes)
    table = Table("class", "precision", "recall", "F1", "tiles", title=f"{info.version} on {folder}")
    for c in evaluation.per_class:
        if c.support or c.name in {info.classes[i] for i in present}:
            table.add_row(c.name, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}", str(c.support))
    console.print(table)
    if confusion is not None:
        report.confusion_png(evaluation, confusion, f"{info.version} on {folder.name}")
        console.print(f"confusion matrix: {confusion}")
    housing = [name for name, w in info.housing_weights.items() if w > 0]
    summary = evaluation.summary(housing)
    print(" ".join(f"{k}={v:.4f}" for k, v in summary.items()))


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
    wait: Annotated[bool, typer.Option(help="wait until every tile's assessment is stored")] = False,
    timeout: Annotated[float, typer.Option(help="seconds to wait with --wait")] = 300.0,
) -> None:
    """Cut imagery into tiles and queue them for the inference worker, with a progress bar."""
    from inference import intake, tiling
    from vigia.contracts import DISTRICT_PATTERN

    if not re.fullmatch(DISTRICT_PATTERN, district):
        raise _fail(f"district {district!r}: lower-case letters, digits, '_' or '-', at most 64")
    settings = load_settings()
    zoom = zoom or settings.imagery_zoom
    report = tiling.CutReport()
    try:
        tiles = (
            tiling.cut_scene(path, zoom, min_valid=min_valid, report=report)
            if tiling.is_scene(path)
            else tiling.folder_tiles(path, zoom, report=report)
        )
        queued = asyncio.run(intake.queue_tiles(settings, tiles, district=district, show_progress=True))
    except tiling.SceneError as error:
        raise _fail(str(error)) from error
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/yellow] {warning}")
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


@inference_app.command("run")
def inference_run() -> None:
    """Run the inference worker in the foreground."""
    from inference import worker

    worker.run(load_settings())
