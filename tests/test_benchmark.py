"""The benchmark script runs and reports its figures (it times nothing as a test)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_benchmark_script_prints_its_figures_as_json():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_trainer.py"), "--repeats", "1"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert (
        abs(result["speedup"] - result["tutorial_s"] / result["hpcourse_s"])
        < 0.01 * result["speedup"]
    )
    assert abs(result["tutorial_val_acc"] - result["hpcourse_val_acc"]) < 0.03


def test_sweep_benchmark_reports_five_ways_and_the_peak_share():
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench_sweep.py"),
            "--repeats",
            "1",
            "--models",
            "4",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert len(result["seconds"]) == 5 and 0 < result["peak_share"] < 1.5
    population = result["seconds"]["hpcourse population (all at once)"]
    for name, seconds in result["seconds"].items():
        assert abs(result["vs_population"][name] - seconds / population) < 1e-9
    accs = list(result["best_val_acc"].values())
    assert max(accs) - min(accs) < 0.05  # the same sweep, whichever way it ran


def test_submodules_are_reachable_from_the_top_level():
    import hpcourse as hp

    assert hp.runs.build_model is not None and hp.plots.plot_history is not None
