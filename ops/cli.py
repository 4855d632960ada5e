"""`vigia`: the single entry point for the local stack, the services and the demo."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from pathlib import Path
from typing import Annotated, Any

import httpx
import psycopg
import typer
from rich.console import Console
from rich.table import Table

from inference import cli as inference_cli
from ops import control
from ops.component import StackError
from simulate import simulator
from vigia.settings import Settings, load_settings

app = typer.Typer(
    help="Vigía: housing and infrastructure watch for Peru's informal settlements.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # plain tracebacks read better in service logs
)
bridge_app = typer.Typer(help="The MQTT-to-Kafka bridge.", no_args_is_help=True)
stream_app = typer.Typer(help="The Faust stream worker.", no_args_is_help=True)
api_app = typer.Typer(help="The HTTP API.", no_args_is_help=True)
notifier_app = typer.Typer(help="Alert deliveries to subscribers.", no_args_is_help=True)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
kafka_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
app.add_typer(bridge_app, name="bridge")
app.add_typer(stream_app, name="stream")
app.add_typer(api_app, name="api")
app.add_typer(notifier_app, name="notifier")
app.add_typer(db_app, name="db")
app.add_typer(kafka_app, name="kafka")
sensors_app = typer.Typer(help="The sensor registry and the sensors' MQTT credentials.", no_args_is_help=True)
app.add_typer(sensors_app, name="sensors")
keys_app = typer.Typer(help="API keys: who may read and act through the API.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")
app.command("train")(inference_cli.train)
app.add_typer(inference_cli.model_app, name="model")
app.add_typer(inference_cli.imagery_app, name="imagery")
app.add_typer(inference_cli.inference_app, name="inference")
console = Console(soft_wrap=True)


def _fail(error: Exception) -> typer.Exit:
    console.print(f"[red]error:[/red] {error}")
    return typer.Exit(code=1)


def _print_status(rows: list[control.ComponentStatus]) -> None:
    for row in rows:
        if row.health is None:
            health = ""
        elif row.health.healthy:
            health = f"[green]ok[/green] {row.health.detail}"
        else:
            health = f"[red]FAIL[/red] {row.health.detail}"
        pid = f"pid {row.pid}" if row.pid else ""
        console.print(f"[bold]{row.name:<12}[/bold]{row.state:<9}{pid:<11}{row.endpoint}  {health}")
        version = f"version: {row.version}   " if row.version else ""
        files = f"   files: {row.files}" if row.files else ""
        console.print(f"{'':<12}[dim]{version}log: {row.log}{files}[/dim]")


@app.command()
def up(
    components: Annotated[
        list[str] | None, typer.Argument(help=f"any of {', '.join(control.ALL)}; default all")
    ] = None,
    infra: Annotated[bool, typer.Option("--infra", help="only Mosquitto, Kafka and TimescaleDB")] = False,
) -> None:
    """Start the stack in order, each component healthy before the next. Safe to run twice."""
    settings = load_settings()
    names = control.INFRA if infra else (components or None)
    try:
        rows = control.up(settings, names, report=lambda line: console.print(f"[dim]{line}[/dim]"))
    except StackError as error:
        raise _fail(error) from error
    _print_status(rows)


@app.command()
def restart(
    components: Annotated[list[str], typer.Argument(help=f"any of {', '.join(control.ALL)}")],
) -> None:
    """Stop and start components, e.g. after changing code or settings."""
    settings = load_settings()
    try:
        rows = control.restart(settings, components, report=lambda line: console.print(f"[dim]{line}[/dim]"))
    except StackError as error:
        raise _fail(error) from error
    _print_status(rows)


@app.command()
def down(purge: Annotated[bool, typer.Option("--purge", help="also delete data and logs")] = False) -> None:
    """Stop everything `vigia up` started."""
    settings = load_settings()
    try:
        control.down(settings, purge=purge, report=lambda line: console.print(f"[dim]{line}[/dim]"))
    except StackError as error:
        raise _fail(error) from error
    console.print("stack stopped")


@app.command()
def status() -> None:
    """What runs, where it listens, how healthy it is, and where its log is."""
    _print_status(control.status(load_settings()))


@app.command()
def probe(component: Annotated[str, typer.Argument(help=f"one of {', '.join(control.ALL)}")]) -> None:
    """Exit 0 when the component is healthy, 1 otherwise: for container and orchestrator health checks."""
    try:
        [target] = control.components(load_settings(), [component])
    except StackError as error:
        raise _fail(error) from error
    health = target.probe()
    console.print(f"{component}: {'ok' if health.healthy else 'FAIL'}: {health.detail}")
    if not health.healthy:
        raise typer.Exit(code=1)


def standing(row: dict[str, Any]) -> str:
    """Whether a sensor or an API key still works: revoked, expiring (keys only) or active."""
    if row["revoked_at"]:
        return f"revoked {row['revoked_at']:%Y-%m-%d}"
    if row.get("expires_at"):
        return f"expires {row['expires_at']:%Y-%m-%d %H:%M}"
    return "active"


@sensors_app.command("add")
def sensors_add(
    sensor_id: Annotated[str, typer.Argument(help="e.g. sjl-water-07")],
    sensor_type: Annotated[str, typer.Option("--type", help="water, power, climate, air, structure, flood, gateway")],
    district: Annotated[str, typer.Option(help="district slug, e.g. san-juan-de-lurigancho")],
    lat: Annotated[float, typer.Option(help="latitude, WGS84")],
    lon: Annotated[float, typer.Option(help="longitude, WGS84")],
    metrics: Annotated[str, typer.Option(help="comma-separated metrics; default: the type's")] = "",
) -> None:
    """Register a sensor and issue its MQTT credentials (printed once; adding again re-issues them)."""
    from ingest import provisioning
    from vigia.contracts import Metric

    try:
        chosen = [Metric(m.strip()) for m in metrics.split(",") if m.strip()]
        done = provisioning.add(
            load_settings(),
            sensor_id=sensor_id,
            sensor_type=sensor_type,
            district=district,
            latitude=lat,
            longitude=lon,
            metrics=chosen,
        )
    except (ValueError, StackError) as error:
        raise _fail(error) from error
    console.print(f"sensor {done.sensor_id} in {done.district}, tile {done.tile_id}")
    console.print(f"MQTT username: {done.sensor_id}")
    console.print(f"MQTT password: {done.password}   (shown once)")
    console.print(f"publish to:    {done.topic}  (QoS 1)")


@sensors_app.command("list")
def sensors_list(district: Annotated[str | None, typer.Option(help="only this district")] = None) -> None:
    """The registry, revoked sensors included."""
    from ingest import repo

    settings = load_settings()
    with psycopg.connect(settings.db_conninfo) as conn:
        rows = repo.list_sensors(conn, district=district)
    table = Table(title=f"{len(rows)} sensors")
    for column in ("sensor", "type", "district", "tile", "metrics", "state"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["sensor_id"],
            row["sensor_type"],
            row["district"],
            row["tile_id"],
            ",".join(row["metrics"]),
            standing(row),
        )
    console.print(table)


@sensors_app.command("revoke")
def sensors_revoke(sensor_id: str) -> None:
    """Withdraw a sensor's credentials and refuse its readings from now on."""
    from ingest import provisioning

    if not provisioning.revoke(load_settings(), sensor_id):
        raise _fail(ValueError(f"no active sensor {sensor_id!r}"))
    console.print(f"sensor {sensor_id} revoked")


