"""What every service's command line shares: one console, and one way to stop with a one-line reason."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console(soft_wrap=True)


def fail(error: Exception | str) -> typer.Exit:
    """Print `error: <reason>` and give the exit to raise: a person reads one line, not a traceback."""
    console.print(f"[red]error:[/red] {error}")
    return typer.Exit(code=1)
