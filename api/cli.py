"""`vigia api`, `vigia keys` and `vigia sensors`: the API and the registries it serves."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

import psycopg
import typer
from rich.table import Table

from vigia.contracts import Metric, SensorType
from vigia.settings import load_settings
from vigia.terminal import console, fail

api_app = typer.Typer(help="The HTTP API.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys: who may read and act through the API.", no_args_is_help=True)
sensors_app = typer.Typer(help="The sensor registry and the sensors' MQTT credentials.", no_args_is_help=True)


def standing(row: dict[str, Any]) -> str:
    """Whether a sensor or an API key still works: revoked, expiring (keys only) or active."""
    if row["revoked_at"]:
        return f"revoked {row['revoked_at']:%Y-%m-%d}"
    if row.get("expires_at"):
        return f"expires {row['expires_at']:%Y-%m-%d %H:%M}"
    return "active"


@api_app.command("run")
def api_run() -> None:
    """Run the API in the foreground."""
    from api import app

    app.run(load_settings())


@sensors_app.command("add")
def sensors_add(
    sensor_id: Annotated[str, typer.Argument(help="e.g. sjl-water-07")],
    sensor_type: Annotated[str, typer.Option("--type", help=", ".join(SensorType))],
    district: Annotated[str, typer.Option(help="district slug, e.g. san-juan-de-lurigancho")],
    lat: Annotated[float, typer.Option(help="latitude, WGS84")],
    lon: Annotated[float, typer.Option(help="longitude, WGS84")],
    metrics: Annotated[str, typer.Option(help="comma-separated metrics; default: the type's")] = "",
    place: Annotated[str, typer.Option(help="how neighbours name where it stands: 'Mz. C, AA.HH. Villa Hermosa'")] = "",
) -> None:
    """Register a sensor and issue its MQTT credentials (printed once; adding again re-issues them)."""
    from api import provisioning
    from vigia.accounts import BrokerAccountsError, load_accounts

    settings = load_settings()
    try:
        chosen = [Metric(m.strip()) for m in metrics.split(",") if m.strip()]
        done = provisioning.add(
            settings,
            load_accounts(settings),
            sensor_id=sensor_id,
            sensor_type=sensor_type,
            district=district,
            latitude=lat,
            longitude=lon,
            metrics=chosen,
            place=place,
        )
    except (ValueError, BrokerAccountsError) as error:
        raise fail(error) from error
    console.print(f"sensor {done.sensor_id} in {done.district}, tile {done.tile_id}")
    console.print(f"MQTT username: {done.sensor_id}")
    console.print(f"MQTT password: {done.password}   (shown once)")
    console.print(f"publish to:    {done.topic}  (QoS 1)")


@sensors_app.command("list")
def sensors_list(district: Annotated[str | None, typer.Option(help="only this district")] = None) -> None:
    """The registry, revoked sensors included."""
    from vigia import registry

    with psycopg.connect(load_settings().db_conninfo) as conn:
        rows = registry.list_sensors(conn, district=district)
    table = Table(title=f"{len(rows)} sensors")
    for column in ("sensor", "type", "district", "tile", "metrics", "state"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["sensor_id"], row["sensor_type"], row["district"], row["tile_id"], ",".join(row["metrics"]),
            standing(row),
        )  # fmt: skip
    console.print(table)


@sensors_app.command("revoke")
def sensors_revoke(sensor_id: str) -> None:
    """Withdraw a sensor's credentials and refuse its readings from now on."""
    from api import provisioning
    from vigia.accounts import BrokerAccountsError, load_accounts

    settings = load_settings()
    try:
        found = provisioning.revoke(settings, load_accounts(settings), sensor_id)
    except BrokerAccountsError as error:
        raise fail(error) from error
    if not found:
        raise fail(f"no active sensor {sensor_id!r}")
    console.print(f"sensor {sensor_id} revoked")


@keys_app.command("add")
def keys_add(
    role: Annotated[str, typer.Option(help="operator, leader, sensor-admin or viewer")],
    name: Annotated[str, typer.Option(help="whose key it is, e.g. 'Junta vecinal Mz. C'")],
    district: Annotated[str | None, typer.Option(help="a leader's district (leaders only)")] = None,
    days: Annotated[float | None, typer.Option(help="the key stops working after this many days")] = None,
) -> None:
    """Make an API key (printed once: only its hash is kept)."""
    from api import keys
    from api.access import Role

    valid_for = timedelta(days=days) if days is not None else None
    try:
        with psycopg.connect(load_settings().db_conninfo) as conn:
            key_id, key = keys.add(conn, role=Role(role), district=district, name=name, valid_for=valid_for)
    except ValueError as error:
        raise fail(error) from error
    console.print(f"key {key_id} ({role}{f', {district}' if district else ''}) for {name}")
    console.print(f"API key: {key}   (shown once)")


@keys_app.command("list")
def keys_list() -> None:
    """Every key, revoked ones included; never the secrets."""
    from api import keys

    with psycopg.connect(load_settings().db_conninfo) as conn:
        rows = keys.list_keys(conn)
    table = Table(title=f"{len(rows)} API keys")
    for column in ("key", "role", "district", "name", "created", "state"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["key_id"], row["role"], row["district"] or "", row["name"], f"{row['created_at']:%Y-%m-%d}",
            standing(row),
        )  # fmt: skip
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Stop a key working, at once."""
    from api import keys

    with psycopg.connect(load_settings().db_conninfo) as conn:
        if not keys.revoke(conn, key_id):
            raise fail(f"no active key {key_id!r}")
    console.print(f"key {key_id} revoked")