@keys_app.command("add")
def keys_add(
    role: Annotated[str, typer.Option(help="operator, leader, sensor-admin or viewer")],
    name: Annotated[str, typer.Option(help="whose key it is, e.g. 'Junta vecinal Mz. C'")],
    district: Annotated[str | None, typer.Option(help="a leader's district (leaders only)")] = None,
    days: Annotated[float | None, typer.Option(help="the key stops working after this many days")] = None,
) -> None:
    """Make an API key (printed once: only its hash is kept)."""
    from datetime import timedelta

    from api import keys
    from api.access import Role

    valid_for = timedelta(days=days) if days is not None else None
    try:
        with psycopg.connect(load_settings().db_conninfo) as conn:
            key_id, key = keys.add(conn, role=Role(role), district=district, name=name, valid_for=valid_for)
    except ValueError as error:
        raise _fail(error) from error
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
            row["key_id"],
            row["role"],
            row["district"] or "",
            row["name"],
            f"{row['created_at']:%Y-%m-%d}",
            standing(row),
        )
    console.print(table)


@keys_app.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Stop a key working, at once."""
    from api import keys

    with psycopg.connect(load_settings().db_conninfo) as conn:
        if not keys.revoke(conn, key_id):
            raise _fail(ValueError(f"no active key {key_id!r}"))
    console.print(f"key {key_id} revoked")


@bridge_app.command("run")
def bridge_run() -> None:
    """Run the bridge in the foreground."""
    from ingest import bridge

    bridge.run(load_settings())


@stream_app.command("run")
def stream_run() -> None:
    """Run the Faust worker in the foreground."""
    import sys

    from stream import app as stream

    sys.argv = [sys.argv[0], "worker"]
    stream.run(load_settings())


@api_app.command("run")
def api_run() -> None:
    """Run the API in the foreground."""
    from api import app as api

    api.run(load_settings())


@notifier_app.command("run")
def notifier_run() -> None:
    """Deliver alert changes to subscribers, with retries and reminders, in the foreground."""
    from notify import notifier

    notifier.run(load_settings())


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending schema migrations."""
    from vigia.db.migrate import apply_migrations

    settings = load_settings()
    with psycopg.connect(settings.db_conninfo) as conn:
        applied = apply_migrations(conn)
    console.print(f"applied {len(applied)} migration(s): {[m.name for m in applied]}")


