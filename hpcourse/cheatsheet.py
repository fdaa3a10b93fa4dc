"""The hyperparameter cheat sheet: one table, kept in one machine-readable place.

Each :class:`Entry` says what a hyperparameter is, its family (model, optimizer or data),
where to start, which range to search and on which scale, what a run looks like when the
value is too small or too large, and the notebook that shows it. The numbers are not
retyped from memory: an entry's ``default`` and ``search`` are those of
:class:`~hpcourse.config.TrainConfig` (the range that
:meth:`hpcourse.space.SearchSpace.for_config` searches), and every typical range cites the
sentence of the question bank (or of a notebook) that states it. ``tests/test_cheatsheet.py``
checks all three, so the sheet cannot drift from the course.

Render it with ``python -m hpcourse.cheatsheet`` (``docs/cheatsheet.md`` and, with
``--html PATH``, a printable page).

>>> by_name()["learning rate"].search
Float(low=1e-05, high=1.0, scale='log')
"""

from __future__ import annotations

import argparse
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpcourse.space import Choice, Dimension, Float, Int

FAMILIES = ("model", "optimizer", "data")
#: how a range is searched; ``one_minus_log`` samples 1 - beta on a log scale (notebook 04)
SCALES = ("log", "linear", "one_minus_log", "small grid", "choice")
#: marks an entry without a TrainConfig field (default/search then mean nothing)
NO_FIELD = None


@dataclass(frozen=True)
class Source:
    """Where a number is stated: a question-bank id, or a notebook stem, and the phrase."""

    where: str
    phrase: str


@dataclass(frozen=True)
class Range:
    """A typical search range, on a scale, for a situation (``when``), with its source."""

    low: float
    high: float
    scale: str
    source: Source
    when: str = ""

    def text(self) -> str:
        scale = {"one_minus_log": "1 - x on a log scale"}.get(self.scale, f"{self.scale} scale")
        if self.scale == "small grid":
            scale = "a small grid"
        where = f" ({self.when})" if self.when else ""
        return f"{number(self.low)} to {number(self.high)}, {scale}{where}"


@dataclass(frozen=True)
class Entry:
    """One row of the cheat sheet."""

    name: str
    what: str
    family: str
    start: str
    ranges: tuple[Range, ...]
    too_small: str
    too_large: str
    notebooks: tuple[str, ...]
    field: str | None = NO_FIELD
    default: Any = None
    search: Dimension | None = None
    sources: tuple[Source, ...] = ()


def number(x: float) -> str:
    """A number the way the course writes it: 1e-5, 5e-4, 0.01, 0.999, 512.

    >>> [number(v) for v in (1e-5, 5e-4, 0.01, 0.999, 512, 0.95)]
    ['1e-5', '5e-4', '0.01', '0.999', '512', '0.95']
    """
    if x != 0 and abs(x) < 1e-3:
        mantissa, exponent = f"{x:e}".split("e")
        return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"
    return f"{x:g}"


def _bank(question: str, phrase: str) -> Source:
    return Source(question, phrase)


