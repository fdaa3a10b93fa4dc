"""Tests for lesson 00: the chance-accuracy checker and the exercise helpers it relies on."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import hpcourse as hp
from hpcourse.exercises import Case, check_function, check_value, lesson00


def test_right_answers_pass(capsys):
    assert lesson00.check_chance_accuracy(lambda n: 1 / n).passed is True
    assert lesson00.check_chance_accuracy(lambda n: 1.0 / float(n)).passed is True
    assert lesson00.check_chance_accuracy(lambda n: np.float64(1) / n).passed is True
    assert lesson00.check_chance_accuracy(lambda n: torch.tensor(1 / n)).passed is True
    assert "PASSED" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("wrong", "why"),
    [
        (lambda n: round(1 / n, 2), "rounded: right only for 2, 4 and 10"),
        (lambda n: str(1 / n), "text, not a number"),
        (lambda n: f"{1 / n:.0%}", "a percentage string"),
        (lambda n: {10: 0.1, 2: 0.5, 4: 0.25}.get(n, 0.0), "knows only easy cases"),
        (lambda n: 1 / (n - 1) if n > 1 else 1.0, "off by one"),
        (lambda n: n / 100, "n percent"),
        (lambda n: 1 // n, "integer division"),
        (lambda n: 1 / n > 0, "a bool"),
    ],
)
def test_wrong_answers_fail(wrong, why):
    verdict = lesson00.check_chance_accuracy(wrong, verbose=False)
    assert verdict.passed is False, why
    assert "should be" in verdict.message


def test_text_answers_are_told_to_return_a_number():
    verdict = lesson00.check_chance_accuracy(lambda n: str(1 / n), verbose=False)
    assert "Return a number, not a str" in verdict.message


def test_rounded_answer_fails_on_a_case_without_a_short_decimal():
    verdict = lesson00.check_chance_accuracy(lambda n: round(1 / n, 2), verbose=False)
    assert "(3)" in verdict.message and "Hint" in verdict.message


def test_skipped_and_crashing_attempts():
    def stub(n):
        raise NotImplementedError

    assert lesson00.check_chance_accuracy(stub, verbose=False).passed is None
    crash = lesson00.check_chance_accuracy(lambda n: 1 / 0, verbose=False)
    assert crash.passed is False and "ZeroDivisionError" in crash.message


def test_numbers_are_not_accepted_as_text_anywhere():
    assert check_value("x", "0.25", 0.25, verbose=False).passed is False
    assert "Return a number" in check_value("x", "0.25", 0.25, verbose=False).message
    assert check_value("x", True, 1, verbose=False).passed is False
    assert check_value("x", np.float32(0.25), 0.25, verbose=False).passed is True
    assert check_value("x", np.array(0.25), 0.25, verbose=False).passed is True
    cases = [Case((1,), 2)]
    assert check_function("double", lambda v: "2", cases, verbose=False).passed is False
    assert check_function("double", lambda v: 2, cases, verbose=False).passed is True


def test_plot_examples_draws_one_axes_for_images_and_for_signals():
    from matplotlib.axes import Axes

    from hpcourse.plots.data import plot_examples

    digits = hp.load_dataset("digits")
    ax = plot_examples(digits, n=10)
    assert isinstance(ax, Axes) and len(ax.images) == 1 and len(ax.texts) == 10
    assert [t.get_text() for t in ax.texts] == [str(int(v)) for v in digits.y_train[:10]]
    signals = plot_examples(hp.load_dataset("mnist1d"), n=4, split="val")
    assert isinstance(signals, Axes) and len(signals.lines) == 4
    with pytest.raises(ValueError, match="split='dev' is not allowed"):
        plot_examples(digits, split="dev")
