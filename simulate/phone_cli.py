"""`vigia smsc`: the stand-in carrier SMSC of the local stack, and a phone to write back with."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from simulate import smsc
from vigia import logs
from vigia.heartbeat import beat_forever, heartbeat_path
from vigia.phones import BadPhoneNumber, normalise
from vigia.settings import Settings, load_settings
from vigia.terminal import console, fail

app = typer.Typer(help="The stand-in carrier SMSC Kannel sends to on this machine.", no_args_is_help=True)


def log_path(settings: Settings) -> Path:
    return settings.log_dir / "smsc-messages.jsonl"


@app.command("run")
def run() -> None:
    """Play the carrier's SMS centre for Kannel, in the foreground."""
    settings = load_settings()
    logs.setup("smsc")
    centre = smsc.StandInSmsc(settings.kannel_fake_smsc_port, settings.smsc_inject_port, log_path(settings))

    async def serve() -> None:
        beating = asyncio.create_task(
            beat_forever(heartbeat_path(settings.state_dir, "smsc"), alive=centre.connected.is_set)
        )
        try:
            await centre.run()
        finally:
            beating.cancel()

    asyncio.run(serve())


@app.command("log")
def show(last: Annotated[int, typer.Option(help="how many of the newest messages")] = 20) -> None:
    """The messages that went through the stand-in SMSC, newest last."""
    for entry in smsc.read_log(log_path(load_settings()))[-last:]:
        arrow = "->" if entry["direction"] == "to-phone" else "<-"
        phone = entry["receiver"] if entry["direction"] == "to-phone" else entry["sender"]
        console.print(f"{entry['at'][11:19]} {arrow} {phone}: {entry['text']}", highlight=False, markup=False)


@app.command("reply")
def reply(
    sender: Annotated[str, typer.Argument(help="the phone writing, e.g. +51987654321")],
    text: Annotated[str, typer.Argument(help="what it writes, e.g. 'OK 4821'")],
) -> None:
    """Write to Vigía's SMS number from a phone, as a leader answering an alert does."""
    settings = load_settings()
    try:
        number = normalise(sender)
    except BadPhoneNumber as error:
        raise fail(error) from error
    try:
        asyncio.run(smsc.send_from_phone(settings.smsc_inject_port, number, settings.sms_sender, text))
    except OSError:
        raise fail("the stand-in SMSC is not running; start the stack with `vigia up`") from None
    except smsc.BadLine as error:
        raise fail(error) from error
    console.print(f"sent from {number}: {text}")
