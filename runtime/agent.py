"""The shape of every pipeline process: a small agent driven by a runner (agrona Agent).

``on_start`` opens rings and connections, ``do_work`` does one bounded pass and returns how much
it did (0 lets the idle strategy back off), ``on_close`` releases everything. Agents never
sleep or block for long inside ``do_work``: the runner owns waiting, heartbeats and signals.
"""
from __future__ import annotations


class Agent:
    """Base class; subclasses set ``name`` and override the three hooks."""

    name = "agent"
    #: True when do_work itself waits for input (e.g. on a socket, bounded): no idle on top.
    waits_in_work = False

    def on_start(self) -> None:
        """Attach rings, connect, recover state. Raising here fails the start (and is restarted)."""

    def do_work(self) -> int:
        """One pass over the inputs; returns the number of items handled."""
        return 0

    def report(self, counters) -> None:
        """Copy the agent's own figures (laps, malformed frames, latency) into its counters slot.

        Called by the runner at every heartbeat, never on the hot path."""

    def on_close(self) -> None:
        """Release rings and connections; called once, also after an error."""
