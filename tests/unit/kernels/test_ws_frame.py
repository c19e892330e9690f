"""The websocket frame kernel writes exactly what websocket-client would send."""
import os

import pytest
from websocket import ABNF


def reference(payload: bytes, key: bytes, opcode=ABNF.OPCODE_TEXT) -> bytes:
    frame = ABNF.create_frame(payload, opcode)
    frame.get_mask_key = lambda n: key
    return frame.format()


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 125, 126, 127, 65535, 65536, 70001])
def test_the_frame_is_websocket_clients_byte_for_byte(K, n):
    payload, key = os.urandom(n), os.urandom(4)
    assert K.masked_frame(payload, key) == reference(payload, key)


def test_unmasking_with_the_key_gives_the_payload_back(K):
    payload, key = b'{"method":"private/mass_quote","id":5}', b"\x9a\x01\xff\x10"
    frame = K.masked_frame(payload, key)
    assert frame[0] == 0x81 and frame[1] == 0x80 | len(payload) and frame[2:6] == key
    assert bytes(b ^ key[i % 4] for i, b in enumerate(frame[6:])) == payload


def test_a_mask_key_that_is_not_four_bytes_is_refused(K):
    with pytest.raises(ValueError, match="mask key"):
        K.masked_frame(b"x", b"abc")


@pytest.mark.parametrize("opcode", [ABNF.OPCODE_PING, ABNF.OPCODE_PONG, ABNF.OPCODE_CLOSE])
def test_control_frames_too(K, opcode):
    payload, key = b"\x03\xe8bye", os.urandom(4)
    assert K.masked_frame(payload, key, opcode) == reference(payload, key, opcode)


def test_an_opcode_that_is_not_a_frame_kind_is_refused(K):
    with pytest.raises(ValueError, match="opcode"):
        K.masked_frame(b"x", b"abcd", 3)
