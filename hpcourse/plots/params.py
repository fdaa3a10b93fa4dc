"""Drawings for lesson 01: parameter counts, what training changed, augmented digits,
DataLoader timings and a fit diagnosis. Each takes computed data and an optional ``ax``."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.axes import Axes
from matplotlib.ticker import MaxNLocator

from hpcourse.diagnosis import Diagnosis
from hpcourse.results import History


def _require_columns(name: str, table: pd.DataFrame, columns: list[str]) -> None:
    if not isinstance(table, pd.DataFrame) or not set(columns) <= set(table.columns):
        got = list(table.columns) if isinstance(table, pd.DataFrame) else type(table).__name__
        raise ValueError(
            f"{name} with columns {got} is not allowed: {name} must be a DataFrame with "
            f"columns {columns}."
        )


def plot_parameter_counts(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Horizontal bars, one per parameter tensor, from ``hpcourse.count_parameters(model)``.

    Weights and biases get different colours: the weight matrices hold almost all of
    the numbers, which is why width matters so much more than depth for the count.
    """
    _require_columns("table", table, ["name", "count"])
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 0.35 * len(table) + 1.2))
    names = list(table["name"])[::-1]
    counts = list(table["count"])[::-1]
    colors = ["tab:orange" if n.endswith("bias") else "tab:blue" for n in names]
    bars = ax.barh(names, counts, color=colors)
    ax.bar_label(bars, labels=[f"{c:,}" for c in counts], padding=3, fontsize=8)
    ax.set_xlabel("number of parameters")
    ax.set_title(f"total: {int(table['count'].sum()):,} parameters", fontsize=10)
    ax.set_xlim(0, max(counts, default=1) * 1.25 + 1)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_parameter_changes(changes: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Relative change of each parameter tensor during training (from ``parameter_changes``),
    with the share of its entries that moved written on each bar."""
    _require_columns("changes", changes, ["name", "relative_change", "changed_fraction"])
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 0.4 * len(changes) + 1.2))
    names = list(changes["name"])[::-1]
    rel = list(changes["relative_change"])[::-1]
    frac = list(changes["changed_fraction"])[::-1]
    bars = ax.barh(names, rel, color="tab:green")
    ax.bar_label(bars, labels=[f"{f:.0%} of entries moved" for f in frac], padding=3, fontsize=8)
    ax.set_xlabel("relative change  ||after - before|| / ||before||")
    ax.set_xlim(0, max(rel, default=1) * 1.6 + 1e-9)
    ax.set_title("what training changed: the parameters", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_augmentation_grid(
    grid: torch.Tensor,
    labels: list[int] | None = None,
    title: str = "",
    ax: Axes | None = None,
) -> Axes:
    """Draw ``augmentation_grid``'s output as one mosaic: a row per image, column 0 the original.

    One image on one ``ax`` (instead of a subplot per digit) keeps redrawing fast,
    which matters inside a widget.
    """
    if not isinstance(grid, torch.Tensor) or grid.dim() != 4:
        shape = tuple(grid.shape) if isinstance(grid, torch.Tensor) else type(grid).__name__
        raise ValueError(
            f"grid with shape {shape} is not allowed: grid must be a tensor of shape "
            "(n_images, n_columns, height, width), e.g. from augmentation_grid()."
        )
    rows, cols, h, w = grid.shape
    pad = 1
    mosaic = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan)
    for r in range(rows):
        for c in range(cols):
            top, left = r * (h + pad), c * (w + pad)
            mosaic[top : top + h, left : left + w] = grid[r, c].numpy()
    if ax is None:
        _, ax = plt.subplots(figsize=(0.7 * cols + 0.6, 0.7 * rows + 0.6))
    cmap = plt.get_cmap("gray_r").with_extremes(bad="white")  # white gaps between digits
    ax.imshow(mosaic, cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    ax.set_xticks([c * (w + pad) + w / 2 - 0.5 for c in range(cols)])
    ax.set_xticklabels(["original"] + [f"#{c}" for c in range(1, cols)], fontsize=7)
    ax.set_yticks([r * (h + pad) + h / 2 - 0.5 for r in range(rows)])
    ax.set_yticklabels([f"label {lab}" for lab in labels] if labels else [""] * rows, fontsize=7)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    if title:
        ax.set_title(title, fontsize=10)
    return ax


def plot_loader_runs(table: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Wall time per DataLoader setting (from ``loader_table``), marked with whether the
    weights came out identical to the first run's."""
    _require_columns("table", table, ["num_workers", "pin_memory", "wall_time_s"])
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 2.8))
    settings = zip(table["num_workers"], table["pin_memory"], strict=True)
    names = [f"workers={w}\npin={p}" for w, p in settings]
    bars = ax.bar(names, table["wall_time_s"], color="tab:purple")
    if "identical_to_first" in table:
        marks = ["same weights" if s else "DIFFERENT" for s in table["identical_to_first"]]
        ax.bar_label(bars, labels=marks, padding=3, fontsize=8)
    ax.set_ylabel("wall time (s)")
    ax.set_ylim(0, float(table["wall_time_s"].max()) * 1.3 + 1e-9)
    ax.set_title("DataLoader settings: time differs, result does not", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    return ax


def plot_diagnosis(
    history: History, diagnosis: Diagnosis, title: str = "", ax: Axes | None = None
) -> Axes:
    """Train and validation accuracy per epoch, with the underfitting threshold drawn and
    the final train/validation gap marked, so the verdict can be checked by eye."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(history.epoch, history.train_acc, "-", label="train")
    ax.plot(history.epoch, history.val_acc, "-", label="validation")
    ax.axhline(diagnosis.min_train_acc, color="grey", ls=":", lw=1, label="underfit threshold")
    last = history.epoch[-1]
    ax.annotate(
        "",
        xy=(last, diagnosis.val_acc),
        xytext=(last, diagnosis.train_acc),
        arrowprops={"arrowstyle": "<->", "color": "tab:red"},
    )
    numbers = (
        f"final train {diagnosis.train_acc:.2f}\nfinal val {diagnosis.val_acc:.2f}\n"
        f"gap {diagnosis.gap:.2f}"
    )
    box = {"facecolor": "white", "alpha": 0.8, "edgecolor": "none"}
    ax.text(0.03, 0.8, numbers, transform=ax.transAxes, fontsize=8, va="top", bbox=box)
    ax.set_ylim(0, 1.05)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("accuracy")
    ax.set_title(f"{title}: {diagnosis.label}" if title else diagnosis.label, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return ax


def plot_fit_losses(
    history: History, diagnosis: Diagnosis, title: str = "", ax: Axes | None = None
) -> Axes:
    """Train and validation loss per epoch, with the best validation epoch marked and the
    final rise of the validation loss above its best drawn as an arrow.

    The second sign of overfitting: the training loss keeps falling while the validation
    loss turns back up, so later epochs make the model worse on new data.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(history.epoch, history.train_loss, "-", label="train loss")
    ax.plot(history.epoch, history.val_loss, "-", label="validation loss")
    finite = [
        (v, e) for e, v in zip(history.epoch, history.val_loss, strict=True) if np.isfinite(v)
    ]
    if finite:
        best, best_epoch = min(finite)
        last = history.epoch[-1]
        ax.plot([best_epoch], [best], "v", color="tab:orange", ms=7, label="best validation")
        ax.hlines(best, best_epoch, last, color="grey", ls=":", lw=1)
        if diagnosis.val_loss_rise > 0.05:  # a visible climb: mark it
            ax.annotate(
                "",
                xy=(last, history.val_loss[-1]),
                xytext=(last, best),
                arrowprops={"arrowstyle": "->", "color": "tab:red"},
            )
            ax.text(
                last,
                (best + history.val_loss[-1]) / 2,
                f"+{diagnosis.val_loss_rise:.2f} ",
                ha="right",
                va="center",
                fontsize=8,
                color="tab:red",
            )
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("cross-entropy loss")
    if title:
        ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    return ax


def plot_knob_trials(
    trials: pd.DataFrame, metric: str = "train_acc", ax: Axes | None = None
) -> Axes:
    """One bar per knob of :func:`hpcourse.diagnosis.try_knobs`: the ``metric`` after the
    knob was turned, against a dashed line at the run as it was; knobs that could not be
    measured are listed without a bar."""
    _require_columns("trials", trials, ["knob", "effect", metric])
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 0.3 * len(trials) + 1.2))
    colors = {
        "as it is": "tab:blue",
        "fixes it": "tab:green",
        "helps": "tab:olive",
        "no help": "tab:grey",
        "worse": "tab:red",
    }
    rows = trials[::-1]
    values = rows[metric].fillna(0.0)
    bars = ax.barh(rows["knob"], values, color=[colors.get(e, "tab:red") for e in rows["effect"]])
    ax.bar_label(bars, labels=list(rows["effect"]), padding=3, fontsize=8)
    base = trials.loc[trials["knob"] == "leave it as it is", metric]
    if len(base):
        ax.axvline(float(base.iloc[0]), color="black", ls="--", lw=1, label="as it is")
        ax.legend(fontsize=8, loc="lower right")
    ax.set_xlim(0, 1.35)
    ax.set_xlabel(metric.replace("_", " ") + " after turning the knob")
    ax.set_title("each knob turned once, and measured", fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    return ax


def plot_augmentation_effects(effects: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Accuracy of a model trained on plain images, on augmented copies of the validation
    images (from :func:`hpcourse.augmentation.augmentation_effects`): over all copies, and
    over the copies the augmentation actually changed."""
    _require_columns("effects", effects, ["augmentation", "accuracy", "accuracy_changed"])
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3))
    x = np.arange(len(effects))
    ax.bar(x - 0.2, effects["accuracy"], width=0.4, color="tab:blue", label="all copies")
    changed = effects["accuracy_changed"]
    ax.bar(x + 0.2, changed.fillna(0.0), width=0.4, color="tab:orange", label="changed copies")
    for i, value in enumerate(changed):
        if not np.isfinite(value):
            ax.text(i + 0.2, 0.02, "none\nchanged", ha="center", fontsize=7)
    ax.set_xticks(x, list(effects["augmentation"]), fontsize=8)
    ax.set_ylim(0, 1.15)
    ax.set_ylabel("accuracy of the trained model")
    ax.set_title("does the augmented copy still show its label?", fontsize=10)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, loc="upper right", ncols=2)
    return ax


__all__ = [
    "plot_augmentation_effects",
    "plot_augmentation_grid",
    "plot_diagnosis",
    "plot_fit_losses",
    "plot_knob_trials",
    "plot_loader_runs",
    "plot_parameter_changes",
    "plot_parameter_counts",
]
