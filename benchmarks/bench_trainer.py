"""Benchmark: hpcourse's trainer against a typical tutorial training loop.

Both train the same model (MLP 64-128-10 on digits, SGD lr 0.1, batch 32, 20 epochs,
validation after every epoch) from the same initial weights. The tutorial loop is
what most courses write: a TensorDataset in a DataLoader, PyTorch's default thread
count. We print both times, their ratio and the final validation accuracies; the
last line is one JSON object with the figures, for scripts.

Run with ``make bench`` (or ``python benchmarks/bench_trainer.py --repeats 5``).
Timings are medians over repeats, interleaving the two methods so that a busy
machine slows both alike.
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

CONFIG = hp.TrainConfig(lr=0.1, batch_size=32, epochs=20, optimizer="sgd", hidden=(128,))


def tutorial_loop(data: hp.Dataset, threads: int) -> tuple[float, float]:
    """The usual way: DataLoader over a TensorDataset, default threads. Returns (s, val_acc)."""
    torch.set_num_threads(threads)
    model = hp.training.build_model(CONFIG, data)
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


def hpcourse_loop(data: hp.Dataset) -> tuple[float, float]:
    history = hp.train(CONFIG, data)
    return history.wall_time, history.final_val_acc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    default_threads = torch.get_num_threads()
    data = hp.load_dataset("digits", seed=0)
    tutorial_loop(data, default_threads)  # warm-up: first calls pay one-off costs
    hpcourse_loop(data)

    tut, ours = [], []
    for _ in range(args.repeats):
        tut.append(tutorial_loop(data, default_threads))
        ours.append(hpcourse_loop(data))
    torch.set_num_threads(default_threads)
    t_tut = statistics.median(t for t, _ in tut)
    t_ours = statistics.median(t for t, _ in ours)
    acc_tut = statistics.mean(a for _, a in tut)
    acc_ours = statistics.mean(a for _, a in ours)
    ratio = t_tut / t_ours
    print(f"config: {CONFIG.hidden}, {CONFIG.optimizer}, batch {CONFIG.batch_size}, {CONFIG.epochs} epochs")
    print(f"tutorial loop (DataLoader, {default_threads} threads): {t_tut:.3f} s, val acc {acc_tut:.3f}")
    print(f"hpcourse.train (in-memory batches, 1 thread):  {t_ours:.3f} s, val acc {acc_ours:.3f}")
    print(f"speed-up: {ratio:.2f}x (goal: at least 1.5x)")
    result = {
        "tutorial_s": round(t_tut, 4),
        "hpcourse_s": round(t_ours, 4),
        "speedup": round(ratio, 3),
        "tutorial_val_acc": round(acc_tut, 4),
        "hpcourse_val_acc": round(acc_ours, 4),
        "repeats": args.repeats,
        "default_threads": default_threads,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
