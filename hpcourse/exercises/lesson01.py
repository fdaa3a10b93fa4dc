"""Exercise checkers for lesson 01 (parameters vs hyperparameters).

1. :func:`check_n_params`: write ``n_params(layer_sizes)``, the parameter count of an
   MLP, checked against PyTorch's own count of a real model.
2. :func:`check_which_knob`: read a run's numbers, name the problem and a knob to turn;
   the diagnosis is checked with :func:`hpcourse.diagnosis.diagnose`, the knob against
   the run re-trained with each knob turned (:func:`hpcourse.diagnosis.try_knobs`).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pandas as pd

from hpcourse.diagnosis import KNOBS, LABELS, REMEDIES, diagnose
from hpcourse.exercises import Case, Verdict, check_function
from hpcourse.models import MLP, count_parameters
from hpcourse.results import History

_LAYER_SIZES = ([64, 10], [64, 128, 10], [40, 2, 10], [64, 32, 32, 10], [3, 1], [784, 256, 10])


def _true_count(sizes: list[int]) -> int:
    """Count by building the model: the formula is checked against torch, not against itself."""
    return int(count_parameters(MLP(sizes[0], sizes[1:-1], sizes[-1]))["count"].sum())


def check_n_params(attempt: Callable[[list[int]], int], *, verbose: bool = True) -> Verdict:
    """Check ``attempt(layer_sizes)`` on several MLP shapes (inputs first, outputs last).

    >>> check_n_params(lambda s: sum(a * b + b for a, b in zip(s, s[1:])), verbose=False).passed
    True
    """
    cases = [
        Case(
            (sizes,),
            _true_count(sizes),
            hint="each Linear(n_in, n_out) has n_in*n_out weights and n_out biases; "
            "sum over consecutive pairs of layer sizes.",
        )
        for sizes in _LAYER_SIZES
    ]
    return check_function("n_params", attempt, cases, rtol=0, atol=0, verbose=verbose)


def _cause(history: History) -> str:
    """A pointer at the config when it shows an obvious cause, else ``""``."""
    cfg = history.config
    if cfg.weight_decay >= 0.01:
        return (
            f" Look at the config too: weight_decay={cfg.weight_decay:g} is far above the usual "
            "1e-5 to 1e-4."
        )
    if cfg.dropout >= 0.5:
        return f" Look at the config too: dropout={cfg.dropout:g} is strong."
    return ""


def _check_trials(history: History, trials: object) -> pd.DataFrame:
    """The measured table, checked to belong to ``history`` (same baseline numbers)."""
    columns = {"knob", "change", "train_acc", "val_acc", "label", "effect"}
    if not isinstance(trials, pd.DataFrame) or not columns <= set(trials.columns):
        raise ValueError(
            f"trials={type(trials).__name__} is not allowed: trials must be the table from "
            "hpcourse.diagnosis.try_knobs(history, data)."
        )
    base = trials[trials["knob"] == "leave it as it is"]
    truth = diagnose(history)
    if len(base) != 1 or not math.isclose(float(base["train_acc"].iloc[0]), truth.train_acc):
        raise ValueError(
            "trials measured for another run are not allowed: trials must come from "
            "hpcourse.diagnosis.try_knobs(history, data) for this history."
        )
    return trials.set_index("knob")


def _measured(row: pd.Series, base: pd.Series, label: str) -> str:
    """The number that matters for this diagnosis, before -> after, in words."""
    metric = "train_acc" if label == "underfitting" else "val_acc"
    name = "train acc" if label == "underfitting" else "val acc"
    return f"{name} {base[metric]:.2f} -> {row[metric]:.2f} with {row['change']}"


def check_which_knob(
    history: History,
    diagnosis: object,
    knob: object,
    trials: pd.DataFrame,
    *,
    verbose: bool = True,
) -> Verdict:
    """Check a diagnosis (``"underfitting"``, ``"overfitting"``, ``"good fit"``) and a knob
    (one of :data:`hpcourse.diagnosis.KNOBS`) for ``history``.

    The diagnosis is checked with :func:`~hpcourse.diagnosis.diagnose`'s default
    thresholds. The knob is checked against *measurements*: ``trials`` is the table of
    :func:`hpcourse.diagnosis.try_knobs`, which re-trained the run with each knob turned.
    A knob that fixes the problem passes; one that measurably helps passes with a note;
    one that did not help fails, whatever a rule of thumb says. Only knobs that could
    not be measured (e.g. more data) fall back on the rule of thumb. ``...`` or ``None``
    means "not answered yet".
    """
    name = "which knob would you turn"
    truth = diagnose(history)
    table = _check_trials(history, trials)
    base = table.loc["leave it as it is"]
    fixes = [k for k in table.index if table.loc[k, "effect"] == "fixes it"]
    best = (
        f" Measured, what fixes it: {', '.join(map(repr, fixes))} "
        f"({_measured(table.loc[fixes[0]], base, truth.label)})."
        if fixes
        else ""
    )
    if diagnosis is None or diagnosis is Ellipsis or knob is None or knob is Ellipsis:
        verdict = Verdict(name, None, "not answered yet: replace both ... and re-run.")
    elif diagnosis not in LABELS:
        verdict = Verdict(
            name, False, f"diagnosis={diagnosis!r} is not one of {', '.join(map(repr, LABELS))}."
        )
    elif knob not in KNOBS:
        verdict = Verdict(
            name, False, f"knob={knob!r} is not one of {', '.join(map(repr, KNOBS))}."
        )
    elif diagnosis != truth.label:
        verdict = Verdict(
            name,
            False,
            f"the run is not {diagnosis!r}. Look at the numbers: train acc {truth.train_acc:.2f} "
            f"(is it below {truth.min_train_acc:.2f}?) and the train-validation gap "
            f"{truth.gap:.2f} (is it above {truth.max_gap:.2f}?).",
        )
    elif knob not in table.index:
        verdict = Verdict(
            name, False, f"{knob!r} was not measured in trials; run try_knobs with every knob."
        )
    else:
        verdict = _knob_verdict(name, str(knob), table, truth.label, best, history)
    if verbose:
        print(verdict)
    return verdict


def _knob_verdict(
    name: str, knob: str, table: pd.DataFrame, label: str, best: str, history: History
) -> Verdict:
    row, base = table.loc[knob], table.loc["leave it as it is"]
    effect = row["effect"]
    if effect == "as it is":
        ok = label == "good fit"
        why = "the run fits well: leave it." if ok else f"the run is {label}: it needs a change."
        return Verdict(name, ok, why + ("" if ok else best))
    if effect == "fixes it":
        return Verdict(
            name, True, f"{label}, and {knob!r} fixes it: {_measured(row, base, label)}."
        )
    if effect == "helps":
        return Verdict(
            name,
            True,
            f"{label}, and {knob!r} helps, measured: {_measured(row, base, label)}; but the run is "
            f"still {row['label']}.{best}",
        )
    reason = str(row["change"]).split(": ", 1)[-1]
    if effect == "cannot turn":
        return Verdict(name, False, f"{knob!r} cannot be turned for this run: {reason}.{best}")
    if effect == "not measured":
        rule = knob in REMEDIES[label]
        verb = "helps" if rule else "does not help"
        text = f"{knob!r} was not measured here ({reason}); as a rule it {verb} when {label}."
        return Verdict(name, rule, text + ("" if rule else best))
    return Verdict(
        name,
        False,
        f"right diagnosis ({label}), but {knob!r} did not help this run: measured, "
        f"{_measured(row, base, label)}.{best}{_cause(history)}",
    )


__all__ = ["check_n_params", "check_which_knob"]
