"""The experiment log loses nothing already written, even if the process is killed."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pandas as pd
import pytest

import hpcourse as hp


def test_records_round_trip_including_inf_and_nan(tmp_path):
    log = hp.ExperimentLog(tmp_path / "sub" / "runs.jsonl")
    log.append({"config": {"lr": 10.0}, "metrics": {"final_val_loss": float("inf")}})
    log.append({"config": {"lr": 0.1}, "metrics": {"final_val_loss": float("nan")}})
    records = log.records()
    assert len(log) == 2 and records[0]["metrics"]["final_val_loss"] == float("inf")
    assert records[1]["metrics"]["final_val_loss"] != records[1]["metrics"]["final_val_loss"]
    for line in (tmp_path / "sub" / "runs.jsonl").read_text().splitlines():
        json.loads(line)  # every line is standard JSON (no bare Infinity / NaN)


def test_truncated_last_line_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / "runs.jsonl"
    log = hp.ExperimentLog(path)
    log.append({"config": {"lr": 0.1}})
    with open(path, "a") as f:
        f.write('{"config": {"lr": 0.')  # what a crash mid-write leaves behind
    with pytest.warns(UserWarning, match="line 2 is incomplete or damaged"):
        assert [r["config"]["lr"] for r in log.records()] == [0.1]


def test_bad_records_and_logs_are_rejected(tmp_path):
    with pytest.raises(ValueError, match="record=.* must be a dict"):
        hp.ExperimentLog(tmp_path / "x.jsonl").append([1, 2])
    with pytest.raises(ValueError, match="log=3 is not allowed"):
        hp.train({"epochs": 1}, hp.load_dataset("digits"), log=3)


WRITER = textwrap.dedent(
    """
    import sys, time
    import hpcourse as hp
    data = hp.load_dataset("digits")
    log = hp.ExperimentLog(sys.argv[1])
    for i in range(1000):
        hp.train({"epochs": 1, "seed": i}, data, log=log)
        if i == 2:  # start a record and die in the middle of writing it
            with open(sys.argv[1], "a") as f:
                f.write('{"config": {"seed": 3, "lr"')
                f.flush()
                time.sleep(60)
    """
)


def test_killing_the_process_mid_sweep_keeps_every_finished_run(tmp_path):
    path = tmp_path / "runs.jsonl"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)])
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            if (
                path.exists()
                and path.read_text().count("\n") == 3
                and '"lr"' in path.read_text()[-6:]
            ):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the writer never reached the half-written record")
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with pytest.warns(UserWarning, match="line 4 is incomplete"):
        records = hp.ExperimentLog(path).records()
    assert [r["config"]["seed"] for r in records] == [0, 1, 2]
    assert all("final_val_acc" in r["metrics"] for r in records)


def test_a_sweep_resumed_after_a_crash_loses_no_record(tmp_path):
    path = tmp_path / "runs.jsonl"
    log = hp.ExperimentLog(path)
    log.append({"config": {"seed": 0}})
    with open(path, "a") as f:
        f.write('{"config": {"seed": 1, "l')  # the crash: a fragment with no newline
    log.append({"config": {"seed": 1}})  # the resumed sweep writes the run again
    log.append({"config": {"seed": 2}})
    with pytest.warns(UserWarning, match="line 2 is incomplete or damaged"):
        seeds = [r["config"]["seed"] for r in log.records()]
    assert seeds == [0, 1, 2]


def test_strings_that_look_like_numbers_stay_strings(tmp_path):
    log = hp.ExperimentLog(tmp_path / "runs.jsonl")
    record = {"note": "inf", "tags": ["nan", "-inf"], "loss": float("-inf")}
    log.append(record)
    back = log.records()[0]
    assert back["note"] == "inf" and back["tags"] == ["nan", "-inf"]
    assert back["loss"] == float("-inf")


def test_a_diverged_run_logs_nan_accuracy_not_the_untrained_one(tmp_path):
    log = hp.ExperimentLog(tmp_path / "runs.jsonl")
    h = hp.train({"lr": 1e4, "epochs": 2}, hp.load_dataset("digits"), log=log)
    assert h.diverged and h.val_acc[0] > 0  # the untrained model was measured ...
    metrics = log.records()[0]["metrics"]
    assert metrics["final_val_acc"] != metrics["final_val_acc"]  # ... but is not the result
    assert metrics["best_val_acc"] != metrics["best_val_acc"]
    assert metrics["final_val_loss"] == float("inf")


def test_compare_filters_sorts_and_picks_short_names(tmp_path):
    log = hp.ExperimentLog(tmp_path / "runs.jsonl")
    data = hp.load_dataset("digits")
    hp.train_many(
        [
            {"lr": lr, "epochs": 1, "optimizer": o}
            for lr in (0.01, 0.1)
            for o in ("sgd", "momentum")
        ],
        data,
        log=log,
    )
    table = log.compare({"optimizer": "momentum"}, columns=["lr", "optimizer", "final_val_loss"])
    assert table["optimizer"].tolist() == ["momentum", "momentum"]
    assert table["final_val_loss"].is_monotonic_increasing
    assert len(log.compare({"lr": [0.1], "optimizer": lambda o: o != "sgd"})) == 1
    with pytest.raises(ValueError, match="where\\['width'\\] is not allowed"):
        log.compare({"width": 3})
    with pytest.raises(ValueError, match="columns item 'speed' is not allowed"):
        log.compare(columns=["speed"])
    csv = log.export_csv(tmp_path / "out" / "runs.csv")
    assert csv.read_text().count("\n") == 5  # a header and four runs


def test_best_so_far_and_export_to_optuna(tmp_path):
    from hpcourse.space import Choice, Float, SearchSpace
    from hpcourse.tracking import export_to_optuna, with_best_so_far

    table = with_best_so_far(pd.DataFrame({"acc": [0.5, 0.7, 0.6]}), "acc", minimize=False)
    assert table["best_so_far"].tolist() == [0.5, 0.7, 0.7]
    log = hp.ExperimentLog(tmp_path / "runs.jsonl")
    for lr, loss in ((0.01, 1.2), (0.1, 0.8), (3.0, float("inf")), (50.0, 2.0)):
        log.append({"config": {"lr": lr, "optimizer": "sgd"}, "metrics": {"final_val_loss": loss}})
    space = SearchSpace({"lr": Float(1e-3, 10.0, "log"), "optimizer": Choice(("sgd", "adam"))})
    study = export_to_optuna(log, space)
    assert len(study.trials) == 2  # inf is not a result; lr 50 lies outside the space
    assert study.best_params == {"lr": 0.1, "optimizer": "sgd"}
