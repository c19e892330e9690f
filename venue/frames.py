"""Websocket frames as a client reads them, without websocket-client's Python layers.

websocket-client reads a frame through five layers of Python calls (recv_data_frame, recv_frame,
recv_header, recv_strict, recv) and an object per frame: about 8 us of a 600-byte ticker's
journey on an idle core, tens on a busy one, on the path of every market record (the feed) and
every fill (the gateway). ``FrameReader`` reads what the socket has into one buffer and cuts
frames out of it (RFC 6455 5.2): the header (2, 4 or 10 bytes), the payload; fragments are
joined; a frame the server masked, reserved bits without an extension, or a control frame that
is fragmented or longer than 125 bytes is a ``ProtocolError`` (the connection cannot be trusted
after it). websocket-client still makes the connection (handshake, TLS) and closes it.
"""
from __future__ import annotations

import select
import ssl

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
RECV_BYTES = 65536


class ProtocolError(Exception):
    """The byte stream broke the websocket protocol."""


class ConnectionClosed(Exception):
    """The peer closed the TCP connection."""


class FrameReader:
    def __init__(self, sock):
        """``sock``: the connected (plain or TLS) socket; set non-blocking here, waits use poll(2)."""
        self.sock = sock
        sock.setblocking(False)
        self.poller = select.poll()
        self.poller.register(sock.fileno(), select.POLLIN)
        self.buf = bytearray()
        self.fragments: list[bytes] = []
        self.fragment_opcode = 0

    def readable(self) -> bool:
        """Bytes are waiting: in our buffer, decrypted in TLS, or on the socket (poll, no wait)."""
        if self.buf:
            return True
        if isinstance(self.sock, ssl.SSLSocket) and self.sock.pending():
            return True
        return bool(self.poller.poll(0))

    def read(self, timeout_s: float) -> tuple[int, bytes] | None:
        """The next whole message or control frame as (opcode, payload), waiting at most
        ``timeout_s`` (0: only what is there now); None if none is complete in time."""
        frame = self._cut()
        if frame is not None:
            return frame
        wait_ms = int(timeout_s * 1000) if timeout_s > 0 else 0
        while True:
            if not self._fill(wait_ms):
                return None
            frame = self._cut()
            if frame is not None:
                return frame
            wait_ms = 0      # part of a frame came: take what follows at once, else come back later

    def _fill(self, wait_ms: int) -> bool:
        """Append what the socket has (waiting up to ``wait_ms``); False when nothing came."""
        sock = self.sock
        if not (isinstance(sock, ssl.SSLSocket) and sock.pending()) and not self.poller.poll(wait_ms):
            return False
        try:
            data = sock.recv(RECV_BYTES)
        except (BlockingIOError, ssl.SSLWantReadError, InterruptedError):
            return False
        if not data:
            raise ConnectionClosed("the peer closed the connection")
        self.buf += data
        return True

    def _cut(self) -> tuple[int, bytes] | None:
        """Take frames out of the buffer until one completes a message (or is a control frame)."""
        while True:
            buf = self.buf
            if len(buf) < 2:
                return None
            b0, b1 = buf[0], buf[1]
            n, at = b1 & 0x7F, 2
            if n == 126:
                if len(buf) < 4:
                    return None
                n, at = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    return None
                n, at = int.from_bytes(buf[2:10], "big"), 10
            if b1 & 0x80:
                raise ProtocolError("the server masked a frame (RFC 6455 5.1: it must not)")
            if b0 & 0x70:
                raise ProtocolError(f"reserved bits 0x{b0 & 0x70:02x} set without an extension")
            if len(buf) < at + n:
                return None
            payload = bytes(buf[at:at + n])
            del buf[:at + n]
            fin, opcode = b0 & 0x80, b0 & 0x0F
            if opcode >= OP_CLOSE:
                if not fin or n > 125:
                    raise ProtocolError(f"control frame 0x{opcode:x}: fragmented or {n} bytes (at most 125)")
                return opcode, payload
            if opcode == OP_CONT:
                if not self.fragments:
                    raise ProtocolError("a continuation frame with no message to continue")
                self.fragments.append(payload)
                if fin:
                    payload, opcode = b"".join(self.fragments), self.fragment_opcode
                    self.fragments = []
                    return opcode, payload
                continue
            if opcode not in (OP_TEXT, OP_BINARY):
                raise ProtocolError(f"unknown opcode 0x{opcode:x}")
            if self.fragments:
                raise ProtocolError("a new message before the fragmented one ended")
            if fin:
                return opcode, payload
            self.fragments, self.fragment_opcode = [payload], opcode
