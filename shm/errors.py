"""Exceptions of shm/, raised only at the Python boundary (the hot path returns codes)."""


class ShmError(Exception):
    """Base class for shared-memory errors."""


class SegmentExistsError(ShmError, FileExistsError):
    """A segment of that name already exists (another instance, or a leak to sweep)."""


class SegmentNotFoundError(ShmError, FileNotFoundError):
    """No segment of that name: its owner has not created it yet, or has unlinked it."""


class LayoutMismatchError(ShmError):
    """A segment's header disagrees with what the attaching code expects."""


class RecordSizeError(ShmError, ValueError):
    """An array handed to a ring does not hold records of the ring's size."""


class RingLappedError(ShmError):
    """A strict broadcast reader fell more than a ring's capacity behind and lost records."""

    def __init__(self, name: str, missed: int, read: int = 0):
        # ``read``: records a batch read delivered before the lap (valid, in order: use them)
        self.name, self.missed, self.read = name, missed, read
        super().__init__(f"reader of {name} was lapped: {missed} records overwritten before they were read")