@app.command()
def init(
    wait: Annotated[float, typer.Option(help="seconds to keep retrying while the database or Kafka is away")] = 120.0,
) -> None:
    """Migrate the schema and create the Kafka topics: the one-shot job before services start."""
    from tenacity import retry, stop_after_delay, wait_exponential

    from ops.kafka_admin import ensure_topics
    from vigia.db.migrate import apply_migrations

    settings = load_settings()
    patient = retry(stop=stop_after_delay(wait), wait=wait_exponential(max=5), reraise=True)

    @patient
    def migrate() -> list[str]:
        with psycopg.connect(settings.db_conninfo) as conn:
            return [m.name for m in apply_migrations(conn)]

    @patient
    def create_topics() -> list[str]:
        return asyncio.run(ensure_topics(settings))

    console.print(f"migrations applied: {migrate() or 'none pending'}")
    console.print(f"topics created: {create_topics() or 'none missing'}")


@kafka_app.command("topics")
def kafka_topics() -> None:
    """Create any missing topic."""
    from ops.kafka_admin import ensure_topics

    created = asyncio.run(ensure_topics(load_settings()))
    console.print(f"created: {created or 'nothing, all topics exist'}")


def _simulate(
    settings: Settings, scenario_path: Path, seconds: float | None, *, ending_minutes_ago: float = 0.0
) -> simulator.PublishReport:
    from simulate.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(scenario_path)
    except ScenarioError as error:
        raise _fail(error) from error
    if seconds is not None:
        scenario = scenario.model_copy(update={"duration_hours": seconds / 3600})
    if ending_minutes_ago and not scenario.live:
        scenario = scenario.model_copy(update={"start_hours_ago": scenario.start_hours_ago + ending_minutes_ago / 60})
    total = sum(scenario.sensors.values())
    mode = "live" if scenario.live else f"replaying from {scenario.start_hours_ago:g} h ago"
    console.print(f"scenario {scenario.name}: {total} sensors in {scenario.district.slug}, {mode}")
    with console.status("publishing") as spinner:
        report = simulator.run(
            settings,
            scenario,
            on_progress=lambda r: spinner.update(
                f"published {r.messages} messages ({r.readings} readings, {r.malformed} malformed)"
                + (f", simulated time {r.simulated_until:%Y-%m-%d %H:%M}" if r.simulated_until else "")
            ),
        )
    console.print(
        f"published {report.messages} messages carrying {report.readings} readings"
        f" and {report.malformed} malformed payloads"
    )
    return report


