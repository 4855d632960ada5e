"""`vigia model adapt --district D`: the served model with its normalisation re-estimated on a district's own
imagery (`inference/adapt.py`), written and registered as a new version for a person to promote."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from vigia.settings import load_settings
from vigia.terminal import console, fail


def model_adapt(
    district: Annotated[str, typer.Option(help="whose archived imagery the statistics come from")],
    model: Annotated[Path | None, typer.Option(help="a model file (default: the champion)")] = None,
    tiles: Annotated[int, typer.Option(min=16, help="at most this many of the district's newest tiles")] = 512,
    out: Annotated[Path | None, typer.Option(help="where the model's folder is written")] = None,
    register: Annotated[bool, typer.Option(help="register it in MLflow (not yet champion)")] = True,
) -> None:
    """Re-estimate the model's batch-norm statistics on the district's unlabelled archived tiles (AdaBN), for
    imagery from another sensor than the one the model learned on; weights are untouched."""
    from datetime import UTC, datetime

    import numpy as np

    from inference import modelfile, repo
    from inference.adapt import adapt
    from inference.cli import connect
    from inference.model_cli import current_model, registry_change
    from inference.preprocess import prepare
    from vigia.archive import ArchiveError, ImageryArchive
    from vigia.images import ImageError, decode

    settings = load_settings()
    base = current_model(settings, model)
    try:
        net, info = modelfile.load(base)
    except (FileNotFoundError, modelfile.ModelFileError) as error:
        raise fail(error) from error
    with connect(settings) as conn:
        newest = {tile: digest for tile, _, _, _, digest in repo.archived(conn, district=district)}  # oldest first
    chosen = [newest[t] for t in sorted(newest)][:: max(1, len(newest) // tiles)][:tiles]
    if len(chosen) < 16:
        raise fail(f"{district} has {len(chosen)} archived tiles; adapting needs at least 16")
    archive = ImageryArchive.from_settings(settings)
    images = []
    for digest in chosen:
        try:
            images.append(prepare(decode(archive.get(digest)), info.input_size))
        except (ArchiveError, ImageError):
            continue
    stacked = np.stack(images)
    seen = adapt(net, (stacked[i : i + 32] for i in range(0, len(stacked), 32)))
    adapted_at = datetime.now(UTC).replace(microsecond=0)
    adapted = modelfile.ModelInfo(
        version=modelfile.version_for(modelfile.half_state(net), adapted_at), classes=info.classes,
        input_size=info.input_size, housing_weights=info.housing_weights, trained_at=adapted_at,
        metrics={"adapted_tiles": seen},
        initialisation=f"{info.version} with normalisation adapted to {seen} tiles of {district} (AdaBN)",
    )  # fmt: skip
    target = (out or settings.state_dir / "models") / adapted.version
    target.mkdir(parents=True, exist_ok=True)
    modelfile.save(target / "model.pt", net, adapted)
    card = base.parent / "MODEL_CARD.md"
    note = (
        f"# Model card: {adapted.version}\n\n{info.version} with its batch-norm statistics re-estimated on {seen}"
        f" unlabelled archived tiles of {district} ({adapted_at:%Y-%m-%d}); weights unchanged. Its figures are"
        f" those of {info.version} on imagery like the district's: judge it on labelled local tiles.\n\n"
    )
    (target / "MODEL_CARD.md").write_text(note + (card.read_text() if card.is_file() else ""))
    console.print(f"adapted {info.version} to {seen} tiles of {district}: {target / 'model.pt'}")
    if register:
        registered = registry_change(lambda registry: registry.register_file(target / "model.pt"))
        promote = f"vigia model promote {adapted.version}"
        console.print(f"registered as version {registered.number}; serve it with: {promote}")
