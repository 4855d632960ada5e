"""Runs a paho MQTT client on the asyncio event loop instead of in a thread of its own.

With paho's own network thread, every socket read hands the GIL back and forth with the
event loop, and the two threads convoy each other. Driving paho from the event loop through
its socket callbacks (paho's documented external-loop hooks) keeps all of the bridge in one
thread: no locks, no cross-thread wake-ups, and messages arrive in bursts we can batch.

`BulkClient` takes off three costs that are not paho's work on a message but bookkeeping
around it, each found in profiles of the bridge draining a backlog:
- paho reads a packet in at least three `recv` calls (its type byte, its length byte by
  byte, then its body); they are served from one large read;
- paho walks its tree of per-topic callbacks for every message, through a generator, even
  when there are none; with none, the walk is skipped;
- each acknowledgement is a packet of its own to queue and a `send` of four bytes, which
  with Nagle off is a TCP segment for Mosquitto to take in; `ack_many` queues a batch's
  acknowledgements as one write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.matcher import MQTTMatcher

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

log = logging.getLogger("vigia.bridge.mqtt")
PACKETS_PER_WAKEUP = 64  # packets read per readable event before yielding to the loop
MISC_INTERVAL = 1.0  # seconds between keepalive and retry housekeeping
READ_SIZE = 65_536  # bytes asked of the socket per read: hundreds of small packets
_ACK = struct.Struct("!BBH")  # an acknowledgement: type, remaining length 2, packet id
_ACK_COMMAND = {1: int(mqtt.PUBACK), 2: int(mqtt.PUBCOMP)}


class _Filters(MQTTMatcher):
    """paho's per-topic callbacks, with the walk skipped while there are none."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # paho's matcher is untyped

    def iter_match(self, topic: str) -> Iterator[Any]:
        if not self._root._children:
            return iter(())
        return super().iter_match(topic)  # type: ignore[no-untyped-call,no-any-return]


class BulkClient(mqtt.Client):
    """A paho client for a consumer that takes messages in bulk and acknowledges them in bulk.

    It overrides one private read hook of paho's, `_sock_recv`, which every read goes
    through (plain, TLS and WebSocket alike), and gives paho a callback matcher of its own
    class. paho is pinned in the lock file; the bridge's integration tests run through both
    against a real Mosquitto.

    Whoever drives the client must call `loop_read` again while `buffered()` is true: those
    bytes left the socket, so it will not turn readable for them.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._on_message_filtered = _Filters()
        self._read_buffer = b""
        self._read_at = 0

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._read_at >= len(self._read_buffer):
            self._read_buffer, self._read_at = super()._sock_recv(max(bufsize, READ_SIZE)), 0
            if not self._read_buffer:
                return b""  # the peer closed: paho sees the empty read it expects
        start = self._read_at
        self._read_at = end = min(start + bufsize, len(self._read_buffer))
        return self._read_buffer[start:end]

    def buffered(self) -> bool:
        """Whether bytes read from the socket are still waiting for paho."""
        return self._read_at < len(self._read_buffer)

    def forget_buffered(self) -> None:
        """Drop what the last connection left unread: a new one starts on a packet boundary."""
        self._read_buffer, self._read_at = b"", 0

    def ack_many(self, messages: Iterable[tuple[int, int]]) -> MQTTErrorCode:
        """`ack` each (mid, qos) as `ack` would (PUBACK for QoS 1, PUBCOMP for 2), in one write."""
        if not self._manual_ack:
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        packets = b"".join(_ACK.pack(_ACK_COMMAND[qos], 2, mid) for mid, qos in messages if qos in _ACK_COMMAND)
        if not packets:
            return MQTTErrorCode.MQTT_ERR_SUCCESS
        return self._packet_queue(mqtt.PUBACK, packets, 0, 0)


class MqttOnAsyncio:
    """Attach before `connect`; call `reconnect_forever()` to keep the connection up.

    `on_message` should add one to `messages`: that is how a burst read knows when the
    socket has nothing more for it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, client: BulkClient) -> None:
        self.loop = loop
        self.client = client
        self._misc: asyncio.Task[None] | None = None
        self.messages = 0
        client.on_socket_open = self._on_open
        client.on_socket_close = self._on_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write

    def _on_open(self, client: mqtt.Client, userdata: Any, sock: SocketLike) -> None:
        self.client.forget_buffered()
        self.loop.add_reader(sock, self._read)
        self._misc = self.loop.create_task(self._housekeeping())

    def _on_close(self, client: mqtt.Client, userdata: Any, sock: SocketLike) -> None:
        self.loop.remove_reader(sock)
        self.loop.remove_writer(sock)
        if self._misc is not None:
            self._misc.cancel()

    def _on_register_write(self, client: mqtt.Client, userdata: Any, sock: SocketLike) -> None:
        self.loop.add_writer(sock, self.client.loop_write)

    def _on_unregister_write(self, client: mqtt.Client, userdata: Any, sock: SocketLike) -> None:
        self.loop.remove_writer(sock)

    def _read(self) -> None:
        # paho reads one packet per call; a burst is drained here instead of one loop turn
        # each. Stop when a call delivered no message and nothing is left in the buffer: the
        # socket was empty (or the packet was a control packet), and the next readable event
        # brings us back. Bytes still buffered after the budget are read on the next turn.
        client = self.client
        for _ in range(PACKETS_PER_WAKEUP):
            before = self.messages
            if client.loop_read() != mqtt.MQTT_ERR_SUCCESS:
                return
            if self.messages == before and not client.buffered():
                return
        if client.buffered():
            self.loop.call_soon(self._read)

    async def _housekeeping(self) -> None:
        """Keepalive pings and retries of unacknowledged packets, as paho's own loop would do."""
        while True:
            if self.client.loop_misc() != mqtt.MQTT_ERR_SUCCESS:
                return
            await asyncio.sleep(MISC_INTERVAL)

    async def reconnect_forever(self, stopping: asyncio.Event, min_delay: float = 1, max_delay: float = 10) -> None:
        """Connect, and connect again whenever the broker goes away, until `stopping` is set."""
        delay = min_delay
        while not stopping.is_set():
            if not self.client.is_connected() and self.client.socket() is None:
                try:
                    self.client.reconnect()
                    delay = min_delay
                except OSError as error:
                    log.warning("MQTT connect failed (%s); retrying in %.0f s", error, delay)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stopping.wait(), delay)
                    delay = min(delay * 2, max_delay)
                    continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), 0.5)
