"""`vigia demo`: the whole pipeline on a simulated district, from an empty checkout to an answering API.

It starts the stack, has the model assess the district's imagery, replays the district's
last day and runs it live for a while, waits until every reading is stored, prints what
flowed and the SMS its leader got and answered, and leaves everything running with the
page's address and an operator key.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Annotated

import httpx
import psycopg
import typer
from rich.table import Table

from ops import control, demo_phone
from ops.component import StackError
from ops.services import Api
from simulate.cli import publish
from simulate.survey import assess_district_imagery
from vigia.settings import Settings, load_settings
from vigia.terminal import console, fail


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


DEMO_KEY_NAME = "demo page"
STALL_SECONDS = 60  # the demo gives up waiting for readings after this long without one stored


def _demo_key(settings: Settings) -> str:
    """An operator key for the demo page; the previous run's is revoked so keys do not pile up."""
    from api import keys
    from api.access import Role

    with psycopg.connect(settings.db_conninfo, autocommit=True) as conn:
        for old in keys.list_keys(conn):
            if old["name"] == DEMO_KEY_NAME and old["revoked_at"] is None:
                keys.revoke(conn, old["key_id"])
        return keys.add(conn, role=Role.OPERATOR, district=None, name=DEMO_KEY_NAME)[1]


def _district(scenario_path: Path) -> str:
    from simulate.scenario import ScenarioError, load_scenario

    try:
        return load_scenario(scenario_path).district.slug
    except ScenarioError as error:
        raise fail(error) from error


def demo(
    seconds: Annotated[float, typer.Option(help="how long the district publishes")] = 60.0,
    scenario: Annotated[Path, typer.Option(help="a scenario YAML file, or a bundled one")] = Path("live-demo.yaml"),
    history: Annotated[
        str, typer.Option(help="a scenario replayed first, so there is a past to look at; '' for none")
    ] = "lima-hillside.yaml",
) -> None:
    """Start everything, replay the district's last day, run it live for a while, summarise, leave the API up."""
    settings = load_settings()
    try:
        control.up(settings, report=lambda line: console.print(f"[dim]{line}[/dim]"))
    except StackError as error:
        raise fail(error) from error
    imagery = assess_district_imagery(settings, scenario)
    url = Api(settings).url
    key = _demo_key(settings)
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=10)
    demo_phone.subscribe_leader(api, _district(scenario))
    started = time.time()
    taken_before = _stream_counts(settings)
    # The past ends two minutes ago, so none of its readings shares a sensor's second with the live run's.
    past = publish(settings, Path(history), None, ending_minutes_ago=2) if history else None
    report = publish(settings, scenario, seconds)
    if past is not None:
        report = dataclasses.replace(
            report,
            messages=report.messages + past.messages,
            readings=report.readings + past.readings,
            malformed=report.malformed + past.malformed,
        )
    with console.status("waiting for the stream to store every reading") as spinner:
        # Waits while the stream makes progress: a replay over an earlier run's windows is slower.
        stalled_since = time.monotonic()
        stored, windows = _stored_counts(settings, started)
        absorbed = _already_stored(settings, taken_before)
        while stored + absorbed < report.readings and time.monotonic() - stalled_since < STALL_SECONDS:
            time.sleep(1)
            before = stored + absorbed
            stored, windows = _stored_counts(settings, started)
            absorbed = _already_stored(settings, taken_before)
            if stored + absorbed > before:
                stalled_since = time.monotonic()
            spinner.update(f"stored {stored + absorbed}/{report.readings} readings")
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
        console.print(f"{d['district']}: {d['open_alerts']} open alerts ({d['critical_alerts']} critical)")
    demo_phone.leader_answers(settings, started)
    sample_path = f"/sensors/{report.sensor_ids[0]}/latest"
    response = api.get(sample_path)
    latest = ", ".join(f"{r['metric']} {r['value']} {r['unit']}" for r in response.json().get("readings", []))
    console.print(f"GET {sample_path} -> {response.status_code}: {latest or response.text}")
    console.print(f"web page: {url}/#key={key}")
    console.print(f"API: {url}  (OpenAPI at {url}/docs; send 'Authorization: Bearer {key}')")
    console.print(f"model registry and training runs (MLflow): {settings.mlflow_tracking_uri}")
    console.print("stop everything with: vigia down")
    if stored + absorbed < report.readings:
        console.print(f"[red]only {stored} of {report.readings} readings arrived; see {settings.log_dir}[/red]")
        raise typer.Exit(code=1)
