"""`vigia bridge`: the MQTT-to-Kafka bridge."""

from __future__ import annotations

import typer

from vigia.settings import load_settings

app = typer.Typer(help="The MQTT-to-Kafka bridge.", no_args_is_help=True)


@app.command("run")
def run() -> None:
    """Run the bridge in the foreground."""
    from ingest import bridge

    bridge.run(load_settings())
