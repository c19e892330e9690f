"""The frame reader over a real socket pair: frames cut out of whatever the socket delivers
(split, several at once, fragmented), the protocol's rules enforced, a closed peer named."""
import socket
import struct
import time

import pytest

from venue.frames import OP_PING, OP_TEXT, ConnectionClosed, FrameReader, ProtocolError


def frame(payload: bytes, opcode=OP_TEXT, fin=True, first=None) -> bytes:
    b0 = first if first is not None else (0x80 if fin else 0) | opcode
    n = len(payload)
    if n < 126:
        return bytes((b0, n)) + payload
    if n < 65536:
        return bytes((b0, 126)) + struct.pack("!H", n) + payload
    return bytes((b0, 127)) + struct.pack("!Q", n) + payload


@pytest.fixture
def pair():
    ours, server = socket.socketpair()
    yield FrameReader(ours), server
    ours.close()
    server.close()


def test_a_frame_split_across_reads_is_whole_once_the_rest_arrives(pair):
    reader, server = pair
    data = frame(b'{"channel_name":"ticker.BTC-PERPETUAL.raw"}')
    server.send(data[:3])
    assert reader.read(0.0) is None
    server.send(data[3:])
    assert reader.read(0.5) == (OP_TEXT, b'{"channel_name":"ticker.BTC-PERPETUAL.raw"}')


def test_several_frames_in_one_read_come_out_one_by_one_in_order(pair):
    reader, server = pair
    server.send(frame(b"a") + frame(b"b" * 300) + frame(b"c" * 70_000))
    got = []
    while len(got) < 3:
        f = reader.read(1.0)
        assert f is not None
        got.append(f)
    assert got == [(OP_TEXT, b"a"), (OP_TEXT, b"b" * 300), (OP_TEXT, b"c" * 70_000)]
    assert not reader.readable()


def test_fragments_are_joined_and_a_control_frame_between_them_comes_out_on_its_own(pair):
    reader, server = pair
    server.send(frame(b"hel", fin=False) + frame(b"hi", OP_PING) + frame(b"lo", opcode=0))
    assert reader.read(0.5) == (OP_PING, b"hi")
    assert reader.read(0.5) == (OP_TEXT, b"hello")


@pytest.mark.parametrize("data,what", [
    (bytes((0x81, 0x81)) + b"\x00\x00\x00\x00x", "masked"),
    (frame(b"x", first=0xC1), "reserved bits"),
    (frame(b"p" * 126, OP_PING), "at most 125"),
    (frame(b"x", opcode=0), "continuation"),
    (frame(b"x", first=0x83), "unknown opcode"),
])
def test_a_frame_breaking_the_protocol_is_refused_by_name(pair, data, what):
    reader, server = pair
    server.send(data)
    with pytest.raises(ProtocolError, match=what):
        reader.read(0.5)


def test_a_closed_peer_is_named(pair):
    reader, server = pair
    server.close()
    with pytest.raises(ConnectionClosed):
        reader.read(0.5)


def test_read_waits_at_most_its_timeout(pair):
    reader, _ = pair
    t0 = time.monotonic()
    assert reader.read(0.05) is None
    assert 0.04 <= time.monotonic() - t0 < 1.0
