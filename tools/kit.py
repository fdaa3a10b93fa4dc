"""Workshop kit: offline slides and a rendered course, built from the executed notebooks.

    python tools/kit.py slides [--notebooks 00 02] [--out build/slides]
    python tools/kit.py book   [--notebooks 00 02] [--out build/book]

Both execute each notebook once (cached in ``build/executed``, keyed by the notebook and
the package's sources, so ``make slides`` after ``make book`` does not run them again) and
render it with nbconvert through the templates in ``tools/kit_templates``. Everything a
page loads lies next to it: reveal.js (bundled by the pinned ``sphinx-revealjs`` wheel)
and MathJax 2.7 (bundled by ``jupyter-server-mathjax``) are copied from the installed
packages; images are embedded. A page that still refers to anything on the network is a
build error, so a room without Wi-Fi sees what the instructor saw the night before.

Slides: every markdown cell, and the figures of code cells tagged ``slide`` (no code).
Book: every cell with its outputs; each widget (explorers, quizzes) is replaced by its last
state drawn statically: its controls' values, its status line and the figure its
``Output`` last showed.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import html
import importlib.util
import re
import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError
from nbconvert import HTMLExporter, SlidesExporter

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
TEMPLATES = Path(__file__).resolve().parent / "kit_templates"
EXECUTED = ROOT / "build" / "executed"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
MATHJAX_CONFIG = "MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
#: cells carrying this tag give their figures to the slides
SLIDE_TAG = "slide"
#: part of the cache key: bump when the way notebooks are executed changes
KIT_VERSION = "2"


@dataclass(frozen=True)
class Lesson:
    """One notebook of the course, as the index and the agendas list it."""

    path: Path
    number: str
    title: str
    minutes: int | None

    @property
    def stem(self) -> str:
        return self.path.stem


def lessons(numbers: Iterable[str] | None = None, folder: Path = NOTEBOOKS) -> list[Lesson]:
    """The course's notebooks in syllabus order (their number), optionally only some."""
    wanted = {n.zfill(2) for n in numbers} if numbers else None
    found = []
    for path in sorted(folder.glob("[0-9][0-9]_*.ipynb")):
        number = path.name[:2]
        if wanted is not None and number not in wanted:
            continue
        nb = nbformat.read(path, as_version=4)
        found.append(Lesson(path, number, lesson_title(nb), lesson_minutes(nb)))
    if wanted is not None and {lesson.number for lesson in found} != wanted:
        missing = sorted(wanted - {lesson.number for lesson in found})
        raise ValueError(f"notebooks={sorted(wanted)}: no notebook numbered {missing} in {folder}")
    return found


