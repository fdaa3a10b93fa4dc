"""Benchmark: one sweep of 64 configurations, done five ways, side by side.

The sweep: digits, MLP 64-128-10, plain SGD, batch 32, 10 epochs, lr drawn log-uniformly
from 1e-3..1 (seeded, the same 64 for every way). The ways:

1. tutorial style: a DataLoader loop, one model at a time, PyTorch's default threads;
2. the same tutorial objective driven by Optuna's RandomSampler (what a user would pick
   instead of writing the loop; Optuna's per-trial overhead included), same 64 lrs;
3. ``hpcourse.train`` one model at a time;
4. the population engine (``train_many(engine="population")``): all 64 at once, on one
   thread (its default: reproducible, and safe on a busy machine);
5. the same with ``threads="auto"``: every idle core, as the tutorial loop uses.

Methods are interleaved over repeats and timed by median, so a busy machine slows them
alike. We print the times, the ratios, the best lr and validation accuracy of each way
(they agree within noise: the tutorial loop shuffles differently), and the population's
achieved GFLOP/s as a share of a plain ``torch.mm`` of the same total size measured in
the same run. The last line is one JSON object, for scripts.

Run with ``make bench`` (all benchmarks) or ``python benchmarks/bench_sweep.py``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import hpcourse as hp
from hpcourse.runs import build_model
from hpcourse.space import log_uniform

EPOCHS, BATCH, HIDDEN = 10, 32, (128,)


def configs(n: int) -> list[hp.TrainConfig]:
    lrs = log_uniform(1e-3, 1.0, n, np.random.default_rng(0))
    return [
        hp.TrainConfig(lr=float(lr), batch_size=BATCH, epochs=EPOCHS, hidden=HIDDEN, seed=i)
        for i, lr in enumerate(lrs)
    ]


def tutorial_objective(config: hp.TrainConfig, data: hp.Dataset) -> float:
    """The usual loop: DataLoader, zero_grad/backward/step, validate every epoch."""
    model = build_model(config, data)
    opt = torch.optim.SGD(model.parameters(), lr=config.lr)
    loader = DataLoader(
        TensorDataset(data.x_train, data.y_train), batch_size=config.batch_size, shuffle=True
    )
    val_acc = 0.0
    for _ in range(config.epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val_acc = (model(data.x_val).argmax(1) == data.y_val).float().mean().item()
        if not np.isfinite(loss.item()):
            break
    return val_acc


def tutorial(cfgs: list[hp.TrainConfig], data: hp.Dataset) -> list[float]:
    torch.set_num_threads(DEFAULT_THREADS)
    try:
        return [tutorial_objective(c, data) for c in cfgs]
    finally:
        torch.set_num_threads(1)


def with_optuna(cfgs: list[hp.TrainConfig], data: hp.Dataset) -> list[float]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    lrs = [c.lr for c in cfgs]
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    for lr in lrs:  # the same 64 lrs as the other ways, asked through Optuna's API
        study.enqueue_trial({"lr": lr})
    torch.set_num_threads(DEFAULT_THREADS)
    try:
        study.optimize(
            lambda t: tutorial_objective(
                cfgs[0].replace(lr=t.suggest_float("lr", 1e-3, 1.0, log=True)), data
            ),
            n_trials=len(lrs),
        )
    finally:
        torch.set_num_threads(1)
    by_lr = {t.params["lr"]: t.value for t in study.trials}
    return [by_lr[lr] for lr in lrs]


def one_at_a_time(cfgs: list[hp.TrainConfig], data: hp.Dataset) -> list[float]:
    runs = hp.train_many(cfgs, data, engine="single", progress=False)
    return [h.final_val_acc for h in runs]


def population(cfgs: list[hp.TrainConfig], data: hp.Dataset) -> list[float]:
    runs = hp.train_many(cfgs, data, engine="population", progress=False)
    return [h.final_val_acc for h in runs]


def population_all_cores(cfgs: list[hp.TrainConfig], data: hp.Dataset) -> list[float]:
    from hpcourse.population import train_population

    runs = train_population(cfgs, data, progress=False, threads="auto")
    return [h.final_val_acc for h in runs]


def sweep_flops(n_models: int, data: hp.Dataset) -> float:
    """Multiply-adds x 2 of the sweep: forward + backward (3x forward) on every training
    example every epoch, plus the forward passes of the per-epoch evaluation."""
    sizes = [data.n_features, *HIDDEN, data.n_classes]
    per_example = 2 * sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))
    n_train, n_val = len(data.y_train), len(data.y_val)
    per_epoch = 3 * per_example * n_train + per_example * (n_train + n_val)
    return float(n_models * EPOCHS * per_epoch + n_models * per_example * (n_train + n_val))


def matmul_peak(flops: float) -> float:
    """GFLOP/s of one plain square ``torch.mm`` on one thread, sized like the sweep's work."""
    side = int(round((flops / 2) ** (1 / 3)))
    side = min(max(side, 256), 2048)
    a, b = torch.randn(side, side), torch.randn(side, side)
    a @ b
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * side**3 / best / 1e9


DEFAULT_THREADS = torch.get_num_threads()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--models", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = hp.load_dataset("digits", seed=0)
    cfgs = configs(args.models)
    ways = {
        f"tutorial loop ({DEFAULT_THREADS} threads), one at a time": tutorial,
        "tutorial loop driven by Optuna RandomSampler": with_optuna,
        "hpcourse.train, one at a time": one_at_a_time,
        "hpcourse population (all at once)": population,
        "hpcourse population, threads='auto' (idle cores)": population_all_cores,
    }
    population(cfgs[:4], data)  # warm-up
    times: dict[str, list[float]] = {name: [] for name in ways}
    accs: dict[str, list[float]] = {}
    for _ in range(args.repeats):
        for name, way in ways.items():
            start = time.perf_counter()
            accs[name] = way(cfgs, data)
            times[name].append(time.perf_counter() - start)
    median = {name: statistics.median(t) for name, t in times.items()}
    pop_name = "hpcourse population (all at once)"
    flops = sweep_flops(len(cfgs), data)
    achieved = flops / median[pop_name] / 1e9
    peak = matmul_peak(flops)
    print(f"{len(cfgs)} configurations x {EPOCHS} epochs, medians of {args.repeats} runs")
    for name, seconds in median.items():
        acc = np.nan_to_num(np.asarray(accs[name], dtype=float), nan=0.0)
        best = int(np.argmax(acc))
        print(
            f"{seconds:8.2f} s  {median[name] / median[pop_name]:6.1f}x the population  "
            f"best lr {cfgs[best].lr:.3g} (val acc {acc[best]:.3f})  {name}"
        )
    print(
        f"population: {achieved:.1f} GFLOP/s = {achieved / peak:.0%} of a plain torch.mm "
        f"({peak:.1f} GFLOP/s) on one thread"
    )
    ratios = {name: median[name] / median[pop_name] for name in ways}
    print(
        json.dumps(
            {
                "seconds": median,
                "vs_population": ratios,
                "population_gflops": achieved,
                "matmul_gflops": peak,
                "peak_share": achieved / peak,
                "best_val_acc": {n: float(np.nanmax(a)) for n, a in accs.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
