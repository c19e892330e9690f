"""runs.jsonl in the sweep's output directory: one JSON line per finished run, appended and flushed
as each result comes back, so an interrupted sweep keeps everything that finished and the same
command resumes by skipping those runs (their ``run_id`` is in the journal with status "ok";
a failed run is tried again). A last line cut short by the interruption is ignored."""
from __future__ import annotations

import json
import os
from pathlib import Path


class Journal:
    def __init__(self, path: Path):
        self.path = Path(path)
        self.rows: dict[str, dict] = {}
        self.ignored_lines = 0
        self.appended = 0                 # rows written by this process
        if self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    row = json.loads(line)
                    self.rows[row["run_id"]] = row        # a later line (a retry) wins
                except (json.JSONDecodeError, KeyError, TypeError):
                    self.ignored_lines += 1
        self._file = None

    def finished(self, run_id: str) -> bool:
        row = self.rows.get(run_id)
        return row is not None and row.get("status") == "ok"

    def append(self, row: dict) -> None:
        if self._file is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # A line cut short by an earlier interruption must not swallow the first new one.
            needs_newline = False
            if self.path.exists() and self.path.stat().st_size > 0:
                with open(self.path, "rb") as f:
                    f.seek(-1, os.SEEK_END)
                    needs_newline = f.read(1) != b"\n"
            self._file = open(self.path, "a")
            if needs_newline:
                self._file.write("\n")
        self._file.write(json.dumps(row) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self.rows[row["run_id"]] = row
        self.appended += 1

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