def lesson_title(nb: nbformat.NotebookNode) -> str:
    """The first markdown heading of a notebook, without the '#'."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return "untitled"


_TIME = re.compile(r"\*\*Time(?::\*\*|\*\*:)\s*about\s+(\d+)\s*min", re.IGNORECASE)


def lesson_minutes(nb: nbformat.NotebookNode) -> int | None:
    """The time estimate the notebook states in its first cell ("**Time:** about N minutes")."""
    match = _TIME.search(nb.cells[0].source) if nb.cells else None
    return int(match.group(1)) if match else None


# ---------------------------------------------------------------- executing, once


def _sources_key(path: Path) -> str:
    """What an executed copy depends on: the notebook and every source file of the package."""
    digest = hashlib.sha256(KIT_VERSION.encode() + path.read_bytes())
    for source in sorted((ROOT / "hpcourse").rglob("*.py")):
        digest.update(source.as_posix().encode())
        digest.update(source.read_bytes())
    return digest.hexdigest()


def execute(path: Path, cache: Path = EXECUTED, *, timeout: int = 300) -> nbformat.NotebookNode:
    """The notebook run top to bottom on the course seed, with its widgets' state kept.

    A cell error stops the build and names the notebook. The result is cached in ``cache``
    until the notebook or the package changes.
    """
    key = _sources_key(path)
    cached = cache / path.name
    if cached.exists():
        nb = nbformat.read(cached, as_version=4)
        if nb.metadata.get("hpcourse_kit", {}).get("key") == key:
            return nb
    started = time.perf_counter()
    for attempt in (1, 2):
        nb = nbformat.read(path, as_version=4)
        # IPC sockets in a private folder: on a machine shared by many kernels, TCP ports
        # picked at random can collide between two kernels starting at once.
        # The notebook runs in an empty folder, so files it writes (an experiment log,
        # a leaderboard) start fresh instead of showing every earlier run.
        with tempfile.TemporaryDirectory(prefix="hpcourse-kit-") as work:
            km = KernelManager(kernel_name="python3", transport="ipc", ip=f"{work}/kernel")
            client = NotebookClient(
                nb,
                km=km,
                timeout=timeout,
                store_widget_state=True,
                resources={"metadata": {"path": work}},
            )
            try:
                client.execute()
                break
            except CellTimeoutError:
                if attempt == 2:
                    raise RuntimeError(f"{path.name}: a cell ran past {timeout} s twice") from None
            except Exception as error:  # CellExecutionError, kernel deaths
                raise RuntimeError(f"{path.name} failed while executing: {error}") from error
    nb.metadata["hpcourse_kit"] = {"key": key, "seconds": round(time.perf_counter() - started, 1)}
    cache.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, cached)
    return nb


# ---------------------------------------------------------------- widgets, drawn statically


def _model_id(ref: Any) -> str | None:
    return (
        ref[len("IPY_MODEL_") :] if isinstance(ref, str) and ref.startswith("IPY_MODEL_") else None
    )


def _control_text(state: dict[str, Any]) -> str | None:
    """'lr = 0.3' for a control with a description and a value; None for anything else."""
    if "value" not in state or state.get("_model_name", "").endswith(("HTMLModel", "LabelModel")):
        return None
    name = state.get("description") or state.get("_model_name", "control")[: -len("Model")]
    value = state["value"]
    labels = state.get("_options_labels")
    if isinstance(value, int) and labels and "index" in state:
        value = labels[state["index"]] if state["index"] is not None else None
    elif "index" in state and labels:
        index = state["index"]
        value = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else None
    if value is None or value == "":
        return None
    return f"{html.escape(str(name))} = {html.escape(str(value))}"


def _static_widget(model_id: str, models: dict[str, Any]) -> list[dict[str, Any]]:
    """Outputs that show a widget's last state: controls, HTML lines, Output contents."""
    controls: list[str] = []
    outputs: list[dict[str, Any]] = []

    def walk(mid: str) -> None:
        model = models.get(mid)
        if model is None:
            return
        state = model.get("state", {})
        name = state.get("_model_name", "")
        if name == "OutputModel":
            outputs.extend(copy.deepcopy(state.get("outputs", [])))
            return
        if name in ("HTMLModel", "HTMLMathModel", "LabelModel"):
            text = state.get("value", "")
            if text:
                if name == "LabelModel":
                    text = html.escape(text)
                outputs.append(_html_output(f"<div>{text}</div>"))
            return
        control = _control_text(state)
        if control:
            controls.append(control)
        elif state.get("_options_labels") and state.get("index") is None:
            items = "".join(f"<li>{html.escape(str(o))}</li>" for o in state["_options_labels"])
            outputs.append(_html_output(f"<ul>{items}</ul>"))
        for child in state.get("children", []):
            child_id = _model_id(child)
            if child_id:
                walk(child_id)

    walk(model_id)
    head = []
    if controls:
        head.append(
            _html_output(
                '<div class="hpcourse-widget-state hpcourse-controls">'
                + "Controls as the run left them: "
                + ", ".join(controls)
                + " (run the notebook to move the controls)</div>"
            )
        )
    body = head + outputs
    if not body:
        return [
            _html_output("<div><em>(interactive widget: run the notebook to use it)</em></div>")
        ]
    return body


def _html_output(markup: str) -> dict[str, Any]:
    return {"output_type": "display_data", "data": {"text/html": markup}, "metadata": {}}


_NOTEBOOK_LINK = re.compile(r"\]\((\d\d_[A-Za-z0-9_]+)\.ipynb([#)])")


