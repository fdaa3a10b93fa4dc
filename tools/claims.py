"""``make claims``: every claim check of every notebook, on several seeds and under faults.

A *claim check* is a code cell whose first line is ``# Claim check: <what it asserts>``
and which names, in its first comment lines, the faults it must catch:
``(catches: lr_scaled, lr_ignored)``. An *illustration* starts with ``# Illustration:``;
no fault is expected to make it fail. This script

1. runs every notebook with ``HPCOURSE_SEED`` = each seed (default 1, 2, 3; seed 0 is
   ``make test``'s own run) and records each claim's outcome: every claim must hold on
   every seed, and no other cell may fail;
2. for every fault a notebook's claims name, runs that notebook (seed 0) with the fault
   injected by a first cell (see ``tools/faults.py``), stopped after the last claim that
   names it, and verifies that each claim naming the fault fails with an
   ``AssertionError`` (a crash of an earlier cell does not count as a catch);
3. writes ``docs/claims.md`` (notebook, claim, faults caught, seeds held) and exits
   non-zero if any claim failed on a seed or missed a fault it names. A run of some
   notebooks (``--notebooks``) replaces their rows and keeps the other notebooks' rows.

Notebooks run through nbval, exactly as in ``make test``, two at a time. A run whose
kernel never started (two kernels starting side by side can race for the same free port,
and the loser dies before it answers) says nothing about a claim: it is run again, up to
``KERNEL_START_ATTEMPTS`` times in all, and the retry is printed.

    python tools/claims.py                       # everything
    python tools/claims.py --notebooks 02 --faults lr_scaled --seeds 1
    python tools/claims.py --list                # the claims and the faults they name
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "tools"
NOTEBOOKS = ROOT / "notebooks"
WORK = ROOT / "build" / "claims"
DOC = ROOT / "docs" / "claims.md"

sys.path.insert(0, str(TOOLS))
from faults import FAULTS  # noqa: E402

CLAIM = re.compile(r"^#\s*Claim check:\s*(.+)$")
ILLUSTRATION = re.compile(r"^#\s*Illustration:\s*(.+)$")
CATCHES = re.compile(r"\(catches:\s*([a-z0-9_,\s]+)\)")
# What jupyter_client and nbval say when a kernel dies or hangs before its first reply.
KERNEL_START_FAILURES = (
    "Kernel died before replying to kernel_info",
    "Kernel didn't respond in",
    "Kernel didn't respond to heartbeats",
    "Kernel info reqest timed out",  # sic: nbval's spelling
    "Wasn't able to establish IOPub",
)
KERNEL_START_ATTEMPTS = 3


@dataclass
class Claim:
    """One claim-check cell: where it is, what it says, which faults it names."""

    notebook: str  # file stem, e.g. "02_learning_rate"
    code_cell: int  # index among the notebook's code cells (nbval's "Cell N")
    text: str
    catches: list[str]
    seeds: dict[int, str] = field(default_factory=dict)  # seed -> "passed" / "FAILED ..."
    faults: dict[str, str] = field(default_factory=dict)  # named fault -> "caught" / ...
    also_fails_under: set[str] = field(default_factory=set)

    @property
    def key(self) -> str:
        return f"{self.notebook}::Cell {self.code_cell}"


@dataclass
class Notebook:
    path: Path
    claims: list[Claim]
    illustrations: list[str]
    problems: list[str]


def _comment_head(source: str) -> str:
    """The cell's leading comment lines, joined (where a claim states its faults)."""
    head = []
    for line in source.splitlines():
        if not line.startswith("#"):
            break
        head.append(line.lstrip("#").strip())
    return " ".join(head)