ENTRIES: tuple[Entry, ...] = (
    Entry(
        name="learning rate",
        what="the step size: each step moves the weights by lr times the (averaged) gradient",
        family="optimizer",
        start="Adam 1e-3 (or 3e-4); SGD with momentum 0.9: 0.01 to 0.1",
        ranges=(
            Range(1e-5, 1e-1, "log", _bank("lr-default-starting-points", "from 1e-5 to 1e-1")),
        ),
        too_small="loss falls slowly and steadily; the best value sits at the sweep's top edge",
        too_large="loss zig-zags, spikes, then inf/NaN (diverged); validation loss jumps around",
        notebooks=("02", "04", "07"),
        field="lr",
        default=0.1,
        search=Float(1e-5, 1.0, "log"),
        sources=(
            _bank("lr-default-starting-points", "About 1e-3 (or 3e-4) for Adam"),
            _bank("lr-default-starting-points", "0.01 to 0.1 for SGD with momentum 0.9"),
        ),
    ),
    Entry(
        name="batch size",
        what="examples averaged into one gradient estimate; sets steps per epoch and memory",
        family="optimizer",
        start="32 (or what fills memory for speed), then re-tune the learning rate",
        ranges=(Range(8, 512, "log", Source("TrainConfig", "batch_size")),),
        too_small="jagged loss, many cheap steps, slow epochs on parallel hardware",
        too_large="fewer updates per epoch, needs a larger lr, runs out of memory; past the "
        "noise scale more batch buys no fewer steps",
        notebooks=("03",),
        field="batch_size",
        default=32,
        search=Int(8, 512, "log"),
    ),
    Entry(
        name="epochs",
        what="passes over the training set; the training budget",
        family="optimizer",
        start="enough that the validation loss has turned; fix the budget early",
        ranges=(Range(1, 100, "log", Source("TrainConfig", "epochs")),),
        too_small="underfits: training loss still falling at the end",
        too_large="validation loss turns up while the training loss keeps falling (overfitting); "
        "wasted compute",
        notebooks=("07",),
        field="epochs",
        default=20,
        search=Int(1, 100, "log"),
    ),
    Entry(
        name="patience (early stopping)",
        what="evaluations without improvement before training stops; restore the best weights",
        family="optimizer",
        start="5 epochs, with restore_best",
        ranges=(
            Range(
                1,
                20,
                "small grid",
                _bank("patience-total-epochs", "patiences 1, 2, 5, 10 and 20"),
            ),
        ),
        too_small="stops on a noisy blip, before the real best epoch",
        too_large="trains long past the best epoch; saves little compute",
        notebooks=("07",),
        field="patience",
        default=None,
        sources=(_bank("patience-total-epochs", "five epochs in a row without improvement"),),
    ),
    Entry(
        name="momentum (SGD), Adam's beta1",
        what="weight on past gradients; averages over about 1/(1 - beta) steps and multiplies "
        "the effective step by that much",
        family="optimizer",
        start="0.9",
        ranges=(Range(0.9, 0.999, "one_minus_log", _bank("beta-log-scale", "[0.9, 0.999]")),),
        too_small="noisy, zig-zagging progress along narrow valleys",
        too_large="overshoots and oscillates; with a fixed lr the effective step grows "
        "like 1/(1 - beta)",
        notebooks=("04", "09"),
        field="momentum",
        default=0.9,
        search=Float(0.5, 0.999, "one_minus_log"),
        sources=(_bank("momentum-basics", "β = 0.9"),),
    ),
    Entry(
        name="Adam's beta2",
        what="averaging factor of the squared gradients that scale Adam's steps",
        family="optimizer",
        start="0.999; 0.95 in large-model practice",
        ranges=(),
        too_small="noisy per-parameter step sizes",
        too_large="a stale, small estimate turns a sudden large gradient into a huge step "
        "(loss spikes)",
        notebooks=("09",),
        field="betas",
        default=(0.9, 0.999),
        sources=(_bank("adam-defaults", "lower β2 to 0.95"),),
    ),
    Entry(
        name="Adam's epsilon",
        what="added to the denominator of Adam's step for numerical safety",
        family="optimizer",
        start="1e-8; rarely tuned",
        ranges=(),
        too_small="rare: division by tiny second moments, unstable steps",
        too_large="Adam turns into SGD with momentum at lr/epsilon",
        notebooks=("09",),
        field="eps",
        default=1e-8,
        search=Float(1e-10, 1e-4, "log"),
        sources=(_bank("adam-defaults", "ε = 1e-8"),),
    ),
    Entry(
        name="weight decay",
        what="pulls each weight toward zero every step, so the model prefers small weights",
        family="optimizer",
        start="0, then search; the range depends on the optimizer",
        ranges=(
            Range(
                1e-5,
                5e-4,
                "log",
                _bank("weight-decay-basics", "1e-5 to 5e-4 for SGD or Adam with an L2 term"),
                when="SGD, or Adam with L2 in the loss",
            ),
            Range(
                0.01,
                0.1,
                "log",
                _bank("weight-decay-basics", "0.01 to 0.1 for AdamW"),
                when="AdamW (decoupled)",
            ),
        ),
        too_small="no regularizing effect; train-validation gap as without it",
        too_large="underfits: weights held near zero, training loss stays high",
        notebooks=("08", "09"),
        field="weight_decay",
        default=0.0,
        search=Float(1e-6, 0.1, "log"),
    ),
    Entry(
        name="schedule and warmup",
        what="how the lr changes over training (constant, step, cosine, warmup-stable-decay, "
        "1cycle) and how many epochs it ramps up first",
        family="optimizer",
        start="cosine or warmup-stable-decay; warmup of a few epochs at high lr or large batch",
        ranges=(Range(0, 5, "linear", Source("TrainConfig", "warmup_epochs"), when="warmup"),),
        too_small="(no warmup) early loss spike or divergence at a high lr",
        too_large="(long warmup) budget spent at a small lr; the final decay matters most",
        notebooks=("02", "07", "09"),
        field="warmup_epochs",
        default=0,
        search=Int(0, 5),
        sources=(_bank("warmup-purpose", "five epochs"),),
    ),
    Entry(
        name="gradient clipping",
        what="rescales a step's gradient when its norm exceeds a threshold",
        family="optimizer",
        start="off; if needed, near the 90th percentile of the logged unclipped norm",
        ranges=(Range(0.1, 10.0, "log", Source("TrainConfig", "grad_clip")),),
        too_small="most steps clipped: a disguised, fluctuating lower lr",
        too_large="never triggers: no protection from spikes",
        notebooks=("02", "10"),
        field="grad_clip",
        default=None,
        search=Float(0.1, 10.0, "log"),
        sources=(_bank("clip-threshold-choice", "90th percentile"),),
    ),
    Entry(
        name="width (hidden units)",
        what="units per hidden layer: capacity",
        family="model",
        start="128",
        ranges=(
            Range(
                16,
                256,
                "log",
                Source("08_capacity_regularization", "widths=[16, 32, 64, 256]"),
                when="powers of two; over a factor of 2 or less, such as 50 to 100, linear "
                "does as well",
            ),
        ),
        too_small="underfits: training and validation loss both high",
        too_large="overfits without regularization; slower steps; the best lr moves "
        "(standard parameterization)",
        notebooks=("01", "04", "08", "09"),
        field="hidden",
        default=(128,),
    ),
    Entry(
        name="depth (hidden layers)",
        what="number of hidden layers of the MLP",
        family="model",
        start="one or two hidden layers",
        ranges=(
            Range(
                2,
                4,
                "small grid",
                Source("04_sampling_scales", "a small grid (2 to 4 layers)"),
            ),
        ),
        too_small="underfits functions that need composition",
        too_large="harder to optimize, no better validation for a plain MLP",
        notebooks=("04", "08"),
        sources=(_bank("mlp-depth-vs-width", "one or two hidden layers"),),
    ),
    Entry(
        name="dropout",
        what="share of hidden units switched off at random in each training step",
        family="model",
        start="0 for small models; 0.2 to 0.5 on hidden layers when overfitting",
        ranges=(
            Range(
                0.2,
                0.5,
                "linear",
                _bank("dropout-rate-meaning", "Typical rates are 0.2 to 0.5"),
                when="hidden layers",
            ),
        ),
        too_small="no effect on the train-validation gap",
        too_large="underfits: training loss stays high, learning slows",
        notebooks=("01", "08"),
        field="dropout",
        default=0.0,
        search=Float(0.0, 0.6),
    ),
    Entry(
        name="activation",
        what="the nonlinearity between layers",
        family="model",
        start="relu",
        ranges=(),
        too_small="",
        too_large="",
        notebooks=("01",),
        field="activation",
        default="relu",
        search=Choice(("relu", "tanh", "gelu", "sigmoid", "leaky_relu")),
    ),
    Entry(
        name="augmentation strength",
        what="how much training inputs are changed at random (rotation range, shifts, noise)",
        family="data",
        start="mild: changes that keep the label obviously right",
        ranges=(),
        too_small="overfits as without augmentation",
        too_large="labels no longer fit the inputs: underfits; looks worse on short runs",
        notebooks=("01", "08"),
    ),
    Entry(
        name="embedding size",
        what="length of the vector that represents each token or item",
        family="model",
        start="a geometric ladder; word vectors typically 50 to 300",
        ranges=(Range(32, 512, "log", _bank("embedding-size", "32 to 512")),),
        too_small="underfits: items cannot be told apart",
        too_large="vocabulary x dimension parameters; overfits rare items",
        notebooks=("10",),
        sources=(_bank("embedding-size", "50 to 300 dimensions"),),
    ),
)


