"""Benchmark: hpcourse's trainer against a typical tutorial training loop.

Each trains the same model (MLP 64-128-10 on digits, SGD lr 0.1, batch 32, 20 epochs,
validation after every epoch) from the same initial weights. The tutorial loop is
what most courses write: a TensorDataset in a DataLoader, PyTorch's default thread
count. We print both times, their ratio and the final validation accuracies; the
last line is one JSON object with the figures, for scripts.

Run with ``make bench`` (or ``python benchmarks/bench_trainer.py --repeats 5``).
Two more rows separate the causes: the tutorial loop with one thread (how much is
thread overhead) and hpcourse with autograd instead of its hand-written MLP backward
pass (how much that saves). Timings are medians over repeats, the methods interleaved
so that a busy machine slows them alike; on a loaded machine the multi-threaded
tutorial loop suffers most, so compare figures from an idle machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

import hpcourse as hp
from hpcourse.runs import build_model

CONFIG = hp.TrainConfig(lr=0.1, batch_size=32, epochs=20, optimizer="sgd", hidden=(128,))


def tutorial_loop(data: hp.Dataset, threads: int) -> tuple[float, float]:
    """The usual way: DataLoader over a TensorDataset, default threads. Returns (s, val_acc)."""
    torch.set_num_threads(threads)
    model = build_model(CONFIG, data)
    opt = torch.optim.SGD(model.parameters(), lr=CONFIG.lr)
    loader = DataLoader(
        TensorDataset(data.x_train, data.y_train), batch_size=CONFIG.batch_size, shuffle=True
    )
    start = time.perf_counter()
    for _ in range(CONFIG.epochs):
        model.train()
        for xb, yb in loader:
            opt.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            val_acc = (model(data.x_val).argmax(1) == data.y_val).float().mean().item()
    return time.perf_counter() - start, val_acc


def hpcourse_loop(data: hp.Dataset, fast: bool) -> tuple[float, float]:
    history = hp.train(CONFIG, data, fast=fast)
    return history.wall_time, history.final_val_acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    default_threads = torch.get_num_threads()
    data = hp.load_dataset("digits", seed=0)
    methods = {
        f"tutorial loop (DataLoader, {default_threads} threads)": lambda: tutorial_loop(
            data, default_threads
        ),
        "tutorial loop (DataLoader, 1 thread)": lambda: tutorial_loop(data, 1),
        "hpcourse.train, autograd (fast=False)": lambda: hpcourse_loop(data, fast=False),
        "hpcourse.train (default)": lambda: hpcourse_loop(data, fast=True),
    }
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in methods}
    for run in methods.values():  # warm-up: first calls pay one-off costs
        run()
    for _ in range(args.repeats):  # interleaved, so a busy machine slows every method alike
        for name, run in methods.items():
            runs[name].append(run())
    torch.set_num_threads(default_threads)

    seconds = {name: statistics.median(t for t, _ in r) for name, r in runs.items()}
    accuracy = {name: statistics.mean(a for _, a in r) for name, r in runs.items()}
    ours = seconds["hpcourse.train (default)"]
    print(
        f"MLP {CONFIG.hidden} on digits, {CONFIG.optimizer} lr {CONFIG.lr}, batch "
        f"{CONFIG.batch_size}, {CONFIG.epochs} epochs; median of {args.repeats} runs"
    )
    for name in methods:
        print(
            f"  {name:42s} {seconds[name]:7.3f} s  val acc {accuracy[name]:.3f}  "
            f"hpcourse is {seconds[name] / ours:5.2f}x faster"
        )
    baseline = next(iter(methods))
    result = {
        "tutorial_s": round(seconds[baseline], 4),
        "tutorial_1thread_s": round(seconds["tutorial loop (DataLoader, 1 thread)"], 4),
        "hpcourse_autograd_s": round(seconds["hpcourse.train, autograd (fast=False)"], 4),
        "hpcourse_s": round(ours, 4),
        "speedup": round(seconds[baseline] / ours, 3),
        "speedup_vs_1thread_tutorial": round(
            seconds["tutorial loop (DataLoader, 1 thread)"] / ours, 3
        ),
        "tutorial_val_acc": round(accuracy[baseline], 4),
        "hpcourse_val_acc": round(accuracy["hpcourse.train (default)"], 4),
        "repeats": args.repeats,
        "default_threads": default_threads,
    }
    print(f"speed-up over the default tutorial loop: {result['speedup']:.2f}x (goal: >= 1.5x)")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
