# A client's websocket text frame (RFC 6455 5.2): header, mask key, masked payload.

# ---- EGRESS ----
# Writes the frame of payload[0:n] masked with key[0:4] into out (n + 14 bytes are enough);
# returns its length.
cdef Py_ssize_t text_frame_c(const unsigned char *payload, Py_ssize_t n, const unsigned char *key,
                             unsigned char *out) noexcept nogil
