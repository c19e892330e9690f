"""Named shared-memory segments: create (owner), attach (everyone else), unlink, sweep.

Segments live in /dev/shm as ``mm.<instance>.<name>``, the names POSIX shm_open would give, so
``ls /dev/shm`` shows them and a sweep can find the ones whose owner died. We map the files
ourselves instead of using ``multiprocessing.shared_memory``: Python 3.11's resource tracker
unlinks a SharedMemory segment when *any* process that touched it exits, which would pull a ring
from under the processes still using it. Here only the owner unlinks, and only from the process
that created the segment (a forked child inherits the object but not the ownership).
"""
from __future__ import annotations

import mmap
import os
import re
import time
from pathlib import Path

from shm.descriptor import (HEADER_STRUCT, KIND_NAMES, LAYOUT_VERSION, MAGIC, NAME_BYTES, Layout)
from shm.errors import LayoutMismatchError, SegmentExistsError, SegmentNotFoundError, ShmError

SHM_DIR = Path(os.environ.get("MM_SHM_DIR", "/dev/shm"))
PREFIX = "mm."
_PART = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def segment_name(instance: str, name: str) -> str:
    """``mm.<instance>.<name>``; each part is 1-32 of [A-Za-z0-9_-]."""
    for what, part in (("instance", instance), ("name", name)):
        if not _PART.match(part):
            raise ValueError(f"{what}={part!r}: expected 1-32 characters from [A-Za-z0-9_-]")
    return f"{PREFIX}{instance}.{name}"


class Segment:
    """One mapped segment. ``buf`` is the writable mmap; ``layout`` says where everything is."""

    def __init__(self, name: str, buf: mmap.mmap, layout: Layout, owner: bool, owner_pid: int,
                 created_wall_ns: int = 0):
        self.name, self.buf, self.layout = name, buf, layout
        self.owner = owner
        self.owner_pid = owner_pid
        # (owner_pid, created_wall_ns) tells one incarnation of a name from the next: a sequence
        # remembered from a ring is only meaningful in the ring it came from.
        self.created_wall_ns = created_wall_ns
        self._creator_pid = os.getpid() if owner else None
        self._unlinked = False

    # ---- lifecycle ----------------------------------------------------------------------
    @classmethod
    def create(cls, name: str, kind: int, record_size: int, capacity: int) -> "Segment":
        """Create and own a zeroed segment; raises SegmentExistsError if the name is taken."""
        layout = Layout.for_kind(kind, record_size, capacity)
        path = SHM_DIR / name
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pid = _read_owner_pid(path)
            state = "alive" if pid and owner_alive(pid) else "dead: run a sweep"
            raise SegmentExistsError(f"segment {name} already exists (owner pid {pid}, {state})") from None
        try:
            os.ftruncate(fd, layout.size)
            buf = mmap.mmap(fd, layout.size)
        except BaseException:
            os.unlink(path)
            raise
        finally:
            os.close(fd)
        pid, created = os.getpid(), time.time_ns()
        HEADER_STRUCT.pack_into(buf, 0, MAGIC, LAYOUT_VERSION, kind, record_size, 0, capacity, pid,
                                created, name.encode()[:NAME_BYTES])
        return cls(name, buf, layout, owner=True, owner_pid=pid, created_wall_ns=created)

    @classmethod
    def attach(cls, name: str, kind: int, record_size: int, capacity: int | None = None) -> "Segment":
        """Map an existing segment and check its header against what the caller expects."""
        path = SHM_DIR / name
        try:
            fd = os.open(path, os.O_RDWR)
        except FileNotFoundError:
            raise SegmentNotFoundError(f"segment {name} does not exist in {SHM_DIR}") from None
        try:
            size = os.fstat(fd).st_size
            if size < HEADER_STRUCT.size:
                raise LayoutMismatchError(f"segment {name}: {size} bytes, smaller than a header")
            buf = mmap.mmap(fd, size)
        finally:
            os.close(fd)
        magic, version, got_kind, got_rsize, _, got_cap, pid, created, _ = HEADER_STRUCT.unpack_from(buf, 0)
        expected = [("magic", magic, MAGIC), ("layout_version", version, LAYOUT_VERSION),
                    ("kind", got_kind, kind), ("record_size", got_rsize, record_size)]
        if capacity is not None:
            expected.append(("capacity", got_cap, capacity))
        for field, got, want in expected:
            if got != want:
                buf.close()
                if field == "kind":
                    got, want = KIND_NAMES.get(got, got), KIND_NAMES.get(want, want)
                raise LayoutMismatchError(f"segment {name}: header {field}={got!r}, expected {want!r}")
        layout = Layout.for_kind(kind, record_size, got_cap)
        if size < layout.size:
            buf.close()
            raise LayoutMismatchError(f"segment {name}: {size} bytes, expected at least {layout.size}")
        return cls(name, buf, layout, owner=False, owner_pid=pid, created_wall_ns=created)

    def close(self) -> None:
        """Unmap, if no NumPy view still exports the buffer (then the GC unmaps it later)."""
        try:
            self.buf.close()
        except BufferError:
            pass

    def unlink(self) -> None:
        """Remove the name. Only the owner, in the process that created it, may do this."""
        if not self.owner or self._creator_pid != os.getpid():
            raise ShmError(f"segment {self.name}: only its owner (pid {self.owner_pid}) unlinks it")
        if not self._unlinked:
            self._unlinked = True
            try:
                os.unlink(SHM_DIR / self.name)
            except FileNotFoundError:
                pass

    def release(self) -> None:
        """Close, and unlink when this process owns the segment: the one call for cleanup paths."""
        if self.owner and self._creator_pid == os.getpid():
            self.unlink()
        self.close()

    def __repr__(self) -> str:
        return f"Segment({self.name!r}, {self.layout.size} B, owner_pid={self.owner_pid})"


