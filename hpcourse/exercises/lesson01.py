"""Exercise checkers for lesson 01 (parameters vs hyperparameters).

1. :func:`check_n_params`: write ``n_params(layer_sizes)``, the parameter count of an
   MLP, checked against PyTorch's own count of a real model.
2. :func:`check_which_knob`: read a run's numbers, name the problem and a knob to turn,
   checked against :func:`hpcourse.diagnosis.diagnose` on the same run.
"""

from __future__ import annotations

from collections.abc import Callable

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


def _already_off(knob: str, history: History) -> str | None:
    """Why a "less regularization" knob cannot help this run, or None if it can."""
    cfg = history.config
    if knob == "less dropout" and cfg.dropout == 0:
        return "this run already uses dropout=0, so there is no dropout to remove."
    if knob == "less weight decay" and cfg.weight_decay == 0:
        return "this run already uses weight_decay=0, so there is no weight decay to remove."
    return None


def _cause(knob: str, history: History) -> str:
    """A note when the config shows an obvious cause that the chosen knob does not address."""
    cfg = history.config
    if knob != "less weight decay" and cfg.weight_decay >= 0.01:
        return (
            f" Look at the config too: weight_decay={cfg.weight_decay:g} is far above the usual "
            "1e-5 to 1e-4, so 'less weight decay' goes straight at the cause."
        )
    if knob != "less dropout" and cfg.dropout >= 0.5:
        return (
            f" Look at the config too: dropout={cfg.dropout:g} is strong, so 'less dropout' "
            "goes straight at the cause."
        )
    return ""


def check_which_knob(
    history: History, diagnosis: object, knob: object, *, verbose: bool = True
) -> Verdict:
    """Check a diagnosis (``"underfitting"``, ``"overfitting"``, ``"good fit"``) and a knob
    (one of :data:`hpcourse.diagnosis.KNOBS`) for ``history``, using ``diagnose``'s
    default thresholds. ``...`` or ``None`` means "not answered yet"."""
    name = "which knob would you turn"
    truth = diagnose(history)
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
    elif knob not in REMEDIES[truth.label]:
        verdict = Verdict(
            name,
            False,
            f"right diagnosis ({truth.label}), but {knob!r} would not help it, or would make it "
            "worse. Think about which way the knob moves the model's capacity to fit.",
        )
    elif _already_off(knob, history) is not None:
        verdict = Verdict(name, False, _already_off(knob, history))
    else:
        others = [k for k in REMEDIES[truth.label] if k != knob and not _already_off(k, history)]
        also = f" Other knobs that help: {', '.join(others)}." if others else ""
        verdict = Verdict(
            name, True, f"{truth.label}, and {knob!r} is a good move.{also}{_cause(knob, history)}"
        )
    if verbose:
        print(verdict)
    return verdict


__all__ = ["check_n_params", "check_which_knob"]