def relink(nb: nbformat.NotebookNode, suffix: str) -> nbformat.NotebookNode:
    """Markdown links to another lesson (``01_x.ipynb``) pointed at its page (``01_x`` +
    ``suffix``), so the book's and the slides' pages link to each other."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _NOTEBOOK_LINK.sub(lambda m: f"]({m[1]}{suffix}{m[2]}", cell.source)
    return nb


def freeze_widgets(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose widget views are replaced by their last state, drawn statically.

    Leaves no widget state in the metadata, so no page loads a widget manager.
    """
    nb = copy.deepcopy(nb)
    state = nb.metadata.pop("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new_outputs = []
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                new_outputs.append(output)
                continue
            for static in _static_widget(view.get("model_id", ""), state):
                new_outputs.append(nbformat.from_dict(static))
        cell.outputs = new_outputs
    return nb


# ---------------------------------------------------------------- offline checks and assets


_LOADS = re.compile(
    r"""<(?:script|img|iframe|source|embed|video|audio)\b[^>]*?\bsrc\s*=\s*["']([^"']+)["']"""
    r"""|<link\b[^>]*?\bhref\s*=\s*["']([^"']+)["']"""
    r"""|url\(\s*["']?([^"')]+)["']?\s*\)"""
    r"""|@import\s+["']([^"']+)["']"""
    r"""|\bimport\(\s*["']([^"']+)["']\s*\)""",
    re.IGNORECASE,
)


def external_references(page: str) -> list[str]:
    """Every address a page would load from the network (scripts, styles, images, fonts,
    imports). Hyperlinks (``<a href>``) are not loads and are not listed."""
    found = []
    for match in _LOADS.finditer(page):
        url = next(g for g in match.groups() if g)
        if re.match(r"^(https?:)?//", url.strip(), re.IGNORECASE):
            found.append(url)
    return found


def _package_dir(module: str, *parts: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"{module} is not installed: run 'make setup' (it is pinned in constraints.txt)"
        )
    return Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)


def reveal_dir() -> Path:
    """reveal.js as the pinned sphinx-revealjs wheel bundles it (dist/, plugin/)."""
    return _package_dir("sphinx_revealjs", "_static", "revealjs")


def mathjax_dir() -> Path:
    """MathJax 2.7 as the pinned jupyter-server-mathjax wheel bundles it."""
    return _package_dir("jupyter_server_mathjax", "static")


def _copy_tree(source: Path, target: Path) -> None:
    if not target.exists():
        shutil.copytree(source, target)


def _write_page(path: Path, page: str) -> None:
    refs = external_references(page)
    if refs:
        raise RuntimeError(f"{path.name} would load from the network: {refs[:5]}")
    path.write_text(page, encoding="utf-8")


def _execute_or_note(
    lesson: Lesson, cache: Path, failed: list[str] | None
) -> nbformat.NotebookNode | None:
    """The executed notebook; with a ``failed`` list, a failure is noted there and skipped."""
    if failed is None:
        return execute(lesson.path, cache)
    try:
        return execute(lesson.path, cache)
    except RuntimeError as error:
        failed.append(f"{lesson.stem}: {str(error)[:300]}")
        print(f"FAILED {lesson.stem} (skipped)", flush=True)
        return None


# ---------------------------------------------------------------- slides


