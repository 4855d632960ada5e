"""Command line for imagery and the worker: `vigia imagery ingest|reassess`, `vigia inference run`."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from vigia import scenes
from vigia.settings import Settings, load_settings
from vigia.terminal import console, fail

imagery_app = typer.Typer(help="Imagery in: scenes and tiles to the inference worker.", no_args_is_help=True)
inference_app = typer.Typer(help="The inference worker.", no_args_is_help=True)


def connect(settings: Settings) -> psycopg.Connection:
    return psycopg.connect(settings.db_conninfo, autocommit=True, connect_timeout=3)


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
        raise fail(f"district {district!r}: lower-case letters, digits, '_' or '-', at most 64")
    if not path.exists():
        raise fail(f"{path}: no such file or folder")
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
            raise fail(f"{error}; nothing was queued") from error
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
        with connect(settings) as conn:
            done = intake.wait_for_assessments(conn, queued, timeout=timeout, show_progress=True)
        console.print(f"{done}/{len(set(queued))} assessments stored in {time.monotonic() - started:.1f} s")
        if done < len(set(queued)):
            raise fail("not every tile was assessed in time: see `vigia status` and the inference log")


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
    with connect(settings) as conn:
        rows = repo.archived(conn, district=district)
    _let_workers_take_the_champion(settings)
    if not rows:
        raise fail(
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
            raise fail(str(error)) from error
        version = champion.version if champion else None
        started = time.monotonic()
        with connect(settings) as conn:
            done = intake.wait_for_assessments(conn, queued, timeout=timeout, show_progress=True, model_version=version)
        console.print(f"{done}/{len(set(queued))} assessed by {version} in {time.monotonic() - started:.1f} s")
        if done < len(set(queued)):
            raise fail("not every tile was assessed in time: see `vigia status` and the inference log")


@inference_app.command("run")
def inference_run() -> None:
    """Run the inference worker in the foreground."""
    from inference import worker

    worker.run(load_settings())
