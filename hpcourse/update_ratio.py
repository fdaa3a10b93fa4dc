"""The update-to-weight ratio: how big each step is compared with the weights it changes.

For every parameter tensor ``w`` and every optimizer step, ``|w_after - w_before| / |w_before|``
(Euclidean norms). A common rule of thumb (Karpathy's CS231n notes) is that a healthy
ratio is around ``1e-3``: much smaller and the weights hardly move (the lr is too small),
much larger and each step rewrites a good part of the weights (the lr is too large). It
reads the *actual* step, whatever the optimizer did to the gradient (momentum, Adam's
scaling, clipping), so it is a direct, optimizer-independent look at the learning rate.

:class:`UpdateRatioMonitor` measures it during a run, as an ``on_epoch`` callback of
:func:`hpcourse.train`::

    monitor = UpdateRatioMonitor()
    history = hp.train(config, data, on_epoch=monitor)
    monitor.table()          # one row per epoch and tensor

The callback first sees the optimizer at the end of epoch 1; from then on it hooks every
step, so epochs 2, 3, ... are measured (epoch 1 is not).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import torch

from hpcourse.results import History


class UpdateRatioMonitor:
    """An ``on_epoch`` callback that records the update-to-weight ratio of every step.

    ``table()`` gives, per measured epoch and parameter tensor, the median ratio over the
    epoch's steps; ``weight_ratio()`` the median over the weight matrices (biases start
    at or near zero, so their ratio says little), one number per measured epoch.
    """

    def __init__(self) -> None:
        self._optimizer: torch.optim.Optimizer | None = None
        self._params: list[torch.Tensor] = []
        self._before: list[torch.Tensor] = []
        self._steps: list[list[float]] = []
        self.names: list[str] = []
        self.epochs: list[int] = []
        self.ratios: list[list[float]] = []  # per measured epoch: the median per tensor

    def __call__(self, history: History, optimizer: torch.optim.Optimizer) -> None:
        if self._optimizer is None:
            self._attach(optimizer)
            return
        if self._steps:
            self.epochs.append(history.epoch[-1])
            self.ratios.append(np.median(np.asarray(self._steps), axis=0).tolist())
        self._steps = []

    def _attach(self, optimizer: torch.optim.Optimizer) -> None:
        self._optimizer = optimizer
        self._params = [p for group in optimizer.param_groups for p in group["params"]]
        self.names = [
            f"{i}: {'weight' if p.ndim > 1 else 'bias'} {tuple(p.shape)}"
            for i, p in enumerate(self._params)
        ]

        def before(_opt: Any, _args: Any, _kwargs: Any) -> None:
            self._before = [p.detach().clone() for p in self._params]

        def after(_opt: Any, _args: Any, _kwargs: Any) -> None:
            self._steps.append(
                [
                    float((p.detach() - b).norm() / b.norm()) if b.norm() > 0 else float("nan")
                    for p, b in zip(self._params, self._before, strict=True)
                ]
            )

        optimizer.register_step_pre_hook(before)
        optimizer.register_step_post_hook(after)

    def table(self) -> pd.DataFrame:
        """One row per measured epoch and tensor: ``epoch``, ``tensor``, ``ratio`` (median)."""
        rows = [
            {"epoch": epoch, "tensor": name, "ratio": ratio}
            for epoch, per_tensor in zip(self.epochs, self.ratios, strict=True)
            for name, ratio in zip(self.names, per_tensor, strict=True)
        ]
        return pd.DataFrame(rows, columns=["epoch", "tensor", "ratio"])

    def weight_ratio(self) -> list[float]:
        """Per measured epoch, the median ratio over the weight matrices."""
        weights = [i for i, name in enumerate(self.names) if "weight" in name]
        return [float(np.median([r[i] for i in weights])) for r in self.ratios]

    def last_weight_ratio(self) -> float:
        """The weight matrices' median ratio in the last measured epoch; NaN when no epoch
        was measured (a run that diverged or stopped in its first epoch)."""
        ratios = self.weight_ratio()
        return ratios[-1] if ratios else float("nan")


__all__ = ["UpdateRatioMonitor"]
