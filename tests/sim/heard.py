"""What a ThalexClient heard: every notification of the channels asked for, kept per channel."""
from __future__ import annotations

import time
from collections import defaultdict


class Heard:
    """Registers a handler for each channel prefix; ``wait`` polls the client until a
    notification of ``channel`` satisfies ``predicate(notification)`` and returns it."""

    def __init__(self, client, *prefixes: str):
        self.client = client
        self.frames: dict[str, list[dict]] = defaultdict(list)
        for prefix in prefixes:
            client.on(prefix, self._on)

    def _on(self, channel, notification, frame) -> None:
        self.frames[channel].append(frame)

    def wait(self, channel: str, predicate=lambda n: True, timeout_s: float = 10.0):
        deadline = time.monotonic() + timeout_s
        while True:
            for frame in self.frames[channel]:
                if predicate(frame["notification"]):
                    return frame["notification"]
            if time.monotonic() > deadline:
                raise AssertionError(f"no matching notification on {channel} within {timeout_s} s; "
                                     f"heard {len(self.frames[channel])}")
            self.client.poll(0.05)
