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


def test_submodules_are_reachable_from_the_top_level():
    import hpcourse as hp

    assert hp.runs.build_model is not None and hp.plots.plot_history is not None
