"""Capacity and regularization: sweeps of depth, width, dropout and weight decay, and the
tables that read a train-validation gap off them.

Why one module: every question of lesson 08 is answered the same way. Build the configs
of a sweep (each tagged with what it varies, so a table can be read back from the
Histories alone), train them all with :func:`hpcourse.train_many` (configs that share an
architecture train as one population, whatever their dropout, weight decay or seed), and
tabulate final training accuracy, validation accuracy and their difference, the **gap**.

Words used here: an MLP with ``hidden=[128, 128]`` has three weight layers, so it is a
*3-layer* MLP (``layers = len(hidden) + 1``); its *width* is 128.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from hpcourse.config import TrainConfig, as_config
from hpcourse.optimizers import decoupled_shrink
from hpcourse.results import History
from hpcourse.validation import check_number

#: The run every sweep of the lesson starts from: Adam at lr 0.003, batches of 128, 20 epochs.
BASE: dict[str, Any] = {"optimizer": "adam", "lr": 0.003, "batch_size": 128, "epochs": 20}

STUDIES = ("depth", "width", "dropout", "L2", "decoupled", "augmentation")


def _tagged(base: Mapping[str, Any], study: str, **changes: Any) -> TrainConfig:
    config = as_config({**dict(base), **changes})
    return config.replace(tags={**config.tags, "study": study})


def depth_configs(
    base: Mapping[str, Any], layers: Sequence[int], width: int, seeds: Sequence[int]
) -> list[TrainConfig]:
    """One config per (number of layers, seed): ``layers - 1`` hidden layers of ``width``.

    Why several seeds: two depths a few points of accuracy apart can swap places from one
    initialization to the next; the mean over seeds is what a claim may rest on.

    >>> [c.hidden for c in depth_configs(BASE, [2, 3], 64, [0])]
    [(64,), (64, 64)]
    """
    for i, n in enumerate(layers):
        check_number(f"layers[{i}]", n, low=2, high=12, integer=True)
    check_number("width", width, low=1, integer=True)
    return [
        _tagged(base, "depth", hidden=[width] * (n - 1), seed=seed)
        for n in layers
        for seed in seeds
    ]


def width_configs(
    base: Mapping[str, Any], widths: Sequence[int], layers: int = 3
) -> list[TrainConfig]:
    """One config per width, each with ``layers - 1`` hidden layers of that width."""
    check_number("layers", layers, low=2, high=12, integer=True)
    for i, w in enumerate(widths):
        check_number(f"widths[{i}]", w, low=1, integer=True)
    return [_tagged(base, "width", hidden=[w] * (layers - 1)) for w in widths]


def regularization_configs(
    base: Mapping[str, Any],
    *,
    dropouts: Sequence[float] = (),
    l2: Sequence[float] = (),
    decoupled: Sequence[float] = (),
) -> list[TrainConfig]:
    """Configs that regularize ``base`` in one way each: a dropout rate, an L2 penalty
    added to Adam's gradient (``optimizer="adam"``, ``weight_decay``), or a decoupled
    decay (``optimizer="adamw"``). All share ``base``'s architecture, so they train as one
    population with it.

    Why both kinds of decay: with Adam, an L2 term in the loss goes through Adam's
    per-weight normalization like any gradient, so its pull is rescaled weight by weight;
    AdamW shrinks every weight by ``lr * weight_decay`` per step, outside that
    normalization (Loshchilov & Hutter, 2019). The same number means very different
    strengths in the two, which is why their typical ranges differ by orders of magnitude.
    """
    configs = []
    for i, p in enumerate(dropouts):
        check_number(f"dropouts[{i}]", p, low=0, high=1, high_open=True)
        configs.append(_tagged(base, "dropout", dropout=p))
    for name, values, optimizer in (("L2", l2, "adam"), ("decoupled", decoupled, "adamw")):
        for i, wd in enumerate(values):
            check_number(f"{'l2' if name == 'L2' else name}[{i}]", wd, low=0, low_open=True)
            configs.append(_tagged(base, name, optimizer=optimizer, weight_decay=wd))
    return configs


def decay_kind(config: TrainConfig) -> str:
    """``"none"``, ``"L2"`` (weight decay added to the gradient: SGD, momentum, Adam) or
    ``"decoupled"`` (AdamW)."""
    if config.weight_decay == 0:
        return "none"
    return "decoupled" if config.optimizer == "adamw" else "L2"


def gap_table(histories: Iterable[History]) -> pd.DataFrame:
    """One row per run: what it varied (``study`` tag), its layers, width, dropout and
    weight decay (with its kind), seed, parameter count, and the final training and
    validation accuracy, their ``gap``, the final training and validation loss and the
    lowest validation loss of the run (``best_val_loss``).

    The gap is read at the end of training on purpose: it is what a model trained for
    that long gives you. The lowest validation loss says what early stopping could have
    kept (lesson 07).
    """
    rows = []
    for h in histories:
        c = h.config
        rows.append(
            {
                "study": c.tags.get("study", ""),
                "layers": len(c.hidden) + 1,
                "width": max(c.hidden) if c.hidden else 0,
                "dropout": c.dropout,
                "weight_decay": c.weight_decay,
                "decay": decay_kind(c),
                "seed": c.seed,
                "n_params": h.n_params,
                "epochs": h.epochs_run,
                "train_acc": h.train_acc[-1],
                "val_acc": h.val_acc[-1],
                "gap": h.train_acc[-1] - h.val_acc[-1],
                "train_loss": h.train_loss[-1],
                "val_loss": h.val_loss[-1],
                "best_val_loss": min(h.val_loss),
            }
        )
    return pd.DataFrame(rows)


def depth_summary(table: pd.DataFrame) -> pd.DataFrame:
    """The depth study averaged over seeds: one row per number of layers, with the mean
    training and validation accuracy, gap and lowest validation loss, the number of seeds,
    and the spread of validation accuracy over seeds (``val_acc_min``, ``val_acc_max``)."""
    rows = table[table["study"] == "depth"]
    if rows.empty:
        raise ValueError("table has no row with study='depth': pass gap_table of depth runs.")
    grouped = rows.groupby("layers")
    out = grouped[["train_acc", "val_acc", "gap", "best_val_loss", "n_params"]].mean()
    out["val_acc_min"] = grouped["val_acc"].min()
    out["val_acc_max"] = grouped["val_acc"].max()
    out["seeds"] = grouped["seed"].nunique()
    return out.reset_index()


def strength_table(table: pd.DataFrame, baseline: pd.DataFrame) -> pd.DataFrame:
    """Dropout and both kinds of weight decay against their strength, each next to the
    unregularized ``baseline`` rows (mean over its seeds, shown at strength 0).

    One row per (kind, strength): ``kind`` is ``"dropout"``, ``"L2"`` or ``"decoupled"``.
    """
    base = baseline[["train_acc", "val_acc", "gap", "best_val_loss"]].mean()
    rows = []
    for kind in ("dropout", "L2", "decoupled"):
        part = table[table["study"] == kind]
        rows.append({"kind": kind, "strength": 0.0, **base.to_dict()})
        for _, r in part.iterrows():
            strength = r["dropout"] if kind == "dropout" else r["weight_decay"]
            rows.append(
                {
                    "kind": kind,
                    "strength": float(strength),
                    **{k: r[k] for k in ("train_acc", "val_acc", "gap", "best_val_loss")},
                }
            )
    return pd.DataFrame(rows)


def decay_factor(lr: float, weight_decay: float, steps: int) -> float:
    """How much decoupled weight decay alone (AdamW) shrinks a weight in ``steps`` steps at a
    constant ``lr``: each step multiplies it by ``1 - lr * weight_decay``.

    Why it matters: this, not ``weight_decay`` alone, says how strong AdamW's decay is, so
    the "typical" 0.01-0.1 is a weak pull in a short run and a strong one in a long run.

    >>> round(decay_factor(0.003, 1.0, 500), 3)
    0.223
    """
    return float(decoupled_shrink(lr, weight_decay, steps))  # one rule, notebook 09's


#: The knobs of lesson 01's table that this lesson measures, and what that table advises
#: when a run overfits.
RULES_IF_OVERFITTING = {
    "less capacity": "decrease capacity",
    "more capacity": "(underfitting: increase)",
    "stop at the best epoch": "decrease epochs (early stop)",
    "dropout": "increase dropout",
    "L2 weight decay (Adam)": "increase weight decay",
    "decoupled weight decay (AdamW)": "increase weight decay",
    "data augmentation": "increase augmentation",
}


def _mean(rows: pd.DataFrame) -> pd.Series:
    return rows[["train_acc", "val_acc", "gap", "best_val_loss"]].mean()


def knob_effects(
    table: pd.DataFrame,
    baseline: History,
    choices: Mapping[str, pd.Series | Mapping[str, Any]],
) -> pd.DataFrame:
    """Lesson 01's under/overfitting table, revisited with measured effects.

    ``baseline`` is the unregularized run every knob is compared with; ``choices`` maps a
    knob name (a key of :data:`RULES_IF_OVERFITTING`) to the row (of :func:`gap_table`,
    or a dict with the same accuracy columns) of the run that turned it. The row
    "stop at the best epoch" is read off ``baseline`` itself, at its lowest validation
    loss. Each row: the rule of thumb, the change in training accuracy, validation
    accuracy and gap against the baseline's last epoch, and the new gap.
    """
    del table  # the rows come in through ``choices``; the table is kept for symmetry
    b = {
        "train_acc": baseline.train_acc[-1],
        "val_acc": baseline.val_acc[-1],
        "gap": baseline.train_acc[-1] - baseline.val_acc[-1],
    }
    best = baseline.best_epoch
    measured = dict(choices)
    measured["stop at the best epoch"] = {
        "change": f"epoch {best} instead of {baseline.epochs_run}",
        "train_acc": baseline.train_acc[best],
        "val_acc": baseline.val_acc[best],
        "gap": baseline.train_acc[best] - baseline.val_acc[best],
    }
    rows = []
    for knob, rule in RULES_IF_OVERFITTING.items():
        if knob not in measured:
            continue
        r = measured[knob]
        rows.append(
            {
                "knob": knob,
                "rule of thumb (overfitting)": rule,
                "change": r.get("change", ""),
                "train_acc_change": r["train_acc"] - b["train_acc"],
                "val_acc_change": r["val_acc"] - b["val_acc"],
                "gap_change": r["gap"] - b["gap"],
                "gap": r["gap"],
            }
        )
    unknown = set(measured) - set(RULES_IF_OVERFITTING)
    if unknown:
        raise ValueError(
            f"choices has knobs {sorted(unknown)} that are not allowed: knobs must be among "
            f"{', '.join(RULES_IF_OVERFITTING)}."
        )
    return pd.DataFrame(rows)


def spread(values: Sequence[float]) -> float:
    """Largest minus smallest value (0 for one value): how far seeds disagree."""
    arr = np.asarray(values, dtype=float)
    return float(arr.max() - arr.min()) if arr.size else 0.0


__all__ = [
    "BASE",
    "RULES_IF_OVERFITTING",
    "STUDIES",
    "decay_factor",
    "decay_kind",
    "depth_configs",
    "depth_summary",
    "gap_table",
    "knob_effects",
    "regularization_configs",
    "spread",
    "strength_table",
    "width_configs",
]
