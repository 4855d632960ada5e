"""`vigia`: one command for the local stack, composed of every service's own commands.

`up`, `down`, `status`, `restart`, `probe`, `logs`, `init` and `demo` are the local stack's
(`kannel` and `mlflow` run those servers in the foreground, for containers);
`bridge`, `stream`, `inference`, `imagery`, `model`, `train`, `api`, `keys`, `sensors`,
`notifier`, `simulate` and `smsc` come from the services' and the simulator's own `cli.py`.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from api import cli as api_cli
from inference import adapt_cli, model_cli, train_cli
from inference import cli as inference_cli
from ingest import cli as ingest_cli
from notify import cli as notify_cli
from ops import control, demo, logs_cli
from ops.component import StackError
from simulate import cli as simulate_cli
from simulate import phone_cli
from stream import cli as stream_cli
from vigia import dynsec
from vigia.settings import load_settings
from vigia.terminal import console, fail

app = typer.Typer(
    help="Vigía: housing and infrastructure watch for Peru's informal settlements.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,  # plain tracebacks read better in service logs
)
db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
kafka_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
app.add_typer(ingest_cli.app, name="bridge")
app.add_typer(stream_cli.app, name="stream")
app.add_typer(api_cli.api_app, name="api")
app.add_typer(api_cli.keys_app, name="keys")
app.add_typer(api_cli.sensors_app, name="sensors")
app.add_typer(notify_cli.app, name="notifier")
app.add_typer(db_app, name="db")
app.add_typer(kafka_app, name="kafka")
app.command("train")(train_cli.train)
model_cli.model_app.command("adapt")(adapt_cli.model_adapt)
app.add_typer(model_cli.model_app, name="model")
app.add_typer(inference_cli.imagery_app, name="imagery")
app.add_typer(inference_cli.inference_app, name="inference")
app.command("simulate")(simulate_cli.simulate)
app.add_typer(phone_cli.app, name="smsc")
app.command("logs")(logs_cli.show)
app.command("demo")(demo.demo)


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
    infra: Annotated[bool, typer.Option("--infra", help="only the brokers, the database, MLflow and Kannel")] = False,
) -> None:
    """Start the stack in order, each component healthy before the next. Safe to run twice."""
    settings = load_settings()
    names = control.INFRA if infra else (components or None)
    try:
        rows = control.up(settings, names, report=lambda line: console.print(f"[dim]{line}[/dim]"))
    except StackError as error:
        raise fail(error) from error
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
        raise fail(error) from error
    _print_status(rows)


@app.command()
def down(purge: Annotated[bool, typer.Option("--purge", help="also delete data and logs")] = False) -> None:
    """Stop everything `vigia up` started."""
    settings = load_settings()
    try:
        control.down(settings, purge=purge, report=lambda line: console.print(f"[dim]{line}[/dim]"))
    except StackError as error:
        raise fail(error) from error
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
        raise fail(error) from error
    health = target.probe()
    console.print(f"{component}: {'ok' if health.healthy else 'FAIL'}: {health.detail}")
    if not health.healthy:
        raise typer.Exit(code=1)


@app.command("kannel")
def kannel(
    box: Annotated[str, typer.Argument(help="bearerbox (the SMSC side) or smsbox (sendsms and replies)")],
) -> None:
    """Run one of Kannel's boxes in the foreground, configured from the settings: for containers."""
    from ops.kannel import Kannel, SmsBox

    settings = load_settings()
    boxes = {"bearerbox": Kannel, "smsbox": SmsBox}
    if box not in boxes:
        raise fail(f"no Kannel box {box!r}; one of {', '.join(boxes)}")
    try:
        Kannel(settings).prepare()  # both boxes read the one configuration
    except StackError as error:
        raise fail(error) from error
    command = boxes[box](settings).program().command
    os.execv(command[0], command)  # noqa: S606  # the box replaces this process: its signals, its exit


@app.command("certificates")
def certificates_command(
    out: Annotated[Path, typer.Argument(help="where the broker reads tls.crt and tls.key (and devices ca.crt)")],
    host: Annotated[list[str], typer.Option(help="a name devices call the broker by; repeat for several")],
    ca_dir: Annotated[Path, typer.Option(help="where the CA (and its key) is kept")] = Path("/var/lib/vigia/ca"),
    owner: Annotated[int | None, typer.Option(help="uid the broker runs as, which must read the key")] = None,
) -> None:
    """Make (once) a CA and the broker's TLS certificate it signs: for docker-compose, which has no cert-manager."""
    from ops import certificates

    try:
        paths = certificates.ensure(ca_dir, hosts=sorted(set(host)))
        written = certificates.publish(paths, out, owner=owner)
    except (StackError, OSError) as error:
        raise fail(error) from error
    console.print(f"wrote {', '.join(str(p) for p in written)} for {', '.join(sorted(set(host)))}")


@app.command("mlflow")
def mlflow_server() -> None:
    """Run the MLflow tracking server (model registry, training runs) in the foreground: for containers."""
    from ops.mlflow import server_command, server_environment

    settings = load_settings()
    command = server_command(settings)
    environment = {**os.environ, **server_environment(settings)}
    os.execve(command[0], command, environment)  # noqa: S606  # the server replaces this process


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
    topics: Annotated[bool, typer.Option(help="create missing Kafka topics (off where Strimzi makes them)")] = True,
) -> None:
    """Migrate the schema, create the Kafka topics and the broker's service accounts: the one-shot job before
    services start."""
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

    @patient
    def broker_accounts() -> None:
        dynsec.run(settings, dynsec.service_commands(settings))

    console.print(f"migrations applied: {migrate() or 'none pending'}")
    if topics:
        console.print(f"topics created: {create_topics() or 'none missing'}")
    if settings.broker_accounts == "dynsec":
        broker_accounts()
        console.print("broker accounts: the bridge's and the simulator's are set")


@kafka_app.command("topics")
def kafka_topics() -> None:
    """Create any missing topic."""
    from ops.kafka_admin import ensure_topics

    created = asyncio.run(ensure_topics(load_settings()))
    console.print(f"created: {created or 'nothing, all topics exist'}")
