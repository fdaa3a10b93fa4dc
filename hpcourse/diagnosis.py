"""Under- or overfitting? Read it off a run's numbers, then pick the knob to turn.

Two numbers decide it (the framing of bias and variance in Ng's *Machine Learning
Yearning*, 2018):

* **training accuracy**: if the model cannot even fit the data it trains on, it is
  *underfitting* (high bias). More capacity, longer training or less regularization help;
  more data does not.
* **the gap** between training and validation accuracy: if the model fits its training
  data far better than new data, it is *overfitting* (high variance). Less capacity,
  stopping earlier, more regularization, augmentation or more data help.

Fix underfitting first: a gap only means something once the model fits its training
data. The thresholds are judgement calls that depend on the task (on a task where
humans reach 70%, a training accuracy of 75% is not underfitting), so
:func:`diagnose` takes them as arguments and reports them with its verdict.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from hpcourse.results import History
from hpcourse.validation import check_choice, check_number

if TYPE_CHECKING:
    from hpcourse.config import TrainConfig

LABELS = ("underfitting", "overfitting", "good fit", "diverged")

#: The knobs a learner can pick from, in plain words.
KNOBS = (
    "more capacity",
    "less capacity",
    "train longer",
    "stop earlier",
    "more dropout",
    "less dropout",
    "more weight decay",
    "less weight decay",
    "more data augmentation",
    "more training data",
    "raise the learning rate",
    "lower the learning rate",
    "leave it as it is",
)

#: Which knobs move a run of each diagnosis in the right direction, as a rule of thumb.
#: A rule of thumb can be wrong for a given run: :func:`try_knobs` measures instead.
REMEDIES: dict[str, tuple[str, ...]] = {
    "underfitting": (
        "more capacity",
        "train longer",
        "raise the learning rate",
        "less dropout",
        "less weight decay",
    ),
    "overfitting": (
        "more training data",
        "more data augmentation",
        "more dropout",
        "more weight decay",
        "stop earlier",
        "less capacity",
    ),
    "good fit": ("leave it as it is",),
    "diverged": ("lower the learning rate",),
}


@dataclass
class Diagnosis:
    """The verdict on one run, with the numbers and the thresholds that produced it."""

    label: str
    train_acc: float
    val_acc: float
    gap: float
    val_loss_rise: float
    min_train_acc: float
    max_gap: float
    remedies: tuple[str, ...] = field(default_factory=tuple)

    @property
    def message(self) -> str:
        """One readable sentence: verdict, evidence, and what to try."""
        if self.label == "diverged":
            return "diverged: the loss blew up, so there is nothing to diagnose yet. " + (
                "Rule of thumb: lower the learning rate."
            )
        evidence = (
            f"train acc {self.train_acc:.3f} (threshold {self.min_train_acc:.2f}), "
            f"val acc {self.val_acc:.3f}, gap {self.gap:.3f} (threshold {self.max_gap:.2f}), "
            f"val loss {self.val_loss_rise:+.3f} above its best"
        )
        note = ""
        if self.label == "underfitting" and self.gap > self.max_gap:
            note = " The gap is large too: fix the underfitting first, then look again."
        return f"{self.label}: {evidence}. Rule of thumb: try {', '.join(self.remedies)}.{note}"

    def __str__(self) -> str:
        return self.message


def diagnose(history: History, *, min_train_acc: float = 0.9, max_gap: float = 0.1) -> Diagnosis:
    """Label a finished run as ``"underfitting"``, ``"overfitting"``, ``"good fit"`` or
    ``"diverged"``, from its final training and validation accuracy.

    * underfitting: final training accuracy < ``min_train_acc``;
    * otherwise overfitting: training minus validation accuracy > ``max_gap``;
    * otherwise a good fit.

    ``val_loss_rise`` (final minus lowest validation loss) is reported as a second sign
    of overfitting: a validation loss that climbs back up after its best epoch means
    later epochs made the model worse on new data.

    >>> from hpcourse import load_dataset, train
    >>> diagnose(train({"hidden": [64], "epochs": 10}, load_dataset("digits"))).label
    'good fit'
    """
    if not isinstance(history, History):
        raise ValueError(
            f"history={history!r} is not allowed: history must be a hpcourse History "
            "(what hpcourse.train returns)."
        )
    check_number("min_train_acc", min_train_acc, low=0, high=1)
    check_number("max_gap", max_gap, low=0, high=1)
    if not history.train_acc:
        raise ValueError(
            "history with no recorded epochs is not allowed: history must come from a run "
            "that recorded at least one epoch."
        )
    train_acc, val_acc = history.train_acc[-1], history.val_acc[-1]
    finite = [v for v in history.val_loss if math.isfinite(v)]
    rise = history.val_loss[-1] - min(finite) if finite else math.nan
    if history.diverged or not math.isfinite(history.train_loss[-1]):
        label = "diverged"
    elif train_acc < min_train_acc:
        label = "underfitting"
    elif train_acc - val_acc > max_gap:
        label = "overfitting"
    else:
        label = "good fit"
    return Diagnosis(
        label=label,
        train_acc=train_acc,
        val_acc=val_acc,
        gap=train_acc - val_acc,
        val_loss_rise=rise,
        min_train_acc=min_train_acc,
        max_gap=max_gap,
        remedies=REMEDIES[label],
    )


_KNOB_ROWS = [
    # knob, common starting value, if underfitting, if overfitting
    ("capacity (width, depth)", "1-2 hidden layers of 64-256 units", "increase", "decrease"),
    ("learning rate", "1e-3 (Adam), 0.01-0.1 (SGD)", "tune first (a sweep)", "rarely the fix"),
    ("epochs", "until validation loss stops improving", "increase", "decrease (early stop)"),
    ("dropout", "0; 0.2-0.5 against overfitting", "decrease", "increase"),
    ("weight decay", "0 or 1e-5-1e-4", "decrease", "increase"),
    ("data augmentation", "none, then mild (a few degrees)", "decrease", "increase"),
    ("batch size", "32-256", "weak: smaller = more steps", "weak: smaller = noisier"),
    ("training data", "all you have", "does not help", "more is the best cure"),
]


def knob_table() -> pd.DataFrame:
    """Common starting values, and which way to move each knob for each diagnosis.

    A rule-of-thumb table, not a law: change one knob at a time and measure. Batch size
    is a weak knob for either problem; when you change it, retune the learning rate.
    (Smaller batches add gradient noise, which can generalize a little better:
    Keskar et al., 2017.)
    """
    cols = ["hyperparameter", "common start", "if underfitting", "if overfitting"]
    return pd.DataFrame(_KNOB_ROWS, columns=cols)


#: What each knob means when :func:`try_knobs` turns it: one concrete change of the config.
KNOB_TURNS: dict[str, str] = {
    "more capacity": "every hidden layer twice as wide (a linear model gets one layer of 64)",
    "less capacity": "every hidden layer half as wide",
    "train longer": "twice the epochs",
    "stop earlier": "a quarter of the epochs",
    "more dropout": "dropout + 0.3",
    "less dropout": "dropout 0",
    "more weight decay": "weight decay x 10 (1e-4 if it was 0)",
    "less weight decay": "weight decay / 10",
    "more data augmentation": "not measured: hp.train applies no augmentation",
    "more training data": "the same config trained on more_data",
    "raise the learning rate": "lr x 10",
    "lower the learning rate": "lr / 10",
    "leave it as it is": "no change",
}

EFFECTS = ("as it is", "fixes it", "helps", "no help", "worse", "cannot turn", "not measured")


def turn_knob(knob: str, config: TrainConfig) -> tuple[dict[str, Any] | None, str]:
    """The config change that turns ``knob`` (see :data:`KNOB_TURNS`), and a description.

    Returns ``(None, reason)`` when the knob cannot be turned for this config (no dropout
    to remove, a linear model to shrink, ...) or needs more than a config change (more
    data, augmentation); :func:`try_knobs` handles those.

    >>> from hpcourse.config import TrainConfig
    >>> turn_knob("less weight decay", TrainConfig(weight_decay=0.5))
    ({'weight_decay': 0.05}, 'weight_decay 0.5 -> 0.05')
    >>> turn_knob("less dropout", TrainConfig())
    (None, 'cannot turn: dropout is already 0')
    """
    check_choice("knob", knob, KNOBS)
    hidden, wd, dropout = list(config.hidden), config.weight_decay, config.dropout
    changes: dict[str, Any] | None
    reason = ""
    if knob == "more capacity":
        changes = {"hidden": [2 * w for w in hidden] or [64]}
    elif knob == "less capacity":
        changes = {"hidden": [max(1, w // 2) for w in hidden]} if hidden else None
        reason = "a linear model (hidden=[]) has no hidden layer to shrink"
    elif knob == "train longer":
        changes = {"epochs": 2 * config.epochs}
    elif knob == "stop earlier":
        changes = {"epochs": config.epochs // 4} if config.epochs >= 4 else None
        reason = f"epochs={config.epochs} is too short to cut to a quarter"
    elif knob == "more dropout":
        changes = {"dropout": min(0.9, round(dropout + 0.3, 6))} if hidden else None
        reason = "a linear model (hidden=[]) has no hidden units to drop"
    elif knob == "less dropout":
        changes = {"dropout": 0.0} if dropout > 0 else None
        reason = "dropout is already 0"
    elif knob == "more weight decay":
        changes = {"weight_decay": 10 * wd if wd > 0 else 1e-4}
    elif knob == "less weight decay":
        changes = {"weight_decay": wd / 10} if wd > 0 else None
        reason = "weight_decay is already 0"
    elif knob == "raise the learning rate":
        changes = {"lr": config.lr * 10}
    elif knob == "lower the learning rate":
        changes = {"lr": config.lr / 10}
    elif knob == "leave it as it is":
        return {}, "no change"
    else:  # more data, augmentation: not a change of the config
        return None, KNOB_TURNS[knob]
    if changes is None:
        return None, f"cannot turn: {reason}"
    old = config.to_dict()
    text = ", ".join(f"{k} {_short(old[k])} -> {_short(v)}" for k, v in changes.items())
    return changes, text


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def _effect(new: Diagnosis, base: Diagnosis, margin: float) -> str:
    """How a re-trained run compares with the original, judged on what its label needs.

    Underfitting is about the training accuracy (can it fit at all?), overfitting and a
    good fit about the validation accuracy (does it do well on new data?), a diverged
    run about whether the new one trains at all.
    """
    if base.label == "diverged":
        return "fixes it" if new.label != "diverged" else "no help"
    if new.label == "diverged":
        return "worse"
    if base.label == "underfitting":
        if new.train_acc >= base.min_train_acc:
            return "fixes it"
        change = new.train_acc - base.train_acc
    else:
        if base.label == "overfitting" and new.label == "good fit" and new.val_acc >= base.val_acc:
            return "fixes it"
        change = new.val_acc - base.val_acc
    if change >= margin:
        return "helps"
    return "worse" if change <= -margin else "no help"


def try_knobs(
    run: History | TrainConfig | dict[str, Any],
    data: Any,
    *,
    knobs: Sequence[str] | None = None,
    more_data: Any = None,
    margin: float = 0.1,
    progress: bool = False,
) -> pd.DataFrame:
    """Re-train a run once per knob, each turned one notch, and tabulate what happened.

    Why measure: the knob table is a rule of thumb, and a rule of thumb can be wrong for
    the run in front of you (a run crushed by weight decay does not get better with
    more epochs). One re-run per knob, each changing one thing (:func:`turn_knob`), is
    the honest answer to "which knob would help?".

    ``run`` is a finished :class:`History` (its numbers are the baseline) or a config
    (trained first). ``knobs`` defaults to every knob in :data:`KNOBS`; "more training
    data" is measured only with ``more_data``, a dataset with more training examples and
    the same validation examples. One row per knob: the change made, the final train and
    validation accuracy, the gap, the new diagnosis, and the ``effect`` (see
    :func:`_effect`): ``"fixes it"`` (the problem is gone), ``"helps"`` (the number that
    matters moved at least ``margin`` the right way), ``"no help"``, ``"worse"``,
    ``"cannot turn"`` (e.g. no dropout to remove) or ``"not measured"`` (augmentation, or
    more data without ``more_data``).
    """
    from hpcourse.config import as_config
    from hpcourse.progress import progress as progress_bar
    from hpcourse.training import train

    check_number("margin", margin, low=0, high=1, low_open=True)
    if isinstance(run, History):
        config, base_run = run.config, run
    else:
        config, base_run = as_config(run), None
    chosen = list(KNOBS if knobs is None else knobs)
    for i, knob in enumerate(chosen):
        check_choice(f"knobs[{i}]", knob, KNOBS)
    if more_data is not None and len(more_data.y_train) <= len(data.y_train):
        raise ValueError(
            f"more_data with {len(more_data.y_train)} training examples is not allowed: "
            f"more_data must have more than data's {len(data.y_train)}."
        )
    base = diagnose(base_run if base_run is not None else train(config, data))

    def row(knob: str, change: str, d: Diagnosis | None, effect: str) -> dict[str, Any]:
        nan = math.nan
        return {
            "knob": knob,
            "change": change,
            "train_acc": d.train_acc if d else nan,
            "val_acc": d.val_acc if d else nan,
            "gap": d.gap if d else nan,
            "label": d.label if d else "",
            "effect": effect,
        }

    rows = [row("leave it as it is", "no change", base, "as it is")]
    todo = [k for k in chosen if k != "leave it as it is"]
    for knob in progress_bar(todo, desc="knobs", enabled=progress):
        if knob == "more training data":
            if more_data is None:
                rows.append(row(knob, "not measured: no more_data given", None, "not measured"))
                continue
            change = f"{len(data.y_train)} -> {len(more_data.y_train)} training examples"
            new = diagnose(train(config, more_data))
        else:
            changes, change = turn_knob(knob, config)
            if changes is None:
                effect = "not measured" if knob == "more data augmentation" else "cannot turn"
                rows.append(row(knob, change, None, effect))
                continue
            new = diagnose(train(config.replace(**changes), data))
        rows.append(row(knob, change, new, _effect(new, base, margin)))
    table = pd.DataFrame(rows)
    table["train_acc_change"] = table["train_acc"] - base.train_acc
    table["val_acc_change"] = table["val_acc"] - base.val_acc
    return table


__all__ = [
    "EFFECTS",
    "KNOBS",
    "KNOB_TURNS",
    "LABELS",
    "REMEDIES",
    "Diagnosis",
    "diagnose",
    "knob_table",
    "try_knobs",
    "turn_knob",
]
