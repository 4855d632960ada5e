"""`vigia model list|register|promote|rollback|evaluate`: the registry in MLflow, from a terminal.

A version is named by Vigía's version (`tilenet-20261123-6c50bd22`) or MLflow's number
(`3` or `v3`). Promotion moves the `champion` alias; the inference workers serve the new
champion within `VIGIA_MODEL_CHECK_SECONDS`, without a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from vigia.settings import Settings, load_settings
from vigia.terminal import console, fail

if TYPE_CHECKING:
    from inference.registry import ModelRegistry, RegisteredVersion

model_app = typer.Typer(help="The imagery model registry (MLflow).", no_args_is_help=True)


def _registry(settings: Settings) -> ModelRegistry:
    from inference.registry import ModelRegistry

    return ModelRegistry(settings)


@model_app.command("list")
def model_list() -> None:
    """Every registered version, newest first, with its validation figures; the served one is the champion."""
    from inference.registry import RegistryError

    settings = load_settings()
    try:
        versions = _registry(settings).versions()
    except RegistryError as error:
        raise fail(error) from error
    table = Table("#", "version", "champion", "accuracy", "macro-F1", "housing F1", "registered", "run")
    for v in versions:
        m = v.metrics
        table.add_row(
            v.number, v.version, "yes" if v.champion else "", _figure(m.get("accuracy")), _figure(m.get("macro_f1")),
            _figure(m.get("housing_macro_f1")), f"{v.created:%Y-%m-%d %H:%M}", v.run_id or "",
        )  # fmt: skip
    # Piped output keeps whole versions and run ids for scripts; a terminal gets a fitted table.
    (console if console.is_terminal else Console(width=240)).print(table)
    console.print(f"registry: {settings.mlflow_tracking_uri}/#/models/{settings.model_name}")


def _figure(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def registry_change(change: Callable[[ModelRegistry], RegisteredVersion]) -> RegisteredVersion:
    """Run one change against the registry; its refusal or absence ends the command with one line."""
    from inference.registry import RegistryError

    try:
        return change(_registry(load_settings()))
    except RegistryError as error:
        raise fail(error) from error


@model_app.command("register")
def model_register(path: Annotated[Path, typer.Argument(help="a model file written by `vigia train`")]) -> None:
    """Add a model file (and the card, report and plots beside it) to the registry, not yet champion."""
    entry = registry_change(lambda registry: registry.register_file(path))
    console.print(f"registered {entry.version} as version {entry.number}")


@model_app.command("promote")
def model_promote(version: Annotated[str, typer.Argument(help="Vigía's version or MLflow's number")]) -> None:
    """Make a registered version the champion, which the inference workers serve (within their check interval)."""
    entry = registry_change(lambda registry: registry.promote(version))
    console.print(f"champion: {entry.version} (version {entry.number})")


@model_app.command("rollback")
def model_rollback() -> None:
    """Make champion again the version that was champion before the current one."""
    entry = registry_change(lambda registry: registry.rollback())
    console.print(f"champion: {entry.version} (version {entry.number})")


def current_model(settings: Settings, explicit: Path | None) -> Path:
    """`explicit`, else the champion fetched from the registry, else the shipped model."""
    from inference.assessor import DEFAULT_MODEL
    from inference.registry import RegistryError

    if explicit is not None:
        return explicit
    try:
        registry = _registry(settings)
        champion = registry.champion()
        if champion is not None:
            return registry.fetch(champion)
    except RegistryError as error:
        console.print(f"{error}: evaluating the shipped default model")
    return DEFAULT_MODEL


@model_app.command("quantize")
def model_quantize(
    model: Annotated[Path | None, typer.Argument(help="a model file (default: the champion)")] = None,
    folder: Annotated[
        Path | None, typer.Option(help="labelled tiles it was trained on (default: the shared UC Merced tiles)")
    ] = None,
    calibration: Annotated[int, typer.Option(min=16, help="training tiles that set the activation ranges")] = 128,
    threads: Annotated[int, typer.Option(min=1)] = 2,
) -> None:
    """Quantize the model to INT8 for serving, calibrated on its training tiles; the graph is kept beside the
    model only if its housing macro-F1 on the validation tiles is at most 0.005 below full precision."""
    from inference import dataset, modelfile, quantize

    settings = load_settings()
    path = current_model(settings, model)
    folder = folder or settings.imagery_dir / "ucmerced"
    console.print(f"quantizing {path} on {calibration} tiles of {folder} ...")
    try:
        verdict, graph = quantize.build(path, folder, calibration_tiles=calibration, threads=threads)
    except (FileNotFoundError, modelfile.ModelFileError, dataset.DatasetError, quantize.QuantizeError) as error:
        raise fail(error) from error
    quantize.keep(path, verdict, graph)
    console.print(
        f"housing macro-F1 on {verdict.validation_tiles} validation tiles: {verdict.fp32_housing_f1:.4f}"
        f" full precision, {verdict.int8_housing_f1:.4f} INT8"
        f" (drop {verdict.drop:+.4f}, allowed {quantize.MAX_F1_DROP})"
    )
    if verdict.kept:
        console.print(f"kept: {quantize.graph_path(path)} serves {verdict.model_version}")
    else:
        raise fail(f"INT8 loses {verdict.drop:.4f} of housing macro-F1; nothing kept, full precision serves")


@model_app.command("evaluate")
def model_evaluate(
    folder: Annotated[Path, typer.Argument(help="labelled tiles, <class>/<tile>.png|jpg")],
    model: Annotated[Path | None, typer.Option(help="a model file (default: the champion)")] = None,
    confusion: Annotated[Path | None, typer.Option(help="also write the confusion matrix as PNG here")] = None,
    threads: Annotated[int, typer.Option(min=1)] = 2,
    degraded: Annotated[
        bool, typer.Option(help="also as another sensor would see the tiles: 0.6-2 m a pixel, blur, JPEG, colour")
    ] = False,
) -> None:
    """Accuracy, macro-F1 over all and over the housing classes, and per-class figures on a folder; with
    --degraded, the same figures on the tiles degraded as imagery from another source (inference/degrade.py)."""
    import numpy as np

    from inference import dataset, modelfile, report
    from inference.degrade import as_other_sensors
    from inference.metrics import evaluate

    settings = load_settings()
    path = current_model(settings, model)
    try:
        net, info = modelfile.load(path)
        labelled = dataset.scan(folder, classes=info.classes)
        images, labels = dataset.load(labelled.tiles)
    except (FileNotFoundError, modelfile.ModelFileError, dataset.DatasetError) as error:
        raise fail(error) from error
    from inference.assessor import Assessor

    served = Assessor(net, info, threads=threads)  # judged exactly as it serves

    def classify(tiles: np.ndarray) -> np.ndarray:
        fitted = dataset.fit(tiles, info.input_size)
        return np.concatenate([served.forward(fitted[i : i + 32])[0] for i in range(0, len(fitted), 32)])

    probabilities = classify(images)
    other = classify(as_other_sensors(images)) if degraded else None
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
    if other is not None:
        seen = evaluate(labels.tolist(), other.argmax(axis=1).tolist(), info.classes).summary(housing)
        print("degraded " + " ".join(f"{k}={v:.4f}" for k, v in seen.items()))
