"""Checking a subscribe call's answer against what was asked.

public/subscribe and private/subscribe answer with the list of channels actually subscribed, and
succeed even when none of the names was valid (spec v2.55): an unknown instrument, a typo, a
private channel asked publicly all come back as a shorter list, never as an error. The caller
compares: a missing required channel is a SubscriptionError naming it, a missing optional one is
returned for the caller to log.
"""
from __future__ import annotations

from typing import Callable, Iterable

from venue.errors import SubscriptionError


def missing_channels(asked: Iterable[str], result) -> list[str]:
    """The channels of ``asked`` absent from ``result``; ValueError if ``result`` is no list of names."""
    if type(result) is not list or not all(type(name) is str for name in result):
        raise ValueError(f"subscribe result {result!r:.120}: expected the list of channel names "
                         "subscribed")
    got = set(result)
    return [name for name in asked if name not in got]


def subscribe_checked(subscribe: Callable[[list[str]], object], method: str, channels: list[str],
                      required: Iterable[str]) -> list[str]:
    """Call ``subscribe(channels)`` (a client's public_subscribe or private_subscribe), raise
    SubscriptionError if a channel of ``required`` is missing from the answer; returns the missing
    optional channels."""
    result = subscribe(channels)
    required = set(required)
    needed = [name for name in channels if name in required]
    try:
        missing = missing_channels(channels, result)
    except ValueError as exc:
        raise SubscriptionError(method, needed, f"{result!r:.120}, not a list of names") from exc
    fatal = [name for name in missing if name in needed]
    if fatal:
        raise SubscriptionError(method, fatal, f"{result}")
    return missing
