"""One pipeline per account: an exclusive lock per venue, key and account, taken before connecting.

Two pipelines quoting one account would each see the other's fills as their own and each keep
its own position limit: the limits no longer hold. ``bin/mm run`` therefore takes an ``flock``
on ``<runtime dir>/thalex-mm-locks/<hash of venue URL, key id, account>.lock`` before anything
connects, and a second start on the same account fails with a message naming the account, the
venue and the pid holding it.

The supervisor hands the lock's descriptor to every process it starts (``fd``): the lock is held
while any process of the pipeline lives, so even orphans of a SIGKILLed supervisor keep a new
pipeline off the account until they have closed (runtime/parent_death.py makes that quick).
The lock file stays when released: removing it would let a waiting opener lock a name nobody
else sees. It holds a few hundred bytes in a tmpfs runtime directory.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import time
from pathlib import Path


class AccountInUseError(RuntimeError):
    """Another pipeline holds the account's lock."""


def lock_dir() -> Path:
    """``$XDG_RUNTIME_DIR/thalex-mm-locks`` (per user, tmpfs), else ``/tmp/thalex-mm-locks-<uid>``."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "thalex-mm-locks"
    return Path("/tmp") / f"thalex-mm-locks-{os.getuid()}"


def lock_path(venue_url: str, key_id: str, account: str) -> Path:
    """The lock file of one (venue, key, account); the URL's trailing slash and case do not count."""
    ident = "\n".join((venue_url.strip().rstrip("/").lower(), key_id, account))
    return lock_dir() / f"{hashlib.sha256(ident.encode()).hexdigest()[:32]}.lock"


def describe(key_id: str, account: str) -> str:
    return f"account {account!r} (key id {key_id})" if account else f"the default account of key id {key_id}"


class AccountLock:
    """A held lock; ``fd`` is inherited by the pipeline's processes, ``release`` closes it here."""

    def __init__(self, fd: int, path: Path):
        self.fd, self.path = fd, path

    @classmethod
    def acquire(cls, venue_url: str, key_id: str, account: str = "", run_dir: str = "") -> "AccountLock":
        """Lock the account or raise AccountInUseError naming the holder; never waits."""
        directory = lock_dir()
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = lock_path(venue_url, key_id, account)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise AccountInUseError(_in_use_message(venue_url, key_id, account, holder, path)) from None
        except BaseException:
            os.close(fd)
            raise
        holder = {"pid": os.getpid(), "venue": venue_url, "key_id": key_id, "account": account,
                  "run_dir": run_dir, "since": time.strftime("%Y-%m-%d %H:%M:%S")}
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        return cls(fd, path)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def _read_holder(fd: int) -> dict:
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _pid_alive(pid) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _in_use_message(venue_url: str, key_id: str, account: str, holder: dict, path: Path) -> str:
    pid = holder.get("pid")
    where = f" (run directory {holder['run_dir']})" if holder.get("run_dir") else ""
    if _pid_alive(pid):
        who = f"bin/mm run pid {pid}{where} since {holder.get('since', '?')}; stop it first (bin/mmctl shutdown)"
    else:
        who = (f"processes started by bin/mm run pid {pid}{where}, which has died; they close by "
               "themselves within seconds, then start again")
    return (f"{describe(key_id, account)} on {venue_url} is already traded by {who}. "
            f"Two pipelines on one account would break its limits (lock {path})")
