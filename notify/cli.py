"""`vigia notifier`: alert deliveries to subscribers."""

from __future__ import annotations

import typer

from vigia.settings import load_settings

app = typer.Typer(help="Alert deliveries to subscribers.", no_args_is_help=True)


@app.command("run")
def run() -> None:
    """Deliver alert changes to subscribers, with retries and reminders, in the foreground."""
    from notify import notifier

    notifier.run(load_settings())