@app.command()
def simulate(
    scenario: Annotated[Path, typer.Option(help="a scenario YAML file, or the name of a bundled one")] = Path(
        "lima-hillside.yaml"
    ),
    seconds: Annotated[float | None, typer.Option(help="override the scenario's duration")] = None,
) -> None:
    """Register a simulated district's sensors and publish its telemetry over MQTT."""
    _simulate(load_settings(), scenario, seconds)


def _stream_counts(settings: Settings) -> tuple[float, float]:
    """(records the stream worker took, readings new to the database), from its Prometheus metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    if not settings.stream_metrics_port:
        return 0.0, 0.0
    try:
        text = httpx.get(f"http://127.0.0.1:{settings.stream_metrics_port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return 0.0, 0.0
    values = {s.name: s.value for f in text_string_to_metric_families(text) for s in f.samples}
    return values.get("vigia_stream_readings_total", 0.0), values.get("vigia_stream_new_readings_total", 0.0)


def _already_stored(settings: Settings, before: tuple[float, float]) -> int:
    """Readings the stream took since `before` whose sensor, metric and time were already stored.

    Replaying yesterday covers the minutes an earlier demo ran live in: those readings land
    on rows the earlier run wrote, and are not lost.
    """
    taken, new = _stream_counts(settings)
    return max(0, int((taken - before[0]) - (new - before[1])))


def _stored_counts(settings: Settings, since: float) -> tuple[int, int]:
    with psycopg.connect(settings.db_conninfo) as conn:
        row = conn.execute(
            """SELECT (SELECT count(*) FROM readings WHERE stored_at >= to_timestamp(%(t)s)),
                      (SELECT count(*) FROM readings_1m WHERE updated_at >= to_timestamp(%(t)s))""",
            {"t": since},
        ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _assess_district_imagery(settings: Settings, scenario_path: Path) -> tuple[int, int]:
    """Queue imagery of the simulated district's sensor tiles and wait for the model's assessments."""
    from datetime import UTC, datetime

    from inference import intake
    from simulate import district_imagery
    from simulate.district_model import place_sensors
    from simulate.scenario import load_scenario

    scenario = load_scenario(scenario_path)
    sensor_tiles = [s.tile_id for s in place_sensors(scenario, settings.tile_zoom)]
    if not (settings.imagery_dir / "ucmerced").is_dir():
        console.print(f"[yellow]no imagery under {settings.imagery_dir}: sensor tiles stay unassessed[/yellow]")
        return 0, 0
    captured = datetime(2026, 1, 15, 15, 0, tzinfo=UTC)  # one fixed survey: a rerun rewrites, never adds
    tiles = district_imagery.district_tiles(
        sensor_tiles,
        imagery_root=settings.imagery_dir / "ucmerced",
        zoom=settings.imagery_zoom,
        seed=scenario.seed,
        captured_at=captured,
    )
    queued = asyncio.run(intake.queue_tiles(settings, tiles, district=scenario.district.slug))
    wanted = len(set(queued))
    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn, console.status("assessing imagery") as spinner:
        deadline = time.monotonic() + 180
        done = intake.stored_count(conn, queued)
        while done < wanted and time.monotonic() < deadline:
            spinner.update(f"the model assessed {done}/{wanted} imagery tiles of {len(set(sensor_tiles))} sensor tiles")
            time.sleep(1)
            done = intake.stored_count(conn, queued)
    console.print(f"imagery: {done}/{wanted} tiles assessed over {len(set(sensor_tiles))} sensor tiles")
    return done, wanted


DEMO_KEY_NAME = "demo page"


def _demo_key(settings: Settings) -> str:
    """An operator key for the demo page; the previous run's is revoked so keys do not pile up."""
    from api import keys
    from api.access import Role

    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
        for old in keys.list_keys(conn):
            if old["name"] == DEMO_KEY_NAME and old["revoked_at"] is None:
                keys.revoke(conn, old["key_id"])
        return keys.add(conn, role=Role.OPERATOR, district=None, name=DEMO_KEY_NAME)[1]