def parse_notebook(path: Path) -> Notebook:
    """Find the claim checks and illustrations of a notebook and check their format."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    claims, illustrations, problems = [], [], []
    code_index = -1
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        code_index += 1
        source = "".join(cell["source"])
        first = source.splitlines()[0] if source.strip() else ""
        where = f"{path.name} code cell {code_index}"
        if m := CLAIM.match(first):
            found = CATCHES.search(_comment_head(source))
            names = [n.strip() for n in found.group(1).split(",") if n.strip()] if found else []
            if not names:
                problems.append(f"{where}: a claim check must name the faults it catches")
            for name in names:
                if name not in FAULTS:
                    problems.append(f"{where}: unknown fault {name!r}")
            if "assert" not in source:
                problems.append(f"{where}: a claim check must assert something")
            # the claim's whole sentence, which may run over several comment lines, up to
            # the end of its "(catches: ...)"
            head = _comment_head(source)
            said = head[: found.end()] if found else head
            text = CATCHES.sub("", said).removeprefix("Claim check:").strip().rstrip(".")
            claims.append(Claim(path.stem, code_index, text, names))
        elif m := ILLUSTRATION.match(first):
            illustrations.append(m.group(1).strip())
        elif re.search(r"^\s*assert\b", source, flags=re.M):
            problems.append(
                f"{where}: asserts something but is neither '# Claim check:' nor '# Illustration:'"
            )
    return Notebook(path, claims, illustrations, problems)


# --------------------------------------------------------------------------- running


def _fault_cell(fault: str) -> dict[str, Any]:
    source = (
        f"import sys\nsys.path.insert(0, {str(TOOLS)!r})\nimport faults\nfaults.apply({fault!r})"
    )
    return {
        "cell_type": "code",
        "metadata": {},
        "source": source,
        "outputs": [],
        "execution_count": None,
    }


def _run_nbval(notebook: Path, env: dict[str, str], report: Path, timeout: int) -> dict[str, Any]:
    """Run one notebook through nbval; return {"Cell N": outcome} from the plugin."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        str(notebook),
        "-q",
        "--nbval-lax",
        "-p",
        "claims_plugin",
        "-p",
        "no:cacheprovider",
        "--rootdir",
        str(ROOT),
        "-o",
        "testpaths=",
        "-W",
        "ignore",
    ]
    full_env = {
        **os.environ,
        **env,
        "HPCOURSE_CLAIMS_REPORT": str(report),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(TOOLS), os.environ.get("PYTHONPATH")])),
    }
    full_env.pop("MPLBACKEND", None)
    full_env["HPCOURSE_THREADS"] = "1"  # notebooks run side by side: one core each
    report.unlink(missing_ok=True)
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=timeout
        )
        tail = proc.stdout[-3000:] + proc.stderr[-2000:]
    except subprocess.TimeoutExpired:
        tail = f"timed out after {timeout} s"
    if not report.exists():
        return {"__error__": tail}
    return json.loads(report.read_text())


@dataclass
class Job:
    notebook: Notebook
    seed: int | None = None  # a seed run ...
    fault: str | None = None  # ... or a fault run (seed 0)

    @property
    def label(self) -> str:
        what = f"seed {self.seed}" if self.fault is None else f"fault {self.fault}"
        return f"{self.notebook.path.stem} [{what}]"


def kernel_did_not_start(result: dict[str, Any]) -> bool:
    """True when a run's report shows its kernel died or hung before running any cell.

    Such a run is an accident of the machine, not evidence about a claim. A kernel that a
    fault kills *while a cell runs* is a different message ("Kernel died" during execution)
    and counts as a crash of that cell, as it should.
    """
    texts = [str(result.get("__error__", ""))]
    texts += [o.get("message", "") for k, o in result.items() if k.startswith("Cell ")]
    return any(marker in text for text in texts for marker in KERNEL_START_FAILURES)


def run_job(
    job: Job, timeout: int, attempts: int = KERNEL_START_ATTEMPTS
) -> tuple[Job, dict[str, Any], float]:
    """Run one job; run it again (at most ``attempts`` runs) if its kernel did not start."""
    start = time.perf_counter()
    for attempt in range(1, attempts + 1):
        result = _run_job_once(job, timeout)
        if not kernel_did_not_start(result):
            break
        print(f"  the kernel of {job.label} did not start (attempt {attempt} of {attempts})")
    return job, result, time.perf_counter() - start


def _run_job_once(job: Job, timeout: int) -> dict[str, Any]:
    WORK.mkdir(parents=True, exist_ok=True)
    stem = job.notebook.path.stem
    if job.fault is None:
        report = WORK / f"{stem}.seed{job.seed}.json"
        result = _run_nbval(job.notebook.path, {"HPCOURSE_SEED": str(job.seed)}, report, timeout)
    else:
        nb = json.loads(job.notebook.path.read_text(encoding="utf-8"))
        last = max(c.code_cell for c in job.notebook.claims if job.fault in c.catches)
        kept, code_index = [], -1
        for cell in nb["cells"]:  # stop after the last claim that names the fault
            if cell["cell_type"] == "code":
                code_index += 1
                if code_index > last:
                    break
            kept.append(cell)
        nb["cells"] = [_fault_cell(job.fault), *kept]
        copy = WORK / f"{stem}.{job.fault}.ipynb"
        copy.write_text(json.dumps(nb), encoding="utf-8")
        for extra in ("runs",):  # notebooks that write files write them next to the copy
            shutil.rmtree(WORK / extra, ignore_errors=True)
        report = WORK / f"{stem}.{job.fault}.json"
        raw = _run_nbval(copy, {"HPCOURSE_SEED": "0"}, report, timeout)
        result = {}  # shift back by one code cell: the fault cell came first
        for name, outcome in raw.items():
            if name.startswith("Cell "):
                number = int(name.split()[1]) - 1
                if number >= 0:
                    result[f"Cell {number}"] = outcome
                elif outcome["outcome"] != "passed":
                    result["__error__"] = "the fault cell itself failed: " + outcome["message"]
            else:
                result[name] = outcome
    return result


