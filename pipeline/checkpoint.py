"""Checkpoints of a scoring run: finished parts plus a state file naming the run.

A killed `score` restarts with ``resume=True``: the parts of the same run (same fingerprint:
input, model, settings) are kept and scoring goes on after them; anything else found there,
another run's parts or a damaged state, is started afresh, never half reused.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pandas as pd

from pipeline import io

STATE_FILE = "state.json"
log = logging.getLogger(__name__)


class Checkpoint:
    """A directory of finished parts plus a state file that says which run they belong to."""

    def __init__(self, output: Path, fingerprint: str) -> None:
        self.dir = output.with_name(output.name + ".parts")
        self.fingerprint = fingerprint

    def start(self, resume: bool) -> int:
        """Number of chunks already done (0 on a fresh start). A checkpoint of another run,
        or one whose state or parts are damaged, is started afresh, never half reused."""
        done = self._resumable() if resume else None
        if done is not None:
            return done
        if resume:
            log.warning(
                "%s: no usable checkpoint of this run; starting from the beginning", self.dir
            )
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir.mkdir(parents=True)
        self._save(0)
        return 0

    def part(self, index: int) -> Path:
        return self.dir / f"part-{index:06d}.parquet"

    def commit(self, index: int, frame: pd.DataFrame) -> None:
        io.write_table([frame], self.part(index))
        self._save(index + 1)

    def parts(self) -> list[Path]:
        return sorted(self.dir.glob("part-*.parquet"))

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

    def _resumable(self) -> int | None:
        """Chunks done by this very run with every part in place; None otherwise."""
        try:
            state = json.loads((self.dir / STATE_FILE).read_text())
            done = state["chunks_done"] if state["fingerprint"] == self.fingerprint else None
        except (OSError, ValueError, TypeError, KeyError):  # absent, torn or hand-edited
            return None
        if not isinstance(done, int) or isinstance(done, bool) or done < 0:
            return None
        return done if all(self.part(i).is_file() for i in range(done)) else None

    def _save(self, chunks_done: int) -> None:
        tmp = self.dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps({"fingerprint": self.fingerprint, "chunks_done": chunks_done}))
        tmp.replace(self.dir / STATE_FILE)
