"""The claims harness itself: it must notice a claim that fails on a seed, a claim that
misses a fault it names, a notebook that does not follow the format, and it must pass
a claim that does catch its fault. A tiny synthetic notebook keeps this fast."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import claims  # noqa: E402
from faults import FAULTS, apply  # noqa: E402


def _notebook(path: Path, sources: list[str]) -> Path:
    cells = [
        {"cell_type": "code", "metadata": {}, "source": s, "outputs": [], "execution_count": None}
        for s in sources
    ]
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path.write_text(json.dumps(nb))
    return path


SETUP = "import torch\nimport hpcourse as hp\nrng = hp.setup(seed=0)"
CATCHES = (
    "# Claim check: one SGD step moves a weight by exactly lr times its gradient"
    " (catches: lr_scaled)\n"
    "w = torch.nn.Parameter(torch.ones(3))\nopt = torch.optim.SGD([w], lr=0.1)\n"
    "w.grad = torch.ones(3)\nopt.step()\n"
    "assert torch.allclose(w.detach(), torch.full((3,), 0.9)), w"
)
MISSES = "# Claim check: arithmetic still works (catches: dropout_ignored)\nassert 1 + 1 == 2"
SEED_DEPENDENT = (
    "# Claim check: the seed is below 2 (catches: lr_ignored)\n"
    "from hpcourse.seeding import course_seed\nassert course_seed() < 2, course_seed()"
)


def test_parse_finds_claims_and_flags_format_problems(tmp_path):
    path = _notebook(
        tmp_path / "01_demo.ipynb",
        [
            SETUP,
            CATCHES,
            "# Claim check: no faults named\nassert True",
            "# Illustration: the formula, shown\nassert 2 * 2 == 4",
            "x = 1\nassert x == 1",
            "# Claim check: unknown (catches: no_such_fault)\nassert True",
        ],
    )
    nb = claims.parse_notebook(path)
    assert [c.code_cell for c in nb.claims] == [1, 2, 5]
    assert nb.claims[0].catches == ["lr_scaled"]
    assert nb.claims[0].text == "one SGD step moves a weight by exactly lr times its gradient"
    assert nb.illustrations == ["the formula, shown"]
    joined = "\n".join(nb.problems)
    assert "code cell 2: a claim check must name the faults it catches" in joined
    assert "code cell 4: asserts something but is neither" in joined
    assert "code cell 5: unknown fault 'no_such_fault'" in joined


def test_harness_reports_caught_missed_and_seed_failures(tmp_path):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    _notebook(nb_dir / "01_demo.ipynb", [SETUP, CATCHES, MISSES, SEED_DEPENDENT])
    doc = tmp_path / "claims.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tools" / "claims.py"),
            "--notebook-dir",
            str(nb_dir),
            "--seeds",
            "1,2",
            "--doc",
            str(doc),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout
    assert proc.returncode == 1, out
    table = doc.read_text()
    first = "| 01_demo | 1 | one SGD step moves a weight by exactly lr times its gradient |"
    assert first + " lr_scaled | lr_ignored | 1, 2 |" in table  # lr_ignored: an extra catch
    assert "| arithmetic still works | NOT: dropout_ignored (NOT caught) | - | 1, 2 |" in table
    assert "names dropout_ignored but it was NOT caught" in out
    assert "01_demo::Cell 3 seed 2" in out  # the seed-dependent claim failed on seed 2
    assert "| 1; NOT: 2 (FAILED) |" in table


def test_every_fault_has_a_description_and_unknown_faults_are_refused():
    assert len(FAULTS) >= 15
    for fault in FAULTS.values():
        assert fault.description and fault.name.islower()
    with pytest.raises(ValueError, match="fault='lr_typo' is not allowed"):
        apply("lr_typo")


ENGINE_CHECK = """
import sys, json
sys.path.insert(0, {tools!r})
import faults
faults.apply({fault!r})
import hpcourse as hp
data = hp.load_dataset("digits")
out = []
for opt, lr in (("momentum", 0.05), ("adam", 1e-3)):
    c = dict(optimizer=opt, lr=lr, epochs=1, weight_decay=1e-2, dropout=0.2,
             schedule="cosine", warmup_epochs=1, grad_clip=0.5, hidden=[32])
    single = hp.train(c, data)
    population = hp.train_many([c, dict(c, seed=9)], data, engine="population", progress=False)
    out.append((single.step_loss[-1], population[0].step_loss[-1]))