def slide_notebook(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The cells of the slides: markdown (a heading opens a slide, the rest go below it),
    and the figures of the code cells tagged ``slide``, without their code."""
    nb = copy.deepcopy(nb)
    nb.metadata.pop("widgets", None)
    cells = []
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            heading = cell.source.lstrip().startswith("#")
            cell.metadata["slideshow"] = {"slide_type": "slide" if heading else "subslide"}
            cells.append(cell)
        elif cell.cell_type == "code" and SLIDE_TAG in tags:
            figures = [
                o
                for o in cell.get("outputs", [])
                if any(k.startswith("image/") for k in o.get("data", {}))
            ]
            if figures:
                cell.outputs = figures
                cell.metadata["slideshow"] = {"slide_type": "subslide"}
                cells.append(cell)
    nb.cells = cells
    return nb


def build_slides(
    numbers: Sequence[str] | None,
    out: Path,
    cache: Path = EXECUTED,
    failed: list[str] | None = None,
) -> dict[str, float]:
    """Slides for each notebook in ``out``, with reveal.js and MathJax copied beside them.
    Returns the seconds each notebook took (execution + rendering)."""
    out.mkdir(parents=True, exist_ok=True)
    _copy_tree(reveal_dir(), out / "reveal.js")
    _copy_tree(mathjax_dir(), out / "mathjax")
    exporter = SlidesExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="hpcourse_slides",
        reveal_url_prefix="reveal.js",
        reveal_theme="white",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        mathjax_url=f"mathjax/{MATHJAX_CONFIG}",
    )
    times: dict[str, float] = {}
    rows = []
    for lesson in lessons(numbers):
        started = time.perf_counter()
        executed = _execute_or_note(lesson, cache, failed)
        if executed is None:
            continue
        nb = relink(slide_notebook(executed), ".slides.html")
        page, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": lesson.title}})
        _write_page(out / f"{lesson.stem}.slides.html", page)
        times[lesson.stem] = round(time.perf_counter() - started, 1)
        print(f"{times[lesson.stem]:7.1f} s  {lesson.stem}", flush=True)
        link = f'<a href="{lesson.stem}.slides.html">{html.escape(lesson.title)}</a>'
        rows.append(f"<li>{link}</li>")
    _write_page(
        out / "index.html", _simple_page("hpcourse slides", "<ol>" + "".join(rows) + "</ol>")
    )
    return times


# ---------------------------------------------------------------- the book


def _simple_page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:52em;margin:2em auto;padding:0 1em;"
        "line-height:1.5}td,th{padding:0.2em 0.8em;text-align:left}</style>"
        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n"
    )


def _nav(prev: Lesson | None, nxt: Lesson | None) -> str:
    def link(lesson: Lesson | None, label: str) -> str:
        if lesson is None:
            return "<span></span>"
        return f'<a href="{lesson.stem}.html">{label} {html.escape(lesson.title)}</a>'

    return (
        '<nav class="hpcourse-nav">'
        + link(prev, "&larr;")
        + '<a href="index.html">Contents</a>'
        + link(nxt, "&rarr;")
        + "</nav>"
    )


def build_book(
    numbers: Sequence[str] | None,
    out: Path,
    cache: Path = EXECUTED,
    failed: list[str] | None = None,
) -> dict[str, float]:
    """One HTML page per notebook (outputs, widgets frozen), an index in syllabus order and
    the printable cheat sheet, in ``out``. Returns the seconds each notebook took."""
    from hpcourse import cheatsheet

    out.mkdir(parents=True, exist_ok=True)
    _copy_tree(mathjax_dir(), out / "mathjax")
    exporter = HTMLExporter(
        extra_template_basedirs=[str(TEMPLATES)],
        template_name="hpcourse_book",
        mathjax_url=f"mathjax/{MATHJAX_CONFIG}",
    )
    chosen = lessons(numbers)
    times: dict[str, float] = {}
    rows = []
    for i, lesson in enumerate(chosen):
        started = time.perf_counter()
        executed = _execute_or_note(lesson, cache, failed)
        if executed is None:
            continue
        nb = relink(freeze_widgets(executed), ".html")
        prev = chosen[i - 1] if i > 0 else None
        nxt = chosen[i + 1] if i + 1 < len(chosen) else None
        resources = {"metadata": {"name": lesson.title}, "hpcourse_nav": _nav(prev, nxt)}
        page, _ = exporter.from_notebook_node(nb, resources=resources)
        _write_page(out / f"{lesson.stem}.html", page)
        times[lesson.stem] = round(time.perf_counter() - started, 1)
        print(f"{times[lesson.stem]:7.1f} s  {lesson.stem}", flush=True)
        minutes = f"{lesson.minutes} min" if lesson.minutes else ""
        rows.append(
            f'<tr><td><a href="{lesson.stem}.html">{html.escape(lesson.title)}</a></td>'
            f"<td>{minutes}</td></tr>"
        )
    _write_page(out / "cheatsheet.html", cheatsheet.render_html())
    body = (
        "<p>Every lesson executed on the course seed, with its outputs; interactive widgets "
        "show the state they were left in. Run the notebooks to move them.</p>"
        "<table><tr><th>lesson</th><th>time</th></tr>" + "".join(rows) + "</table>"
        '<p><a href="cheatsheet.html">Hyperparameter cheat sheet</a> (printable)</p>'
    )
    _write_page(out / "index.html", _simple_page("hpcourse: the rendered course", body))
    return times


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("slides", "book"))
    parser.add_argument("--notebooks", nargs="*", help="numbers, e.g. 00 02 (default: all)")
    parser.add_argument("--out", type=Path, help="output folder (default: build/<what>)")
    parser.add_argument(
        "--keep-going", action="store_true", help="skip a notebook that fails, exit 1 at the end"
    )
    args = parser.parse_args(argv)
    out = args.out or ROOT / "build" / args.what
    build = build_slides if args.what == "slides" else build_book
    started = time.perf_counter()
    failed: list[str] | None = [] if args.keep_going else None
    times = build(args.notebooks, out, EXECUTED, failed)
    total = time.perf_counter() - started
    print(f"{args.what}: {len(times)} notebooks in {total:.0f} s -> {out / 'index.html'}")
    for line in failed or []:
        print(f"FAILED {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
