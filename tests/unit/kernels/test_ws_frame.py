"""The websocket text frame kernel writes exactly what websocket-client would send."""
import os

import pytest
from websocket import ABNF


def reference(payload: bytes, key: bytes) -> bytes:
    frame = ABNF.create_frame(payload, ABNF.OPCODE_TEXT)
    frame.get_mask_key = lambda n: key
    return frame.format()


@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 125, 126, 127, 65535, 65536, 70001])
def test_the_frame_is_websocket_clients_byte_for_byte(K, n):
    payload, key = os.urandom(n), os.urandom(4)
    assert K.text_frame(payload, key) == reference(payload, key)


def test_unmasking_with_the_key_gives_the_payload_back(K):
    payload, key = b'{"method":"private/mass_quote","id":5}', b"\x9a\x01\xff\x10"
    frame = K.text_frame(payload, key)
    assert frame[0] == 0x81 and frame[1] == 0x80 | len(payload) and frame[2:6] == key
    assert bytes(b ^ key[i % 4] for i, b in enumerate(frame[6:])) == payload


def test_a_mask_key_that_is_not_four_bytes_is_refused(K):
    with pytest.raises(ValueError, match="mask key"):
        K.text_frame(b"x", b"abc")