def by_name() -> dict[str, Entry]:
    """The entries by name."""
    return {entry.name: entry for entry in ENTRIES}


def _search_text(entry: Entry) -> str:
    if entry.search is None:
        return ""
    dim = entry.search
    if isinstance(dim, Choice):
        return " / ".join(str(o) for o in dim.options)
    if isinstance(dim, (Float, Int)):
        scale = {"one_minus_log": "1 - x log"}.get(dim.scale, dim.scale)
        return f"{number(dim.low)} to {number(dim.high)} ({scale})"
    return str(dim)


COLUMNS = (
    "hyperparameter",
    "what it is",
    "family",
    "start at",
    "typical search range",
    "too small",
    "too large",
    "notebook",
)


def rows() -> list[list[str]]:
    """The table as text, one list per entry, in the order of :data:`COLUMNS`."""
    table = []
    for e in ENTRIES:
        ranges = "; ".join(r.text() for r in e.ranges)
        if e.search is not None:
            ranges = (ranges + "; " if ranges else "") + f"course search space: {_search_text(e)}"
        table.append(
            [
                e.name + (f" (`{e.field}`)" if e.field else ""),
                e.what,
                e.family,
                e.start,
                ranges or "no standard range (see start at)",
                e.too_small,
                e.too_large,
                ", ".join(e.notebooks),
            ]
        )
    return table


