"""The workshop kit: cheat sheet, instructor guide, offline slides and the rendered course.

The browser part builds the slides and the book of ONE small notebook (00) into a temporary
folder, opens them from disk in Debian's Chromium, and fails on any request that would leave
the machine (anything but file:, data:, blob:, about: and localhost) and on any local file
that does not load. Set ``HPCOURSE_KIT_SCREENSHOTS=DIR`` to keep the screenshots.
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlparse

import nbformat
import pytest
import yaml

from hpcourse import cheatsheet
from hpcourse.config import TrainConfig
from hpcourse.space import SearchSpace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import kit  # noqa: E402

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
GUIDE = ROOT / "docs" / "instructor_guide.md"


def _bank_text() -> dict[str, str]:
    bank = yaml.safe_load((ROOT / "interview_questions" / "bank.yaml").read_text("utf-8"))
    return {
        q["id"]: " ".join(f"{q['short_answer']} {q['full_answer']}".split())
        for q in bank["questions"]
    }


def _numbers(text: str) -> set[float]:
    return {float(t) for t in re.findall(r"\d+(?:\.\d+)?(?:e-?\d+)?", text)}


# ------------------------------------------------------------------ cheat sheet


def test_cheatsheet_defaults_and_search_ranges_are_trainconfigs():
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    config = TrainConfig()
    checked = 0
    for entry in cheatsheet.ENTRIES:
        if entry.field is None:
            continue
        assert entry.field in fields, entry.name
        assert getattr(config, entry.field) == entry.default, (entry.name, entry.default)
        if entry.search is not None:
            declared = SearchSpace.for_config([entry.field])[entry.field]
            assert declared == entry.search, (entry.name, declared, entry.search)
            checked += 1
        else:
            assert "search" not in fields[entry.field].metadata, entry.name
    assert checked >= 8


def test_cheatsheet_ranges_are_stated_by_their_sources():
    bank = _bank_text()
    notebooks = {p.stem: p for p in (ROOT / "notebooks").glob("*.ipynb")}
    for entry in cheatsheet.ENTRIES:
        for source in [*entry.sources, *(r.source for r in entry.ranges)]:
            if source.where == "TrainConfig":
                continue
            if source.where in bank:
                text = bank[source.where]
            else:
                assert source.where in notebooks, (entry.name, source.where)
                nb = nbformat.read(notebooks[source.where], as_version=4)
                text = " ".join(" ".join(c.source for c in nb.cells).split())
            assert source.phrase in text, (entry.name, source)
        for r in entry.ranges:
            assert r.low < r.high and r.scale in cheatsheet.SCALES, (entry.name, r)
            if r.source.where == "TrainConfig":
                declared = SearchSpace.for_config([r.source.phrase])[r.source.phrase]
                assert (declared.low, declared.high) == (r.low, r.high), (entry.name, declared)
            else:
                stated = _numbers(r.source.phrase)
                assert {r.low, r.high} <= stated, (entry.name, r, stated)
            if entry.search is not None and hasattr(entry.search, "low"):
                assert entry.search.low <= r.low and r.high <= entry.search.high, entry.name


def test_cheatsheet_weight_decay_follows_the_banks_corrected_answer():
    decay = cheatsheet.by_name()["weight decay"]
    ranges = {(r.low, r.high) for r in decay.ranges}
    assert ranges == {(1e-5, 5e-4), (0.01, 0.1)}
    assert all(r.scale == "log" for r in decay.ranges)
    lr = cheatsheet.by_name()["learning rate"]
    assert (lr.ranges[0].low, lr.ranges[0].high, lr.ranges[0].scale) == (1e-5, 1e-1, "log")


def test_cheatsheet_rows_are_complete_and_name_real_notebooks():
    planned = {f"{n:02d}" for n in range(13)}
    for entry in cheatsheet.ENTRIES:
        assert entry.family in cheatsheet.FAMILIES, entry.name
        assert entry.notebooks and set(entry.notebooks) <= planned, entry.name
        assert entry.what and entry.start, entry.name
    existing = {p.name[:2] for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    shown = {n for e in cheatsheet.ENTRIES for n in e.notebooks}
    assert {"02", "03", "04"} <= shown & existing


def test_cheatsheet_markdown_is_up_to_date_and_html_is_offline():
    assert (ROOT / "docs" / "cheatsheet.md").read_text("utf-8") == cheatsheet.render_markdown(), (
        "docs/cheatsheet.md is stale: run make cheatsheet"
    )
    page = cheatsheet.render_html()
    assert kit.external_references(page) == []
    assert page.count("<tr>") == len(cheatsheet.ENTRIES) + 1


# ------------------------------------------------------------------ instructor guide


def _agendas(text: str) -> dict[str, list[tuple[str, str, str, int]]]:
    """Agenda tables: '### Agenda: NAME' then rows '| start | item | notebook | minutes |'."""
    agendas: dict[str, list[tuple[str, str, str, int]]] = {}
    current = None
    for line in text.splitlines():
        if line.startswith("### Agenda:"):
            current = line.removeprefix("### Agenda:").strip()
            agendas[current] = []
        elif current and line.startswith("| ") and re.match(r"\|\s*\d\d:\d\d", line):
            start, item, notebook, minutes = (c.strip() for c in line.strip("|").split("|"))
            agendas[current].append((start, item, notebook, int(minutes)))
        elif current and line.startswith("#"):
            current = None
    return agendas


def test_instructor_guide_agendas_sum_the_notebooks_own_estimates():
    text = GUIDE.read_text("utf-8")
    stated = {lesson.number: lesson.minutes for lesson in kit.lessons()}
    agendas = _agendas(text)
    assert {"3-hour session", "full day"} <= set(agendas), sorted(agendas)
    for name, rows in agendas.items():
        clock = None
        for start, item, notebook, minutes in rows:
            h, m = map(int, start.split(":"))
            if clock is not None:
                assert h * 60 + m == clock, f"{name}: {item} starts at {start}"
            clock = h * 60 + m + minutes
            if notebook and notebook in stated:
                assert minutes == stated[notebook], (
                    f"{name}: notebook {notebook} takes {minutes} min in the guide, "
                    f"{stated[notebook]} min by its own first cell"
                )
        total = sum(r[3] for r in rows)
        match = re.search(rf"Total \({re.escape(name)}\): (\d+) minutes", text)
        assert match and int(match.group(1)) == total, (name, total)
    three_hours = sum(r[3] for r in agendas["3-hour session"])
    assert three_hours <= 180


def test_instructor_guide_covers_every_notebook_and_the_licence():
    text = GUIDE.read_text("utf-8")
    for lesson in kit.lessons():
        assert f"### {lesson.number} " in text, f"no section for notebook {lesson.number}"
    for needed in (
        "HPCOURSE_WORKSHOP_STORAGE",
        "make workshop-server",
        "optuna-dashboard",
        "make lab",
        "make test",
        "conda",
        "Level 1",
        "Level 2",
        "Level 3",
        "CC BY 4.0",
    ):
        assert needed in text, needed


def test_licence_is_stated_consistently():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["project"]
    assert project["license"] == "MIT"
    assert (ROOT / "LICENSE").read_text("utf-8").startswith("MIT License")
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "CC BY 4.0" in readme and "MIT" in readme


# ------------------------------------------------------------------ builder units


def test_external_references_finds_loads_not_links():
    page = (
        '<a href="https://example.org/paper">paper</a>'
        '<script src="https://cdn.example/x.js"></script>'
        '<link rel="stylesheet" href="//fonts.example/css">'
        "<style>@import 'http://a.example/b.css'; .x{background:url(https://c.example/i.png)}"
        "</style><img src='data:image/png;base64,AAAA'><script src=\"reveal.js/dist/reveal.js\">"
    )
    assert sorted(kit.external_references(page)) == [
        "//fonts.example/css",
        "http://a.example/b.css",
        "https://c.example/i.png",
        "https://cdn.example/x.js",
    ]


def test_lesson_minutes_read_the_first_cell():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 99 · X\n\n**Time:** about 25 minutes (runs fast)")]
    assert kit.lesson_minutes(nb) == 25 and kit.lesson_title(nb) == "99 · X"
    nb.cells = [nbformat.v4.new_markdown_cell("# no time")]
    assert kit.lesson_minutes(nb) is None


def test_freeze_widgets_shows_controls_status_and_last_figure():
    nb = nbformat.v4.new_notebook()
    view = {"model_id": "root", "version_major": 2, "version_minor": 0}
    cell = nbformat.v4.new_code_cell("explorer()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={kit.WIDGET_VIEW: view})]
    nb.cells = [cell]
    models = {
        "root": {
            "state": {
                "_model_name": "VBoxModel",
                "children": ["IPY_MODEL_box", "IPY_MODEL_status", "IPY_MODEL_out"],
            }
        },
        "box": {"state": {"_model_name": "HBoxModel", "children": ["IPY_MODEL_lr"]}},
        "lr": {"state": {"_model_name": "FloatLogSliderModel", "description": "lr", "value": 0.3}},
        "status": {"state": {"_model_name": "HTMLModel", "value": "<b>diverges</b>"}},
        "out": {
            "state": {
                "_model_name": "OutputModel",
                "outputs": [
                    {"output_type": "display_data", "data": {"image/png": "iVBOR"}, "metadata": {}}
                ],
            }
        },
    }
    nb.metadata["widgets"] = {kit.WIDGET_STATE: {"state": models, "version_major": 2}}
    frozen = kit.freeze_widgets(nb)
    outs = frozen.cells[0].outputs
    assert "widgets" not in frozen.metadata and "widgets" in nb.metadata
    assert "lr = 0.3" in outs[0]["data"]["text/html"]
    assert "<b>diverges</b>" in outs[1]["data"]["text/html"]
    assert outs[2]["data"]["image/png"] == "iVBOR"
    assert all(kit.WIDGET_VIEW not in o["data"] for o in outs)


def test_relink_points_lesson_links_at_pages():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("[next](01_a_b.ipynb) and [q](../x.md)")]
    assert kit.relink(nb, ".html").cells[0].source == "[next](01_a_b.html) and [q](../x.md)"
    assert nb.cells[0].source.startswith("[next](01_a_b.ipynb)")


def test_slide_notebook_keeps_markdown_and_tagged_figures_only():
    nb = nbformat.v4.new_notebook()
    tagged = nbformat.v4.new_code_cell("plot()", metadata={"tags": ["slide"]})
    tagged.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text="noise"),
        nbformat.v4.new_output("display_data", data={"image/png": "iVBOR"}),
    ]
    untagged = nbformat.v4.new_code_cell("plot()")
    untagged.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "x"})]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Title"),
        nbformat.v4.new_markdown_cell("text"),
        tagged,
        untagged,
    ]
    slides = kit.slide_notebook(nb)
    kinds = [c.metadata["slideshow"]["slide_type"] for c in slides.cells]
    assert kinds == ["slide", "subslide", "subslide"]
    assert [o["output_type"] for o in slides.cells[2].outputs] == ["display_data"]


def test_every_lesson_has_slide_figures():
    for lesson in kit.lessons():
        nb = nbformat.read(lesson.path, as_version=4)
        tagged = [c for c in nb.cells if kit.SLIDE_TAG in c.metadata.get("tags", [])]
        assert tagged, (
            f"{lesson.stem}: no cell tagged {kit.SLIDE_TAG!r}, so its slides have no figure"
        )


# ------------------------------------------------------------------ built, in Chromium


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("kit")
    cache = out / "executed"
    kit.build_slides(["00"], out / "slides", cache)
    kit.build_book(["00"], out / "book", cache)
    return out


def _browser(p):
    return p.chromium.launch(
        executable_path=CHROMIUM,
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ],
    )


def _open_offline(page, url: str) -> tuple[list[str], list[str]]:
    """Open ``url``; return (requests that would leave the machine, local loads that failed)."""
    leaving: list[str] = []
    failed: list[str] = []

    def on_request(request):
        parsed = urlparse(request.url)
        local = parsed.scheme in ("file", "data", "blob", "about") or parsed.hostname in (
            "localhost",
            "127.0.0.1",
            "::1",
        )
        if not local:
            leaving.append(request.url)

    page.on("request", on_request)
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.route(
        re.compile(r"^(https?|wss?)://(?!localhost|127\.0\.0\.1)"), lambda route: route.abort()
    )
    page.goto(url)
    page.wait_for_load_state("load")
    page.wait_for_timeout(1500)
    # MathJax probes for installed fonts with an about:blank font URL; that never leaves.
    return leaving, [u for u in failed if u not in leaving and not u.startswith("about:")]


def _screenshot(page, name: str, tmp: Path) -> None:
    path = tmp / name
    page.screenshot(path=str(path))
    keep = os.environ.get("HPCOURSE_KIT_SCREENSHOTS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(keep) / name)


needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists() and not os.environ.get("CI"),
    reason="Debian's chromium is not installed (apt-get install chromium)",
)


@needs_chromium
def test_slides_open_offline_in_chromium(built):
    from playwright.sync_api import sync_playwright

    slides = built / "slides"
    assert (slides / "reveal.js" / "dist" / "reveal.js").exists()
    (page_file,) = slides.glob("00_*.slides.html")
    html = page_file.read_text("utf-8")
    assert kit.external_references(html) == []
    assert "import math" not in html, "the slides show no code"
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        leaving, failed = _open_offline(page, page_file.as_uri())
        assert leaving == [], f"requests leaving the machine: {leaving}"
        assert failed == [], f"local files that did not load: {failed}"
        assert page.evaluate("typeof Reveal !== 'undefined' && Reveal.isReady()")
        assert page.evaluate("Reveal.getTotalSlides()") >= 8
        assert page.locator(".reveal .slides img").count() >= 2, "the tagged figures"
        page.evaluate(
            "(() => { const s = [...document.querySelectorAll('.reveal section')]"
            ".find(e => e.querySelector('img') && !e.querySelector('section'));"
            " const i = Reveal.getIndices(s); Reveal.slide(i.h, i.v); })()"
        )
        page.wait_for_timeout(800)
        _screenshot(page, "slides_00.png", built)
        browser.close()


@needs_chromium
def test_book_opens_offline_and_its_index_links_every_page(built):
    from playwright.sync_api import sync_playwright

    book = built / "book"
    pages = {p.name for p in book.glob("*.html")} - {"index.html"}
    assert {"cheatsheet.html"} < pages and any(p.startswith("00_") for p in pages)
    with sync_playwright() as p:
        browser = _browser(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        leaving, failed = _open_offline(page, (book / "index.html").as_uri())
        assert leaving == [] and failed == [], (leaving, failed)
        links = set(page.eval_on_selector_all("a", "els => els.map(e => e.getAttribute('href'))"))
        assert pages <= links, f"not linked from the index: {sorted(pages - links)}"
        for name in sorted(pages):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            leaving, failed = _open_offline(page, (book / name).as_uri())
            assert leaving == [], f"{name}: requests leaving the machine: {leaving}"
            assert failed == [], f"{name}: local files that did not load: {failed}"
            assert "widget-view+json" not in page.content()
            if name.startswith("00_"):
                assert page.locator(".hpcourse-widget-state").count() >= 1, "frozen explorer"
                assert page.locator(".jp-OutputArea-output img").count() >= 3
                page.locator(".hpcourse-widget-state").first.scroll_into_view_if_needed()
                _screenshot(page, "book_00.png", built)
        browser.close()
