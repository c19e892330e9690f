"""Walk-forward windows: which part of the data a run replays, in exchange time (ns).

``--train START..END`` and ``--test START..END``: each bound is an offset from the data's first
event (``0``, ``90s``, ``40m``, ``1.5h``, ``2d``) or a UTC time (``2023-11-14T22:40:00``); an
empty bound is the data's start or end; ``START:END`` also works when neither bound is a time of
day. ``--split F``: the first fraction F of the data's time span trains, the rest tests. A run on
a window starts fresh at its start (flat, estimators on their priors) like a live start.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

import numpy as np

UNITS_NS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000, "d": 86_400_000_000_000}
_OFFSET = re.compile(r"^(\d+(?:\.\d*)?|\.\d+)([smhd]?)$")


class WindowError(ValueError):
    """A --train, --test or --split argument that names no usable part of the data."""


@dataclass(frozen=True)
class Window:
    """[start_ns, end_ns) of exchange time; None: the whole data set (no cut at all)."""
    part: str                     # "all", "train" or "test"
    start_ns: int | None = None
    end_ns: int | None = None

    def label(self, span: tuple[int, int] | None = None) -> str:
        """The window as UTC times and hours; ``span`` (first, last event, ns) names all the data."""
        if self.start_ns is None:
            return "all data" + (f": {Window('all', span[0], span[1]).label()}" if span else "")
        fmt = lambda ns: datetime.datetime.fromtimestamp(ns / 1e9, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
        return f"{fmt(self.start_ns)} .. {fmt(self.end_ns)} UTC ({(self.end_ns - self.start_ns) / 3.6e12:.2f} h)"


def _bound(text: str, flag: str, t0: int, default: int) -> int:
    text = text.strip()
    if not text:
        return default
    m = _OFFSET.match(text)
    if m:
        if not m.group(2) and float(m.group(1)) != 0:
            raise WindowError(f"{flag} {text!r}: expected a unit (s, m, h or d) after a non-zero offset")
        return t0 + int(round(float(m.group(1)) * UNITS_NS.get(m.group(2) or "s")))
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise WindowError(f"{flag} {text!r}: expected an offset from the data's start (40m, 1.5h, 2d) "
                          "or a UTC time (2023-11-14T22:40:00)") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return int(round(when.timestamp() * 1e9))


def parse_span(text: str, flag: str, part: str, t0: int, t1: int) -> Window:
    """``START..END`` (or ``START:END``) within the data's [t0, t1] exchange times (ns)."""
    if ".." in text:
        start, end = text.split("..", 1)
    elif text.count(":") == 1:
        start, end = text.split(":")
    else:
        raise WindowError(f"{flag} {text!r}: expected START..END, e.g. 0..40m or 2023-11-14T22:00..2023-11-14T23:00")
    w = Window(part, _bound(start, flag, t0, t0), _bound(end, flag, t0, t1 + 1))
    if w.end_ns <= w.start_ns:
        raise WindowError(f"{flag} {text!r}: the end is not after the start")
    if w.end_ns <= t0 or w.start_ns > t1:
        raise WindowError(f"{flag} {text!r}: outside the data ({Window('x', t0, t1).label()})")
    return w


def split(fraction: float, t0: int, t1: int) -> tuple[Window, Window]:
    """The first ``fraction`` of [t0, t1] trains, the rest tests."""
    if not 0.0 < fraction < 1.0:
        raise WindowError(f"--split {fraction}: expected a fraction between 0 and 1 (0.7 = first 70 % trains)")
    cut = t0 + int(round((t1 - t0) * fraction))
    return Window("train", t0, cut), Window("test", cut, t1 + 1)


def cut(chunks, window: Window) -> list:
    """The events of ``chunks`` inside ``window`` (the chunks themselves for the whole data)."""
    if window.start_ns is None:
        return list(chunks)
    out = []
    for c in chunks:
        ts = c["exch_ts"]
        keep = c[(ts >= window.start_ns) & (ts < window.end_ns)]
        if len(keep):
            out.append(np.ascontiguousarray(keep))
    return out
