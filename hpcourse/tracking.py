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

    def compare(
        self,
        where: dict[str, Any] | None = None,
        columns: list[str] | None = None,
        sort_by: str | None = "metrics.final_val_loss",
    ) -> pd.DataFrame:
        """The runs as a table, filtered by config fields and sorted: compare like with like.

        ``where`` maps a config field to a value, a list of allowed values, or a function
        of the value returning True to keep the run, e.g.
        ``{"optimizer": "adam", "lr": lambda lr: lr < 0.01}``. ``columns`` picks config
        fields and metrics by their short names (``"lr"``, ``"final_val_acc"``).

        >>> import tempfile, os
        >>> log = ExperimentLog(os.path.join(tempfile.mkdtemp(), "runs.jsonl"))
        >>> for lr in (0.1, 0.01, 0.001):
        ...     log.append({"config": {"lr": lr, "optimizer": "sgd"},
        ...                 "metrics": {"final_val_loss": 1 / lr}})
        >>> table = log.compare({"lr": lambda v: v >= 0.01}, columns=["lr", "final_val_loss"])
        >>> table.values.tolist()
        [[0.1, 10.0], [0.01, 100.0]]
        """
        table = self.to_frame()
        if table.empty:
            return table
        for field_name, wanted in (where or {}).items():
            column = f"config.{field_name}"
            if column not in table:
                raise ValueError(
                    f"where[{field_name!r}] is not allowed: no logged run has a config field "
                    f"{field_name!r}."
                )
            values = table[column]
            if callable(wanted):
                keep = values.map(lambda v, f=wanted: bool(f(v)))
            elif isinstance(wanted, (list, tuple, set)):
                keep = values.isin(list(wanted))
            else:
                keep = values == wanted
            table = table[keep]
        if sort_by is not None and sort_by in table:
            table = table.sort_values(sort_by, kind="stable")
        if columns is not None:
            full = [_full_name(table, c) for c in columns]
            table = table[full].rename(columns=dict(zip(full, columns, strict=True)))
        return table.reset_index(drop=True)

    def export_csv(self, path: str | os.PathLike) -> Path:
        """Write every run as one row of a CSV file (config fields and metrics as columns),
        which spreadsheets, pandas and most tracking tools import."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.to_frame().to_csv(target, index=False)
        return target

    def __len__(self) -> int:
        return len(self.records())

    def __repr__(self) -> str:
        return f"ExperimentLog({str(self.path)!r})"


def _full_name(table: pd.DataFrame, name: str) -> str:
    for candidate in (name, f"config.{name}", f"metrics.{name}"):
        if candidate in table:
            return candidate
    raise ValueError(
        f"columns item {name!r} is not allowed: it is neither a logged config field nor a metric."
    )


def with_best_so_far(
    table: pd.DataFrame, metric: str, *, minimize: bool = True, order: str | None = None
) -> pd.DataFrame:
    """Add ``best_so_far``: the best ``metric`` among the rows up to each one (in the
    table's order, or sorted by ``order`` first, e.g. ``"logged_at"``).

    >>> with_best_so_far(pd.DataFrame({"loss": [3.0, 1.0, 2.0]}), "loss")["best_so_far"].tolist()
    [3.0, 1.0, 1.0]
    """
    if metric not in table:
        raise ValueError(f"metric={metric!r} is not allowed: the table has no such column.")
    out = table.sort_values(order, kind="stable") if order is not None else table.copy()
    values = out[metric].astype(float)
    best = (values if minimize else -values).cummin().ffill()
    out["best_so_far"] = best if minimize else -best
    return out.reset_index(drop=True)


def export_to_optuna(
    log: ExperimentLog | str | os.PathLike,
    space: Any,
    *,
    metric: str = "final_val_loss",
    study_name: str = "hpcourse-log",
    storage: Any = None,
) -> Any:
    """Copy the logged runs into an Optuna study, one finished trial per run, so that
    Optuna's plots and ``optuna-dashboard`` can show them.

    ``space`` (a :class:`hpcourse.space.SearchSpace`) names the config fields to carry as
    parameters and gives each its range and scale; runs outside the space, or without a
    finite ``metric``, are skipped. Returns the study.
    """
    import math

    import optuna

    from hpcourse.space import Choice, Int

    distributions: dict[str, Any] = {}
    for name, dim in space.items():
        if isinstance(dim, Choice):
            distributions[name] = optuna.distributions.CategoricalDistribution(list(dim.options))
        elif isinstance(dim, Int):
            distributions[name] = optuna.distributions.IntDistribution(
                dim.low, dim.high, log=dim.scale == "log"
            )
        else:
            distributions[name] = optuna.distributions.FloatDistribution(
                dim.low, dim.high, log=dim.scale == "log"
            )
    study = optuna.create_study(
        study_name=study_name, storage=storage, direction="minimize", load_if_exists=True
    )
    for record in as_log(log).records():
        config, metrics = record.get("config", {}), record.get("metrics", {})
        value = metrics.get(metric)
        if not isinstance(value, (int, float)) or not math.isfinite(value):
            continue
        params = {name: config.get(name) for name in distributions}
        if any(
            v is None or not distributions[k]._contains(distributions[k].to_internal_repr(v))
            for k, v in params.items()
        ):
            continue
        study.add_trial(
            optuna.trial.create_trial(
                params=params,
                distributions=distributions,
                value=float(value),
                user_attrs={k: v for k, v in metrics.items() if isinstance(v, (int, float, str))},
            )
        )
    return study


def _inside(dim: Any, value: Any) -> bool:
    if value is None:
        return False
    if hasattr(dim, "options"):
        return value in dim.options
    return isinstance(value, (int, float)) and dim.low <= value <= dim.high


def as_log(log: ExperimentLog | str | os.PathLike) -> ExperimentLog:
    """Accept an ExperimentLog or a path to one."""
    if isinstance(log, ExperimentLog):
        return log
    if isinstance(log, (str, os.PathLike)):
        return ExperimentLog(log)
    raise ValueError(f"log={log!r} is not allowed: log must be an ExperimentLog or a file path.")