# ---- discovery and sweeping ------------------------------------------------------------------
def _read_owner_pid(path: Path) -> int | None:
    try:
        with open(path, "rb") as f:
            head = f.read(HEADER_STRUCT.size)
        if len(head) < HEADER_STRUCT.size:
            return None
        fields = HEADER_STRUCT.unpack(head)
        return fields[6] if fields[0] == MAGIC else None
    except OSError:
        return None


def _read_created_ns(path: Path) -> int | None:
    try:
        with open(path, "rb") as f:
            fields = HEADER_STRUCT.unpack(f.read(HEADER_STRUCT.size))
        return fields[7] if fields[0] == MAGIC else None
    except (OSError, Exception):
        return None


def _process_start_wall_ns(pid: int) -> int | None:
    """When ``pid`` started, in Unix ns (from /proc), to tell a live owner from a reused pid."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        btime = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                     if line.startswith("btime"))
        return int((btime + start_ticks / os.sysconf("SC_CLK_TCK")) * 1e9)
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (OSError, IndexError):
        return False


def owner_alive(pid: int, created_ns: int | None = None) -> bool:
    """True if ``pid`` runs and (when ``created_ns`` is known) started before the segment."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    if _zombie(pid):   # exited, not yet reaped by its parent: it maps nothing any more
        return False
    if created_ns is not None:
        started = _process_start_wall_ns(pid)
        # A process that started after the segment was made cannot be its owner: a reused pid.
        if started is not None and started > created_ns + 2_000_000_000:
            return False
    return True


def list_segments(instance: str | None = None) -> list[str]:
    """Names of every ``mm.`` segment, or only those of one instance."""
    prefix = PREFIX if instance is None else f"{PREFIX}{instance}."
    try:
        return sorted(p.name for p in SHM_DIR.iterdir() if p.name.startswith(prefix))
    except FileNotFoundError:
        return []


def mapped_by(paths: list[Path]) -> dict[Path, list[int]]:
    """Which live processes map each of ``paths`` (from /proc/<pid>/maps); paths nobody maps are left out.

    Matched by device and inode, so another name for the same file counts too. Processes whose
    maps we may not read belong to other users, and cannot map our 0600 segments."""
    wanted = {}
    for path in paths:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            continue
        wanted[(f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}", str(st.st_ino))] = Path(path)
    found: dict[Path, list[int]] = {}
    if not wanted:
        return found
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/maps") as f:
                lines = f.readlines()
        except OSError:   # exited meanwhile, or another user's process
            continue
        for line in lines:
            fields = line.split(None, 5)
            if len(fields) >= 6:
                path = wanted.get((fields[3], fields[4]))
                if path is not None and int(entry.name) not in found.setdefault(path, []):
                    found[path].append(int(entry.name))
    return found


def sweep(instance: str | None = None) -> list[str]:
    """Unlink segments whose owner process is dead and that no live process still maps.

    A segment outlives its owner when the owner was killed; its readers and writers may still be
    running (orphans of a SIGKILLed supervisor), and pulling the segment from under them would
    let a new pipeline create a fresh one beside theirs. Returns the names removed."""
    candidates = []
    for name in list_segments(instance):
        path = SHM_DIR / name
        pid = _read_owner_pid(path)
        if pid is not None and owner_alive(pid, _read_created_ns(path)):
            continue
        candidates.append(path)
    in_use = mapped_by(candidates)
    removed = []
    for path in candidates:
        if path in in_use:
            continue
        try:
            os.unlink(path)
            removed.append(path.name)
        except FileNotFoundError:
            pass
    return removed
