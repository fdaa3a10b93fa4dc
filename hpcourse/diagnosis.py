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
from dataclasses import dataclass, field

import pandas as pd

from hpcourse.results import History
from hpcourse.validation import check_number

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
    "tune the learning rate",
    "lower the learning rate",
    "leave it as it is",
)

#: Which knobs move a run of each diagnosis in the right direction.
REMEDIES: dict[str, tuple[str, ...]] = {
    "underfitting": (
        "more capacity",
        "train longer",
        "tune the learning rate",
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
                "Try: lower the learning rate."
            )
        evidence = (
            f"train acc {self.train_acc:.3f} (threshold {self.min_train_acc:.2f}), "
            f"val acc {self.val_acc:.3f}, gap {self.gap:.3f} (threshold {self.max_gap:.2f}), "
            f"val loss {self.val_loss_rise:+.3f} above its best"
        )
        note = ""
        if self.label == "underfitting" and self.gap > self.max_gap:
            note = " The gap is large too: fix the underfitting first, then look again."
        return f"{self.label}: {evidence}. Try: {', '.join(self.remedies)}.{note}"

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


__all__ = ["KNOBS", "LABELS", "REMEDIES", "Diagnosis", "diagnose", "knob_table"]
