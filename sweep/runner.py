"""Ray, as the sweep uses it: start a local Ray (or join a cluster), put the data into the object
store once, run each backtest as one task with at most ``limit`` in flight, and hand every row
back to the driver as it finishes.

Data: each node's object store holds one copy of the events, fetched the first time a task on
that node needs them; every task there reads that copy (no copy per task). Results: a task
returns its row (a small dict) through Ray to the driver, which journals it at once.
"""
from __future__ import annotations

import contextlib
import logging
import os
import socket

from sweep.journal import Journal
from sweep.progress import Progress
from sweep.task import error_text, run_one


class Interrupted(Exception):
    """Ctrl-C during a sweep: the runs that finished are in the journal."""


class ClusterError(ConnectionError):
    """--address names a Ray cluster this driver cannot join."""


@contextlib.contextmanager
def ray_session(address: str | None = None, workers: int | None = None):
    """The ray module, connected: to ``address`` (a cluster), or a local Ray of ``workers`` CPUs
    (default: all) that is shut down afterwards. A Ray already started in this process (tests,
    benchmarks) is used as it is and left running."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")     # no usage report leaves the machine
    import ray
    if ray.is_initialized():
        yield ray
        return
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    if address:
        reachable(address)
        try:
            ray.init(address=address, **quiet)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise ClusterError(
                f"--address {address}: cannot join the Ray cluster: {str(exc).strip().splitlines()[0]} (a cluster "
                "with token authentication needs RAY_AUTH_MODE=token here and its token in ~/.ray/auth_token, "
                "RAY_AUTH_TOKEN or RAY_AUTH_TOKEN_PATH; the driver's Ray and Python versions must be the "
                "cluster's)") from None
    else:
        # "local": a new Ray of our own, even where `ray start` left a cluster running here
        ray.init(address="local", num_cpus=workers or os.cpu_count(), include_dashboard=False, **quiet)
    try:
        yield ray
    finally:
        ray.shutdown()


def cpu_slots(ray) -> int:
    """Tasks the connected Ray can run at once (one CPU each)."""
    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def reachable(address: str, timeout_s: float = 5.0) -> None:
    """A HOST:PORT address must accept a TCP connection before Ray is asked to join it: Ray
    itself retries an address nobody listens on for many minutes before it gives up."""
    host, sep, port = address.rpartition(":")
    if "://" in address or not sep or not port.isdigit():
        return                                   # ray://..., auto: Ray resolves those itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ClusterError(f"--address {address}: nothing accepts connections there ({exc}); expected "
                           "a Ray head's GCS address (ray start --head prints it, port 6379 by default)") from None


_REMOTE = {}


def _remote(ray):
    if "run_one" not in _REMOTE:
        # Each run is single-threaded: one CPU per task. A worker that dies (not an exception in
        # the run: those come back as rows) is retried once by Ray before the run counts as failed.
        _REMOTE["run_one"] = ray.remote(num_cpus=1, max_retries=1)(run_one)
    return _REMOTE["run_one"]


def failed_row(spec: dict, exc: BaseException) -> dict:
    """The row of a run whose task itself failed (its worker or node died)."""
    return {"run_id": spec["run_id"], "part": spec["part"], **spec["params"], "status": "failed",
            "error": error_text(exc).splitlines()[0], "node": "", "overrides": " ".join(spec["overrides"])}


def run_tasks(ray, specs: list[dict], data_refs: dict, journal: Journal, progress: Progress,
              limit: int) -> list[dict]:
    """Run ``specs`` (each with its ``latency_ns`` key into ``data_refs``), at most ``limit`` at
    once; journal each row as it arrives; the rows in the order of ``specs``. Ctrl-C cancels
    what is still running and raises Interrupted."""
    remote = _remote(ray)
    queue = list(enumerate(specs))
    queue.reverse()
    pending: dict = {}
    rows: dict[int, dict] = {}
    try:
        while queue or pending:
            while queue and len(pending) < limit:
                i, spec = queue.pop()
                ref = remote.remote({k: v for k, v in spec.items() if k != "latency_ns"},
                                    data_refs[spec["latency_ns"]])
                pending[ref] = (i, spec)
            done, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
            for ref in done:
                i, spec = pending.pop(ref)
                try:
                    row = ray.get(ref)
                except Exception as exc:          # the task, not the run, failed
                    row = failed_row(spec, exc)
                journal.append(row)
                rows[i] = row
                progress.update(row["status"] == "ok")
            if not done:
                progress.show()
    except KeyboardInterrupt:
        # No ray.cancel(force=True) here: racing a task that is just finishing, it aborts the
        # driver inside Ray 2.60 (task_manager.cc "Tried to complete task that was not pending").
        # The tasks still running end with the driver's job (ray.shutdown, or the cluster
        # cleaning up after a driver that left).
        progress.show(final=True)
        raise Interrupted(f"{len(rows)} runs finished in this session") from None
    progress.show(final=True)
    return [rows[i] for i in sorted(rows)]