def render_markdown() -> str:
    """The cheat sheet as a Markdown page (``docs/cheatsheet.md``)."""
    lines = [
        "# Hyperparameter cheat sheet",
        "",
        "Generated from `hpcourse/cheatsheet.py` by `make cheatsheet`; do not edit by hand.",
        "Defaults and the course search space are `TrainConfig`'s; every typical range cites",
        "the interview-question answer (or notebook) that states it, and a test checks both.",
        "Scales: *log* = sample the exponent; *1 - x log* = sample 1 - beta on a log scale.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in rows():
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    lines += [
        "",
        "Lesson text, figures and questions: CC BY 4.0; code: MIT (see the README).",
        "",
    ]
    return "\n".join(lines)


def render_html() -> str:
    """The cheat sheet as one printable page (A4 landscape, no external resources)."""
    head = "".join(f"<th>{html.escape(c)}</th>" for c in COLUMNS)
    body = []
    for row in rows():
        cells = [re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(c)) for c in row]
        body.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        "<title>Hyperparameter cheat sheet</title><style>"
        "@page { size: A4 landscape; margin: 8mm; }"
        "body { font-family: sans-serif; font-size: 8.5pt; margin: 0.5em; }"
        "h1 { font-size: 13pt; margin: 0 0 0.3em; }"
        "table { border-collapse: collapse; width: 100%; }"
        "th, td { border: 1px solid #999; padding: 2px 4px; vertical-align: top; }"
        "th { background: #eee; } tr { page-break-inside: avoid; }"
        "p { margin: 0.3em 0; color: #444; }"
        "</style></head><body><h1>Hyperparameter cheat sheet (hpcourse)</h1>"
        "<p>Start at the value given, search the range on its scale, and read the symptoms "
        "to tell which way to move. Numbers: TrainConfig and the course's question bank.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
        "<p>Lesson text, figures and questions CC BY 4.0; code MIT.</p>"
        "</body></html>\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Render the hyperparameter cheat sheet.")
    parser.add_argument("--markdown", type=Path, default=Path("docs/cheatsheet.md"))
    parser.add_argument("--html", type=Path, help="also write the printable HTML page here")
    args = parser.parse_args(argv)
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(render_markdown(), encoding="utf-8")
    print(f"wrote {args.markdown}")
    if args.html:
        args.html.parent.mkdir(parents=True, exist_ok=True)
        args.html.write_text(render_html(), encoding="utf-8")
        print(f"wrote {args.html}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
