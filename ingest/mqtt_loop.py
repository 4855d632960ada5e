"""Runs a paho MQTT client on the asyncio event loop instead of in a thread of its own.

With paho's own network thread, every socket read hands the GIL back and forth with the
event loop, and the two threads convoy each other. Driving paho from the event loop through
its socket callbacks (paho's documented external-loop hooks) keeps all of the bridge in one
thread: no locks, no cross-thread wake-ups, and messages arrive in bursts we can batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

log = logging.getLogger("vigia.bridge.mqtt")
PACKETS_PER_WAKEUP = 64  # packets read per readable event before yielding to the loop
MISC_INTERVAL = 1.0  # seconds between keepalive and retry housekeeping


class MqttOnAsyncio:
    """Attach before `connect`; call `reconnect_forever()` to keep the connection up.

    `on_message` should add one to `messages`: that is how a burst read knows when the
    socket has nothing more for it.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, client: mqtt.Client) -> None:
        self.loop = loop
        self.client = client
        self._misc: asyncio.Task[None] | None = None
        self.messages = 0
        client.on_socket_open = self._on_open
        client.on_socket_close = self._on_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write

    def _on_open(self, client: mqtt.Client, userdata: Any, sock: SocketLike) -> None:
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
        # each. A call that delivered no message found the socket empty (or read a control
        # packet): stop, and let the next readable event bring us back.
        for _ in range(PACKETS_PER_WAKEUP):
            before = self.messages
            if self.client.loop_read() != mqtt.MQTT_ERR_SUCCESS or self.messages == before:
                return

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
