"""Exercise checkers for lesson 10 (sequence models).

1. :func:`check_parameter_count`: the learned numbers of one recurrent layer (hpcourse's
   own version: :func:`hpcourse.sequence.recurrent_parameter_count`).
2. :func:`check_clip`: gradient clipping by the global norm (hpcourse's own version:
   :func:`hpcourse.sequence.clip_by_global_norm`).

Each prints a verdict (PASSED / NOT YET with the failing input / SKIPPED) and returns it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from hpcourse.exercises import Case, Verdict, _skipped, check_function
from hpcourse.sequence import clip_by_global_norm, recurrent_parameter_count

GATES_HINT = (
    "a plain RNN has one block of weights, a GRU three (reset, update, candidate) and an "
    "LSTM four (input, forget, output, candidate); each block has the same shapes."
)
BIAS_HINT = "PyTorch keeps two bias vectors per block, b_ih and b_hh, each of hidden numbers."
SHAPE_HINT = (
    "each block has an input matrix (hidden x input_size) and a recurrent matrix "
    "(hidden x hidden): the input size and the hidden size both count."
)


def check_parameter_count(attempt: Callable[..., Any], verbose: bool = True) -> Verdict:
    """Check ``attempt(kind, input_size, hidden)`` -> the number of learned numbers of one
    ``torch.nn.RNN`` / ``GRU`` / ``LSTM`` layer. The cases separate the input size from
    the hidden size and count both biases, so answers that drop either are caught."""
    cases = [
        Case(("rnn", 1, 1), recurrent_parameter_count("rnn", 1, 1), hint=BIAS_HINT),
        Case(("rnn", 4, 32), recurrent_parameter_count("rnn", 4, 32), hint=SHAPE_HINT),
        Case(("gru", 4, 32), recurrent_parameter_count("gru", 4, 32), hint=GATES_HINT),
        Case(("lstm", 4, 32), recurrent_parameter_count("lstm", 4, 32), hint=GATES_HINT),
        Case(("lstm", 16, 8), recurrent_parameter_count("lstm", 16, 8), hint=SHAPE_HINT),
        Case(("gru", 3, 5), recurrent_parameter_count("gru", 3, 5), hint=BIAS_HINT),
        Case(("rnn", 7, 2), recurrent_parameter_count("rnn", 7, 2), hint=SHAPE_HINT),
    ]
    return check_function("parameters of a recurrent layer", attempt, cases, verbose=verbose)


GLOBAL_HINT = (
    "the norm is taken over all gradients together (the square root of the sum of all "
    "squared entries), and every gradient is multiplied by the same factor."
)
BELOW_HINT = "gradients whose global norm is already at most max_norm are left unchanged."
DIRECTION_HINT = (
    "clipping by norm rescales; it does not cut single entries at max_norm (that would "
    "change the step's direction)."
)
ZERO_HINT = "an all-zero gradient has norm 0: return it unchanged (no division by zero)."


def _clip_cases() -> list[tuple[list[np.ndarray], float, str]]:
    rng = np.random.default_rng(10)
    return [
        ([np.array([3.0]), np.array([4.0])], 1.0, GLOBAL_HINT),
        ([np.array([0.3, -0.4])], 1.0, BELOW_HINT),
        ([np.array([[6.0, 0.0], [0.0, 8.0]]), np.array([0.5])], 2.0, GLOBAL_HINT),
        ([np.array([0.9, 0.1, -0.2])], 0.5, DIRECTION_HINT),
        ([np.array([2.0, 0.0]), np.array([0.0, 0.1])], 1.5, GLOBAL_HINT),
        ([np.zeros(3), np.zeros((2, 2))], 1.0, ZERO_HINT),
        ([rng.normal(size=(4, 3)), rng.normal(size=5) * 3], 2.5, GLOBAL_HINT),
        ([rng.normal(size=(2, 6)) * 0.1], 5.0, BELOW_HINT),
    ]


def check_clip(attempt: Callable[..., Any], verbose: bool = True) -> Verdict:
    """Check ``attempt(grads, max_norm)`` -> the clipped gradients (a list of arrays of the
    same shapes), clipping by the global norm as ``torch.nn.utils.clip_grad_norm_`` does."""
    name = "clipping by the global norm"
    verdict = Verdict(name, True, f"correct on all {len(_clip_cases())} test cases.")
    for grads, max_norm, hint in _clip_cases():
        shown = f"(grads={[g.round(3).tolist() for g in grads]}, max_norm={max_norm})"
        expected, _ = clip_by_global_norm(grads, max_norm)
        try:
            got = attempt([g.copy() for g in grads], max_norm)
        except NotImplementedError:
            verdict = _skipped(name)
            break
        except Exception as err:  # the learner's code may fail in any way; report it kindly
            verdict = Verdict(
                name, False, f"your function raised {type(err).__name__}: {err} for {shown}."
            )
            break
        if not _same_arrays(got, expected):
            verdict = Verdict(
                name,
                False,
                f"for {shown} the answer should be "
                f"{[e.round(4).tolist() for e in expected]}, but your function returned "
                f"{_show(got)}. Hint: {hint}",
            )
            break
    if verbose:
        print(verdict)
    return verdict


def _same_arrays(got: Any, expected: list[np.ndarray]) -> bool:
    if not isinstance(got, (list, tuple)) or len(got) != len(expected):
        return False
    try:
        arrays = [np.asarray(g, dtype=float) for g in got]
    except (TypeError, ValueError):
        return False
    return all(
        a.shape == e.shape and bool(np.allclose(a, e, rtol=1e-5, atol=1e-8))
        for a, e in zip(arrays, expected, strict=True)
    )


def _show(got: Any) -> str:
    try:
        return repr([np.round(np.asarray(g, dtype=float), 4).tolist() for g in got])
    except (TypeError, ValueError):
        return repr(got)


__all__ = ["check_clip", "check_parameter_count"]