def _subscribe_demo_leader(api: httpx.Client, scenario_path: Path) -> None:
    """The district's leader hears of its alerts through the message log, in Spanish (once per district)."""
    from simulate.scenario import ScenarioError, load_scenario

    try:
        district = load_scenario(scenario_path).district.slug
    except ScenarioError as error:
        raise _fail(error) from error
    existing = api.get("/subscriptions").json()
    if not any(s["district"] == district and s["channel"] == "log" for s in existing):
        api.post(
            "/subscriptions",
            json={"district": district, "channel": "log", "target": f"leader of {district}", "language": "es"},
        ).raise_for_status()


@app.command()
def demo(
    seconds: Annotated[float, typer.Option(help="how long the district publishes")] = 60.0,
    scenario: Annotated[Path, typer.Option(help="a scenario YAML file, or a bundled one")] = Path("live-demo.yaml"),
    history: Annotated[
        str, typer.Option(help="a scenario replayed first, so there is a past to look at; '' for none")
    ] = "lima-hillside.yaml",
) -> None:
    """Start everything, replay the district's last day, run it live for a while, summarise, leave the API up."""
    from ops.services import Api

    settings = load_settings()
    try:
        control.up(settings, report=lambda line: console.print(f"[dim]{line}[/dim]"))
    except StackError as error:
        raise _fail(error) from error
    imagery = _assess_district_imagery(settings, scenario)
    url = Api(settings).url
    key = _demo_key(settings)
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    _subscribe_demo_leader(api, scenario)
    started = time.time()
    taken_before = _stream_counts(settings)
    # The past ends two minutes ago, so none of its readings shares a sensor's second with the live run's.
    past = _simulate(settings, Path(history), None, ending_minutes_ago=2) if history else None
    report = _simulate(settings, scenario, seconds)
    if past is not None:
        report = dataclasses.replace(
            report,
            messages=report.messages + past.messages,
            readings=report.readings + past.readings,
            malformed=report.malformed + past.malformed,
        )
    with console.status("waiting for the stream to store every reading") as spinner:
        deadline = time.monotonic() + 120
        stored, windows = _stored_counts(settings, started)
        absorbed = _already_stored(settings, taken_before)
        while stored + absorbed < report.readings and time.monotonic() < deadline:
            time.sleep(1)
            stored, windows = _stored_counts(settings, started)
            absorbed = _already_stored(settings, taken_before)
            spinner.update(f"stored {stored}/{report.readings} readings")
    table = Table(title="What flowed")
    table.add_column("stage")
    table.add_column("count", justify="right")
    table.add_row("MQTT messages published", str(report.messages))
    table.add_row("readings published", str(report.readings))
    table.add_row("malformed payloads (to dead letters)", str(report.malformed))
    table.add_row("readings stored in TimescaleDB", str(stored))
    if absorbed:
        table.add_row("readings an earlier run had stored (same sensor, metric, time)", str(absorbed))
    table.add_row("one-minute windows written", str(windows))
    table.add_row("imagery tiles assessed by the model", f"{imagery[0]}/{imagery[1]}")
    console.print(table)
    status = api.get("/districts").json()
    for d in status:
        console.print(
            f"{d['district']}: {d['open_alerts']} open alerts ({d['critical_alerts']} critical);"
            f" messages to its leader in {settings.log_dir / 'messages.log'}"
        )
    sample_path = f"/sensors/{report.sensor_ids[0]}/latest"
    response = api.get(sample_path)
    latest = ", ".join(f"{r['metric']} {r['value']} {r['unit']}" for r in response.json().get("readings", []))
    console.print(f"GET {sample_path} -> {response.status_code}: {latest or response.text}")
    console.print(f"web page: {url}/#key={key}")
    console.print(f"API: {url}  (OpenAPI at {url}/docs; send 'Authorization: Bearer {key}')")
    console.print("stop everything with: vigia down")
    if stored + absorbed < report.readings:
        console.print(f"[red]only {stored} of {report.readings} readings arrived; see {settings.log_dir}[/red]")
        raise typer.Exit(code=1)
