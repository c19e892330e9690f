"""Pure-Python twin of kernels/ws_frame.pyx (the frame is described there)."""
import struct


def text_frame(payload, key):
    if len(key) != 4:
        raise ValueError(f"mask key of {len(key)} bytes: expected 4")
    n = len(payload)
    if n < 126:
        header = bytes((0x81, 0x80 | n))
    elif n < 65536:
        header = bytes((0x81, 0x80 | 126)) + struct.pack("!H", n)
    else:
        header = bytes((0x81, 0x80 | 127)) + struct.pack("!Q", n)
    mask = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(mask, "little")).to_bytes(n, "little")
    return header + key + masked
