"""The bridge's paho client reads through a buffer and acknowledges in one write.

Driven over a socket pair with MQTT packets written by hand, so a packet can be split
anywhere and the bytes the client writes back can be read exactly.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from ingest.mqtt_loop import READ_SIZE, BulkClient


def publish(topic: str, payload: bytes, mid: int, qos: int = 1) -> bytes:
    """A PUBLISH packet as a broker sends it (MQTT 3.1.1, section 3.3)."""
    body = struct.pack("!H", len(topic)) + topic.encode() + (struct.pack("!H", mid) if qos else b"") + payload
    length, size = b"", len(body)
    while True:
        size, digit = divmod(size, 128)
        length += bytes([digit | (128 if size else 0)])
        if not size:
            break
    return bytes([0x30 | qos << 1]) + length + body


@pytest.fixture
def wired() -> Iterator[tuple[BulkClient, socket.socket, list[mqtt.MQTTMessage]]]:
    ours, broker = socket.socketpair()
    ours.setblocking(False)
    broker.settimeout(2)
    client = BulkClient(CallbackAPIVersion.VERSION2, client_id="t", manual_ack=True)
    client._sock = ours  # what paho's connect leaves there
    received: list[mqtt.MQTTMessage] = []
    client.on_message = lambda _c, _u, message: received.append(message)
    yield client, broker, received
    ours.close()
    broker.close()


def drain(client: BulkClient) -> None:
    """Read as the bridge's loop does: until the socket is empty and nothing is buffered."""
    while client.loop_read() == mqtt.MQTT_ERR_SUCCESS and client.buffered():
        pass


def test_many_packets_in_one_read_are_all_delivered_in_order(wired: tuple) -> None:
    client, broker, received = wired
    broker.sendall(b"".join(publish(f"vigia/d/s{i}/telemetry", b'{"i": %d}' % i, i + 1) for i in range(50)))
    drain(client)
    assert [(m.topic, m.payload, m.mid) for m in received] == [
        (f"vigia/d/s{i}/telemetry", b'{"i": %d}' % i, i + 1) for i in range(50)
    ]
    assert not client.buffered()


@pytest.mark.parametrize("cut", range(1, 55))  # every byte of the first packet, header to payload
def test_a_packet_split_across_reads_is_delivered_once_whole(wired: tuple, cut: int) -> None:
    client, broker, received = wired
    first, second = publish("vigia/d/a/telemetry", b"x" * 30, 7), publish("vigia/d/b/telemetry", b"y" * 30, 8)
    stream = first + second
    broker.sendall(stream[:cut])
    drain(client)
    assert received == []
    broker.sendall(stream[cut : len(first) + cut])
    drain(client)
    broker.sendall(stream[len(first) + cut :])
    drain(client)
    assert [(m.mid, m.payload) for m in received] == [(7, b"x" * 30), (8, b"y" * 30)]


def test_a_message_larger_than_one_read_arrives_whole(wired: tuple) -> None:
    client, broker, received = wired
    big = bytes(range(256)) * (READ_SIZE // 128)
    broker.setblocking(False)
    data = publish("vigia/d/a/telemetry", big, 3)
    sent = 0
    while sent < len(data):
        try:
            sent += broker.send(data[sent:])
        except BlockingIOError:
            drain(client)
    drain(client)
    assert [m.payload for m in received] == [big]


def test_the_peer_closing_is_a_lost_connection(wired: tuple) -> None:
    client, broker, _ = wired
    broker.close()
    assert client.loop_read() == mqtt.MQTT_ERR_CONN_LOST


def test_ack_many_writes_every_acknowledgement_in_one_send(wired: tuple) -> None:
    client, broker, _ = wired
    assert client.ack_many([(1, 1), (2, 0), (300, 1), (65535, 2)]) == mqtt.MQTT_ERR_SUCCESS
    # PUBACK for QoS 1, nothing for QoS 0, PUBCOMP for QoS 2; ids big-endian.
    assert broker.recv(100) == b"\x40\x02\x00\x01" + b"\x40\x02\x01\x2c" + b"\x70\x02\xff\xff"


def test_ack_many_without_manual_acks_sends_nothing(wired: tuple) -> None:
    client, broker, _ = wired
    client.manual_ack_set(False)
    client.ack_many([(1, 1)])
    broker.setblocking(False)
    with pytest.raises(BlockingIOError):
        broker.recv(100)


def test_a_topic_callback_still_takes_its_messages(wired: tuple) -> None:
    client, broker, received = wired
    alarms: list[str] = []
    client.message_callback_add("vigia/+/alarm/#", lambda _c, _u, message: alarms.append(message.topic))
    broker.sendall(publish("vigia/d/alarm/x", b"1", 1) + publish("vigia/d/s/telemetry", b"2", 2))
    drain(client)
    assert alarms == ["vigia/d/alarm/x"]
    assert [m.topic for m in received] == ["vigia/d/s/telemetry"]
