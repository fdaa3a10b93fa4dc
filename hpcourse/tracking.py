"""An experiment log that survives crashes: one JSON line per run, appended and flushed.

Why JSON Lines: each run is written as a single line and pushed to disk
(``flush`` + ``fsync``) the moment it finishes. If the kernel dies half-way through a
sweep, every run already finished is on disk; at worst the run being written leaves a
truncated last line, which :meth:`ExperimentLog.records` skips with a warning. When a
sweep is resumed after such a crash, the next record starts on a fresh line, so the
fragment can never swallow it.

JSON has no NaN or infinity, and a diverged run's loss is ``inf``. Such numbers are
written as ``{"__float__": "inf"}`` and read back as floats, so a *string* ``"inf"`` that
a learner logged (a label, say) stays a string.
"""

from __future__ import annotations

import json
import math
import os
import time
import warnings
from pathlib import Path
from typing import Any

import pandas as pd


def _json_default(value: Any) -> Any:
    if hasattr(value, "item"):  # numpy / torch scalars
        return value.item()
    if isinstance(value, (tuple, set)):
        return list(value)
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot log a value of type {type(value).__name__}: {value!r}")


_FLOAT_TAG = "__float__"


def _clean(value: Any) -> Any:
    """JSON has no NaN or Infinity: write them as tagged objects so the line stays valid."""
    if isinstance(value, float) and not math.isfinite(value):
        return {_FLOAT_TAG: str(value)}
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def _restore(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {_FLOAT_TAG} and value[_FLOAT_TAG] in ("nan", "inf", "-inf"):
            return float(value[_FLOAT_TAG])
        return {k: _restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_restore(v) for v in value]
    return value


class ExperimentLog:
    """Append-only log of runs in a JSON Lines file.

    >>> import tempfile, os
    >>> log = ExperimentLog(os.path.join(tempfile.mkdtemp(), "runs.jsonl"))
    >>> log.append({"config": {"lr": 0.1}, "metrics": {"val_acc": 0.9}})
    >>> log.to_frame()[["config.lr", "metrics.val_acc"]].values.tolist()
    [[0.1, 0.9]]
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line, and make sure it reached the disk before returning."""
        if not isinstance(record, dict):
            raise ValueError(f"record={record!r} is not allowed: a record must be a dict.")
        record = {"logged_at": time.time(), **record}
        line = json.dumps(_clean(record), default=_json_default, allow_nan=False)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as f:
            if f.tell() > 0:  # a crash may have left a fragment without its newline
                f.seek(-1, os.SEEK_END)
                if f.read(1) != b"\n":
                    line = "\n" + line
            f.write((line + "\n").encode("utf-8"))
            f.flush()
            os.fsync(f.fileno())

    def records(self) -> list[dict[str, Any]]:
        """All complete records. A damaged line (a crash mid-write) is skipped with a warning."""
        if not self.path.exists():
            return []
        out = []
        with open(self.path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    out.append(_restore(json.loads(line)))
                except json.JSONDecodeError:
                    warnings.warn(
                        f"{self.path}: line {number} is incomplete or damaged (probably a run "
                        "interrupted while it was being written); skipped it.",
                        stacklevel=2,
                    )
        return out

    def to_frame(self) -> pd.DataFrame:
        """Records as a table; nested keys become ``config.lr``, ``metrics.final_val_acc``..."""
        records = self.records()
        for r in records:
            r.pop("curves", None)  # per-epoch lists do not fit in a table cell; see records()
        return pd.json_normalize(records) if records else pd.DataFrame()

    def __len__(self) -> int:
        return len(self.records())

    def __repr__(self) -> str:
        return f"ExperimentLog({str(self.path)!r})"


def as_log(log: ExperimentLog | str | os.PathLike) -> ExperimentLog:
    """Accept an ExperimentLog or a path to one."""
    if isinstance(log, ExperimentLog):
        return log
    if isinstance(log, (str, os.PathLike)):
        return ExperimentLog(log)
    raise ValueError(f"log={log!r} is not allowed: log must be an ExperimentLog or a file path.")
