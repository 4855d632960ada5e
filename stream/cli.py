"""`vigia stream`: the Faust stream worker."""

from __future__ import annotations

import sys

import typer

from vigia.settings import load_settings

app = typer.Typer(help="The Faust stream worker.", no_args_is_help=True)


@app.command("run")
def run() -> None:
    """Run the Faust worker in the foreground."""
    from stream import app as stream

    sys.argv = [sys.argv[0], "worker"]  # Faust reads its own command line
    stream.run(load_settings())
