"""A stand-in for the carrier's SMS centre, the one piece of the SMS path no deployment runs.

It speaks Kannel's `fake` SMSC protocol: one TCP connection to bearerbox, one line per
message, `<from> <to> text <words>` (or `data <url-encoded>` when the words are not plain
ASCII, `udh <url-encoded header> <url-encoded data>` for a part of a long message). Every
message Kannel sends to a phone is appended to a JSON-lines log (what the demo prints and
the tests read); a line `<from> <to> <words>` sent to the inject port (loopback) is a phone
writing back, passed to Kannel as a message from that phone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote_plus, unquote_to_bytes

import orjson

log = logging.getLogger(__name__)


class BadLine(ValueError):
    """A line from Kannel that is not a message of the fake SMSC protocol."""


@dataclass(frozen=True)
class Sms:
    sender: str
    receiver: str
    text: str
    udh: bytes = b""


def parse(line: str) -> Sms:
    """One line of the fake SMSC protocol, as Kannel writes it."""
    fields = line.rstrip("\r\n").split(" ", 3)
    if len(fields) < 4:
        raise BadLine(f"expected '<from> <to> <type> <message>', got {line[:60]!r}")
    sender, receiver, kind, rest = fields
    if kind == "text":
        return Sms(sender, receiver, rest)
    if kind == "data":
        return Sms(sender, receiver, _decode(unquote_to_bytes(rest)))
    if kind == "udh":
        header, _, data = rest.partition(" ")
        return Sms(sender, receiver, _decode(unquote_to_bytes(data)), unquote_to_bytes(header))
    raise BadLine(f"unknown message type {kind!r}")


def _decode(data: bytes) -> str:
    """Kannel hands the fake SMSC its internal text: UTF-8, or Latin-1 for what was recoded."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def line(sms: Sms) -> str:
    """The line that hands Kannel a message from a phone."""
    if sms.text.isascii() and sms.text.isprintable() and "\n" not in sms.text:
        return f"{sms.sender} {sms.receiver} text {sms.text}\n"
    return f"{sms.sender} {sms.receiver} data {quote_plus(sms.text.encode())}\n"


class Reassembly:
    """Parts of concatenated messages (UDH IE 0x00: reference, total, sequence) joined back."""

    def __init__(self) -> None:
        self.waiting: dict[tuple[str, int], dict[int, str]] = {}

    def add(self, sms: Sms) -> Sms | None:
        header = sms.udh
        if len(header) < 6 or header[1] != 0x00:
            return sms
        reference, total, sequence = header[3], header[4], header[5]
        key = (sms.receiver, reference)
        parts = self.waiting.setdefault(key, {})
        parts[sequence] = sms.text
        if len(parts) < total:
            return None
        del self.waiting[key]
        return Sms(sms.sender, sms.receiver, "".join(parts[i] for i in sorted(parts)))


class StandInSmsc:
    def __init__(self, kannel_port: int, inject_port: int, log_path: Path, host: str = "127.0.0.1") -> None:
        self.kannel = (host, kannel_port)
        self.inject_port = inject_port
        self.log_path = log_path
        self.outbox: asyncio.Queue[Sms] = asyncio.Queue()
        self.connected = asyncio.Event()
        self.reassembly = Reassembly()

    async def run(self) -> None:
        server = await asyncio.start_server(self._inject, "127.0.0.1", self.inject_port)
        async with server:
            while True:
                try:
                    reader, writer = await asyncio.open_connection(*self.kannel)
                except OSError:
                    await asyncio.sleep(1)  # Kannel is not up yet, or restarting
                    continue
                log.info("connected to Kannel on %s:%s", *self.kannel)
                self.connected.set()
                try:
                    await self._session(reader, writer)
                finally:
                    self.connected.clear()
                    writer.close()
                    with contextlib.suppress(OSError):
                        await writer.wait_closed()
                log.info("Kannel closed the connection; reconnecting")

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def to_kannel() -> None:
            while True:
                sms = await self.outbox.get()
                writer.write(line(sms).encode())
                await writer.drain()

        sending = asyncio.create_task(to_kannel())
        try:
            while raw := await reader.readline():
                try:
                    whole = self.reassembly.add(parse(_decode(raw)))
                except BadLine as error:
                    log.warning("ignored a line from Kannel: %s", error)
                    continue
                if whole is not None:
                    self._record("to-phone", whole)
        finally:
            sending.cancel()

    async def _inject(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """`<from> <to> <words>` per line: a phone writing back."""
        while raw := await reader.readline():
            fields = raw.decode("utf-8", errors="replace").rstrip("\r\n").split(" ", 2)
            if len(fields) < 3:
                writer.write(b"error: expected '<from> <to> <words>'\n")
                continue
            sms = Sms(fields[0], fields[1], fields[2])
            self._record("from-phone", sms)
            await self.outbox.put(sms)
            writer.write(b"ok\n")
            await writer.drain()
        writer.close()

    def _record(self, direction: str, sms: Sms) -> None:
        entry = {"at": datetime.now(UTC).isoformat(), "direction": direction, **asdict(sms)}
        entry.pop("udh")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            out.write(orjson.dumps(entry) + b"\n")


def read_log(path: Path) -> list[dict[str, str]]:
    """Every message the stand-in SMSC passed, oldest first."""
    if not path.exists():
        return []
    return [orjson.loads(raw) for raw in path.read_bytes().splitlines() if raw.strip()]


async def send_from_phone(inject_port: int, sender: str, receiver: str, text: str) -> None:
    """Hand the stand-in SMSC a message typed on a phone."""
    reader, writer = await asyncio.open_connection("127.0.0.1", inject_port)
    writer.write(f"{sender} {receiver} {text}\n".encode())
    await writer.drain()
    answer = (await reader.readline()).decode().strip()
    writer.close()
    if answer != "ok":
        raise BadLine(f"the stand-in SMSC refused the message: {answer or 'no answer'}")
