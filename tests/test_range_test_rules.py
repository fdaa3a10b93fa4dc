"""The range test's suggestion rules on real runs: the "steepest" rule must point at a
learning rate where the loss is still falling, never at the loss minimum itself."""

from __future__ import annotations

import pytest

import hpcourse as hp
from hpcourse.lr_finder import lr_range_test


@pytest.fixture(scope="module")
def mnist1d():
    return hp.load_dataset("mnist1d", seed=0)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_steepest_is_never_the_minimum_on_many_seeds(mnist1d, optimizer):
    # Before the fix, a one-sided slope at the end of the search window (always negative)
    # put "steepest" on the minimum itself: measured 4 of 12 seeds with plain SGD and 2 of
    # 12 with Adam on MNIST-1D, 200 steps.
    for seed in range(12):
        res = lr_range_test(mnist1d, {"optimizer": optimizer, "seed": seed}, steps=200)
        assert res.steepest_lr < res.min_lr, (seed, res)
        assert res.valley_lr <= res.min_lr, (seed, res)