print(json.dumps(out))
"""


def _engine_check(fault: str | None) -> list[list[float]]:
    code = ENGINE_CHECK.format(tools=str(ROOT / "tools"), fault=fault or "")
    if fault is None:
        code = code.replace("faults.apply('')", "pass")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def unfaulted_runs() -> list[list[float]]:
    return _engine_check(None)


@pytest.mark.parametrize(
    "fault",
    [
        "lr_ignored",
        "lr_scaled",
        "momentum_ignored",
        "weight_decay_ignored",
        "adam_is_momentum",
        "adam_betas_swapped",
        "grad_clip_ignored",
        "dropout_ignored",
        "schedule_ignored",
    ],
)
def test_a_fault_reaches_both_training_engines_alike(fault, unfaulted_runs):
    """A claim checked on a sweep must notice a fault whichever engine ran the sweep."""
    faulted = _engine_check(fault)
    for single, population in faulted:
        assert population == pytest.approx(single, rel=1e-4)  # same fault, same run
    changed = [
        abs(f[0] - n[0]) > 1e-4 * abs(n[0]) for f, n in zip(faulted, unfaulted_runs, strict=True)
    ]
    assert any(changed), "the fault changed nothing"


def test_a_run_of_some_notebooks_keeps_the_other_notebooks_rows(tmp_path):
    """`tools/claims.py --notebooks 07` rewrites 07's rows and keeps every other notebook's."""

    def notebook(stem: str, text: str) -> claims.Notebook:
        claim = claims.Claim(stem, 3, text, ["lr_ignored"], seeds={1: "passed"})
        claim.faults["lr_ignored"] = "caught"
        return claims.Notebook(Path(f"{stem}.ipynb"), [claim], [f"{text} (drawn)"], [])

    doc = tmp_path / "claims.md"
    claims.write_doc([notebook("01_a", "old one"), notebook("02_b", "old two")], [1], doc)
    claims.write_doc([notebook("00_z", "new zero"), notebook("02_b", "new two")], [1], doc, True)
    text = doc.read_text()
    assert "old one" in text and "new two" in text and "new zero" in text
    assert "old two" not in text  # replaced, not kept twice
    rows = [line.split(" | ")[0] for line in text.splitlines() if line.startswith("| 0")]
    assert rows == ["| 00_z", "| 01_a", "| 02_b"]  # in notebook order
    assert text.count("(drawn)") == 3
    claims.write_doc([notebook("02_b", "only")], [1], doc)  # a full run keeps nothing else
    assert "old one" not in doc.read_text()


def test_a_run_whose_kernel_did_not_start_is_run_again(monkeypatch):
    """Two kernels starting side by side can race for one port; the loser is not a verdict."""
    died = "RuntimeError: Kernel died before replying to kernel_info"
    crashed = {"Cell 3": {"outcome": "failed", "assertion": False, "message": died}}
    held = {"Cell 3": {"outcome": "passed", "assertion": False, "message": ""}}
    assert claims.kernel_did_not_start(crashed)
    assert claims.kernel_did_not_start({"__error__": "the fault cell itself failed: " + died})
    assert not claims.kernel_did_not_start(held)
    dead = "DeadKernelError: Kernel died"  # a crash the fault caused, mid-cell
    killed_by_a_cell = {"Cell 3": {"outcome": "failed", "assertion": False, "message": dead}}
    assert not claims.kernel_did_not_start(killed_by_a_cell)

    job = claims.Job(claims.Notebook(Path("02_demo.ipynb"), [], [], []), seed=1)
    runs = iter([crashed, crashed, held])
    monkeypatch.setattr(claims, "_run_job_once", lambda job, timeout: next(runs))
    assert claims.run_job(job, timeout=5)[1] == held  # third attempt
    runs = iter([crashed, crashed, crashed, held])
    assert claims.run_job(job, timeout=5)[1] == crashed  # gives up after three: reported


RULES_CHECK = """
import sys, json
sys.path.insert(0, {tools!r})
import faults
{apply}
import hpcourse as hp
data = hp.load_dataset("digits", seed=0)
c = dict(lr=1e4, epochs=2, patience=1, min_delta=0.5)
single = hp.train(c, data)
population = hp.train_many([c, dict(c, lr=0.1)], data, engine="population", progress=False)
print(json.dumps([(h.diverged, h.stopped_early, len(h.step_loss)) for h in (single, *population)]))
"""


@pytest.mark.parametrize("fault", ["divergence_never_flagged", "early_stopping_ignored"])
def test_a_fault_in_the_shared_rules_reaches_both_engines(fault):
    """Both engines decide divergence and early stopping with hpcourse.rules: one rule, so a
    fault in it shows in a population exactly as in a single run."""

    def run(apply: str) -> list[list[Any]]:
        code = RULES_CHECK.format(tools=str(ROOT / "tools"), apply=apply)
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-2000:]
        return json.loads(result.stdout.splitlines()[-1])

    healthy, faulted = run("pass"), run(f"faults.apply({fault!r})")
    assert faulted != healthy, "the fault changed nothing"
    assert faulted[1] == faulted[0], "the population applied another rule than train()"
    assert healthy[1] == healthy[0]
