# A client's websocket frame (RFC 6455 5.2): header, mask key, masked payload.

# ---- EGRESS ----
# Writes the frame (FIN, ``opcode``) of payload[0:n] masked with key[0:4] into out (n + 14 bytes
# are enough); returns its length.
cdef Py_ssize_t masked_frame_c(unsigned char opcode, const unsigned char *payload, Py_ssize_t n,
                               const unsigned char *key, unsigned char *out) noexcept nogil
