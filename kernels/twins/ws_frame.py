"""Pure-Python twin of kernels/ws_frame.pyx (the frame is described there)."""
import struct


def masked_frame(payload, key, opcode=1):
    if len(key) != 4:
        raise ValueError(f"mask key of {len(key)} bytes: expected 4")
    if opcode not in (1, 2, 8, 9, 10):
        raise ValueError(f"opcode {opcode}: expected 1 (text), 2 (binary), 8 (close), 9 (ping) or 10 (pong)")
    n = len(payload)
    first = 0x80 | opcode
    if n < 126:
        header = bytes((first, 0x80 | n))
    elif n < 65536:
        header = bytes((first, 0x80 | 126)) + struct.pack("!H", n)
    else:
        header = bytes((first, 0x80 | 127)) + struct.pack("!Q", n)
    mask = (key * (n // 4 + 1))[:n]
    masked = (int.from_bytes(payload, "little") ^ int.from_bytes(mask, "little")).to_bytes(n, "little")
    return header + key + masked
