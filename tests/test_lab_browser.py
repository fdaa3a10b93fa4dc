"""The course as a learner meets it: `make lab` serves JupyterLab with the course kernel,
and a widget in a real notebook, in a real (headless) browser, redraws when moved.

Needs Debian's Chromium at /usr/bin/chromium (``.ci/run`` installs it). Without it the
test is skipped locally, and fails on CI, where it must run.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
TOKEN = "hpcourse-test-token"

if not Path(CHROMIUM).exists():
    if os.environ.get("CI"):
        raise RuntimeError("CI must run the browser test: install Debian's chromium first")
    pytest.skip("Debian's chromium is not installed", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab NO_BROWSER=1` on a free port; yields its base URL; shuts it down after."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["JUPYTER_TOKEN"] = TOKEN
    # Our own user settings: no autosave (the test must never write outputs into the
    # stored notebooks). The news pop-up is switched off by the course's own overrides.json,
    # which `make setup` installs into the venv; a test below checks it took effect.
    settings = tmp_path_factory.mktemp("lab-settings")
    # Every cell in the page (no windowing), so a test can find an explorer by its index.
    for plugin, values in {
        "@jupyterlab/docmanager-extension/plugin": {"autosave": False},
        "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    }.items():
        path = settings / f"{plugin}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env["JUPYTERLAB_SETTINGS_DIR"] = str(settings)
    proc = subprocess.Popen(
        ["make", "lab", "NO_BROWSER=1", f"PORT={port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so the whole process group can be stopped at the end
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                _get(f"{base}/api/status?token={TOKEN}")
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    output = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                    pytest.fail(f"make lab did not serve JupyterLab:\n{output[-3000:]}")
                time.sleep(0.5)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_make_lab_serves_the_course_with_its_kernel(lab):
    status = _get(f"{lab}/api/status?token={TOKEN}")
    assert "started" in status
    specs = _get(f"{lab}/api/kernelspecs?token={TOKEN}")["kernelspecs"]
    assert "hpcourse" in specs, f"course kernel not registered: {sorted(specs)}"
    assert specs["hpcourse"]["spec"]["display_name"] == "Python (hpcourse)"
    files = {c["name"] for c in _get(f"{lab}/api/contents?token={TOKEN}")["content"]}
    assert "00_start_here.ipynb" in files, "JupyterLab should open on notebooks/"


def test_the_course_environment_turns_off_the_news_pop_up(lab):
    plugin = "@jupyterlab/apputils-extension:notification"
    # overrides.json replaces the defaults of the plugin's schema (upstream: "none" = ask)
    schema = _get(f"{lab}/lab/api/settings/{plugin}?token={TOKEN}")["schema"]["properties"]
    assert schema["fetchNews"]["default"] == "false", schema["fetchNews"]
    assert schema["checkForUpdates"]["default"] is False


def _explorers(path: Path) -> list[int]:
    """Indices (among all cells) of the cells tagged "explorer" in a stored notebook."""
    cells = json.loads(path.read_text())["cells"]
    return [i for i, c in enumerate(cells) if "explorer" in c.get("metadata", {}).get("tags", [])]


NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_every_lesson_has_an_explorer():
    for path in NOTEBOOKS:
        assert _explorers(path), f"{path.name} has no cell tagged 'explorer'"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_explorers_redraw_in_a_real_browser(lab, tmp_path, path):
    """Run the whole notebook in JupyterLab, then move each explorer's first control and
    wait for its figure to be redrawn; no cell may show a Python error."""
    from playwright.sync_api import sync_playwright

    stored = path.read_bytes()
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        _shutdown_sessions(lab)  # kernels of earlier notebooks would compete for the CPU
        page.goto(f"{lab}/lab/tree/{path.name}?reset&token={TOKEN}")
        page.wait_for_selector(".jp-Notebook", timeout=60_000)
        kernel = ".jp-NotebookPanel-toolbar .jp-Toolbar-kernelName"
        page.locator(kernel, has_text="Python (hpcourse)").wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator('[data-command="runmenu:run-all"]').click()
        prompts = ".jp-Notebook .jp-InputPrompt"
        page.wait_for_function(  # every code cell has run: numbered prompts, none "[*]"
            rf"""() => {{
                const p = [...document.querySelectorAll('{prompts}')].map(e => e.innerText);
                return p.length > 0 && p.every(t => !t.includes('*')) &&
                       p.filter(t => /\d/.test(t)).length === {_code_cells(path)};
            }}""",
            timeout=240_000,
        )
        for index in _explorers(path):
            cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
            image = cell.locator(".jp-OutputArea img").first
            image.wait_for(timeout=60_000)
            before = image.get_attribute("src")
            control = cell.locator(".noUi-handle").first
            control.focus()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "([el, old]) => { const i = el.querySelector('.jp-OutputArea img');"
                " return i && i.src !== old; }",
                arg=[cell.element_handle(), before],
                timeout=60_000,
            )
        page.screenshot(path=str(tmp_path / f"{path.stem}.png"))
        content = page.content()
        assert "Traceback" not in content, f"{path.name}: a cell raised an error"
        assert "Error displaying widget" not in content
        assert "Jupyter news" not in content, "the news pop-up covers the notebook"
        browser.close()
    assert path.read_bytes() == stored, "the browser test must not change the stored notebook"


def _shutdown_sessions(lab: str) -> None:
    for session in _get(f"{lab}/api/sessions?token={TOKEN}"):
        request = urllib.request.Request(
            f"{lab}/api/sessions/{session['id']}?token={TOKEN}", method="DELETE"
        )
        urllib.request.urlopen(request, timeout=30).close()


def _code_cells(path: Path) -> int:
    return sum(c["cell_type"] == "code" for c in json.loads(path.read_text())["cells"])