# --------------------------------------------------------------------------- report


def _seed_verdict(outcome: dict[str, Any] | None) -> str:
    if outcome is None:
        return "not run"
    if outcome["outcome"] == "passed":
        return "passed"
    return "FAILED" if outcome["assertion"] else "CRASHED"


def _kept_rows(path: Path, replaced: set[str]) -> tuple[list[str], list[str]]:
    """The table rows and illustration lines of ``path`` that belong to notebooks not in
    ``replaced``: a run of a few notebooks updates their rows and keeps the rest."""
    if not path.exists():
        return [], []
    rows, illustrations = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if line.startswith("| ") and len(cells) == 6 and cells[1].isdigit():
            if cells[0] not in replaced:
                rows.append(line)
        elif line.startswith("- ") and ": " in line and not line.startswith("- `"):
            if line[2:].split(": ", 1)[0] not in replaced:
                illustrations.append(line)
    return rows, illustrations


def _by_notebook(lines: list[str], prefix: str) -> list[str]:
    """Sort generated lines by notebook name (stable within a notebook)."""
    return sorted(lines, key=lambda line: line[len(prefix) :].split(" ", 1)[0].rstrip(":|"))


def write_doc(
    notebooks: list[Notebook], seeds: list[int], path: Path, keep_others: bool = False
) -> None:
    kept_rows, kept_illustrations = (
        _kept_rows(path, {nb.path.stem for nb in notebooks}) if keep_others else ([], [])
    )
    rows: list[str] = list(kept_rows)
    illustrations: list[str] = list(kept_illustrations)
    lines = [
        "# Claims of the course, and what they are checked against",
        "",
        "Generated by `make claims` (`tools/claims.py`); do not edit by hand. Each claim check",
        "is a cell of a notebook that asserts what the lesson just said, on the numbers of the",
        "run just made. *Seeds* lists the values of `HPCOURSE_SEED` on which the claim held",
        "in the last `make claims` run (seed 0 is also `make test`'s run). *Faults caught*",
        "lists the faults (`tools/faults.py`) that the claim names and that made it fail when",
        "injected; *also fails under* lists other injected faults that made it fail.",
        "",
        "| notebook | cell | claim | faults caught | also fails under | seeds held |",
        "|---|---|---|---|---|---|",
    ]
    for nb in notebooks:
        for c in nb.claims:
            caught = [f for f in c.catches if c.faults.get(f) == "caught"]
            missed = [f"{f} ({c.faults.get(f, 'not run')})" for f in c.catches if f not in caught]
            cell = (
                "; ".join(
                    filter(None, [", ".join(caught), "NOT: " + ", ".join(missed) if missed else ""])
                )
                or "-"
            )
            held = [str(s) for s in seeds if c.seeds.get(s) == "passed"]
            failed = [f"{s} ({c.seeds.get(s)})" for s in seeds if c.seeds.get(s) != "passed"]
            seeds_text = (
                "; ".join(
                    filter(None, [", ".join(held), "NOT: " + ", ".join(failed) if failed else ""])
                )
                or "-"
            )
            also = ", ".join(sorted(c.also_fails_under - set(c.catches))) or "-"
            text = c.text.replace("|", "\\|")
            rows.append(
                f"| {nb.path.stem} | {c.code_cell} | {text} | {cell} | {also} | {seeds_text} |"
            )
    lines += _by_notebook(rows, "| ")
    lines += ["", "## Illustrations (cells no fault is expected to make fail)", ""]
    for nb in notebooks:
        for text in nb.illustrations:
            illustrations.append(f"- {nb.path.stem}: {text}")
    lines += _by_notebook(illustrations, "- ")
    lines += ["", "## Faults", ""]
    for fault in FAULTS.values():
        lines.append(f"- `{fault.name}`: {fault.description}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2,3", help="comma-separated HPCOURSE_SEED values")
    parser.add_argument("--faults", default="all", help="'all', 'none' or comma-separated names")
    parser.add_argument("--notebooks", default="", help="comma-separated prefixes, e.g. 01,02")
    parser.add_argument("--notebook-dir", default=str(NOTEBOOKS), help="where the notebooks are")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks run at once")
    parser.add_argument("--timeout", type=int, default=600, help="seconds per notebook run")
    parser.add_argument("--doc", default=str(DOC), help="where to write the table ('' = don't)")
    parser.add_argument("--list", action="store_true", help="list the claims and stop")
    args = parser.parse_args(argv)

    paths = sorted(Path(args.notebook_dir).glob("[0-9][0-9]_*.ipynb"))
    if args.notebooks:
        prefixes = tuple(p.strip() for p in args.notebooks.split(","))
        paths = [p for p in paths if p.name.startswith(prefixes)]
    notebooks = [parse_notebook(p) for p in paths]
    problems = [p for nb in notebooks for p in nb.problems]
    if args.list or problems:
        for nb in notebooks:
            for c in nb.claims:
                print(f"{c.key}: {c.text}  [catches: {', '.join(c.catches)}]")
        for p in problems:
            print("PROBLEM:", p)
        return 1 if problems else 0

    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    wanted = (
        set(FAULTS)
        if args.faults == "all"
        else set()
        if args.faults == "none"
        else {f.strip() for f in args.faults.split(",")}
    )
    jobs = [Job(nb, seed=s) for nb in notebooks for s in seeds]
    for nb in notebooks:
        named = sorted({f for c in nb.claims for f in c.catches} & wanted)
        jobs += [Job(nb, fault=f) for f in named]

    start = time.perf_counter()
    failures: list[str] = []
    print(
        f"claims: {sum(len(nb.claims) for nb in notebooks)} claim checks in "
        f"{len(notebooks)} notebooks; {len(jobs)} notebook runs, {args.jobs} at a time"
    )
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for job, result, seconds in pool.map(lambda j: run_job(j, args.timeout), jobs):
            status = []
            if "__error__" in result:
                failures.append(f"{job.label}: the run did not finish: {result['__error__']}")
                status.append("RUN FAILED")
            claim_cells = {c.code_cell: c for c in job.notebook.claims}
            for name, outcome in result.items():
                if not name.startswith("Cell "):
                    continue
                number = int(name.split()[1])
                claim = claim_cells.get(number)
                if job.seed is not None:
                    if claim is not None:
                        claim.seeds[job.seed] = _seed_verdict(outcome)
                        if outcome["outcome"] != "passed":
                            failures.append(
                                f"{claim.key} seed {job.seed}: {claim.text}\n"
                                f"{outcome['message'][-800:]}"
                            )
                    elif outcome["outcome"] != "passed":
                        failures.append(
                            f"{job.notebook.path.stem}::{name} seed {job.seed} "
                            f"(not a claim) failed:\n{outcome['message'][-800:]}"
                        )
                elif job.fault is not None and claim is not None and outcome["assertion"]:
                    claim.also_fails_under.add(job.fault)
            if job.fault is not None:
                for claim in job.notebook.claims:
                    if job.fault not in claim.catches:
                        continue
                    outcome = result.get(f"Cell {claim.code_cell}")
                    if outcome is None:
                        verdict = "not reached"
                    elif outcome["outcome"] == "passed":
                        verdict = "NOT caught"
                    else:
                        verdict = "caught" if outcome["assertion"] else "crashed"
                    claim.faults[job.fault] = verdict
                    status.append(f"{claim.code_cell}:{verdict}")
                    if verdict != "caught":
                        failures.append(
                            f"{claim.key} names {job.fault} but it was {verdict}: {claim.text}"
                        )
            print(f"  {seconds:6.1f} s  {job.label}  {' '.join(status)}", flush=True)

    if args.doc:
        write_doc(notebooks, seeds, Path(args.doc), keep_others=bool(args.notebooks))
    total = time.perf_counter() - start
    print(f"claims: {len(jobs)} notebook runs in {total:.0f} s")
    if failures:
        print(f"\n{len(failures)} problem(s):")
        for f in failures:
            print(" -", f)
        return 1
    print("every claim held on every seed and caught every fault it names")
    return 0


if __name__ == "__main__":
    sys.exit(main())
