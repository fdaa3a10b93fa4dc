"""The question bank ships with the package: a wheel, or an editable install, finds it.

``interview_questions/`` is the only copy of the bank in the repository. The build maps it
onto the data package ``hpcourse._bank`` (``[tool.setuptools]`` in ``pyproject.toml``), and
:func:`hpcourse.quiz.bank.find_bank_dir` looks there first through
:mod:`importlib.resources`. The end-to-end tests build from a copy of the sources (so the
working tree gets no ``build/`` or ``*.egg-info``), install into a fresh virtual
environment that cannot see the repository, and run the terminal quiz from an unrelated
folder. PyYAML and jsonschema come from this environment's site-packages, appended to the
new environment's path, because installing them would need the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import jsonschema
import pytest
import yaml

from hpcourse.quiz import bank as bank_module

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]


# --------------------------------------------------------------------------- configuration


def test_every_hpcourse_package_is_listed_for_the_build():
    """Packages are listed by hand (a directory search cannot find hpcourse._bank)."""
    on_disk = {
        ".".join(path.parent.relative_to(ROOT).parts)
        for path in (ROOT / "hpcourse").rglob("__init__.py")
        if "__pycache__" not in path.parts
    }
    assert set(SETUPTOOLS["packages"]) == on_disk | {"hpcourse._bank"}, (
        "add new hpcourse packages to [tool.setuptools] packages in pyproject.toml"
    )


def test_the_bank_folder_is_mapped_as_package_data():
    assert SETUPTOOLS["package-dir"] == {"hpcourse._bank": "interview_questions"}
    assert set(SETUPTOOLS["package-data"]["hpcourse._bank"]) >= {"*.yaml", "*.json"}
    folder = ROOT / "interview_questions"
    assert {"__init__.py", "bank.yaml", "schema.json"} <= {p.name for p in folder.iterdir()}


def test_the_terminal_quiz_and_its_record_need_neither_torch_nor_widgets(tmp_path):
    """The terminal quiz must start instantly, so nothing on its path may import PyTorch."""
    script = (
        "import io, sys\n"
        "from hpcourse.quiz.terminal import main\n"
        "main(['--level', 'easy', '--n', '1'], stdin=io.StringIO('q\\n'), stdout=io.StringIO())\n"
        "heavy = [m for m in ('torch', 'ipywidgets', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "HPCOURSE_CACHE": str(tmp_path)}
    _run([sys.executable, "-c", script], cwd=tmp_path, env=env)


def test_find_bank_dir_falls_back_to_the_source_tree(monkeypatch):
    def missing(name):
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(bank_module.importlib.resources, "files", missing)
    assert bank_module.find_bank_dir() == bank_module.SOURCE_BANK_DIR


def test_find_bank_dir_says_where_it_looked(monkeypatch, tmp_path):
    monkeypatch.setattr(bank_module.importlib.resources, "files", lambda name: tmp_path / "pkg")
    monkeypatch.setattr(bank_module, "SOURCE_BANK_DIR", tmp_path / "src")
    with pytest.raises(FileNotFoundError, match="bank.yaml.*pkg.*src"):
        bank_module.find_bank_dir()


# --------------------------------------------------------------------------- end to end


def _copy_sources(destination: Path) -> Path:
    """The files a build reads: pyproject, readme, licence, the package and the bank."""
    destination.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, destination / name)
    for licence in ROOT.glob("LICENSE*"):
        shutil.copy2(licence, destination / licence.name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.md")
    shutil.copytree(ROOT / "hpcourse", destination / "hpcourse", ignore=ignore)
    shutil.copytree(
        ROOT / "interview_questions", destination / "interview_questions", ignore=ignore
    )
    return destination


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, **kwargs)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done


def _fresh_venv(path: Path) -> Path:
    """A virtual environment without pip that sees this environment's PyYAML and jsonschema.

    A ``.pth`` line appends this site-packages *after* the new environment's own, so the
    package installed there wins, and the editable install of this checkout (activated by
    a ``.pth`` file, which is not processed for appended paths) stays invisible.
    """
    _run([sys.executable, "-m", "venv", "--without-pip", str(path)])
    python = path / "bin" / "python"
    purelib = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    third_party = {str(Path(module.__file__).resolve().parents[1]) for module in (yaml, jsonschema)}
    Path(purelib.stdout.strip(), "zz_course_dependencies.pth").write_text(
        "\n".join(sorted(third_party)) + "\n"
    )
    return python


def _install(python: Path, wheel: Path) -> None:
    _run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
         "--no-index", "--disable-pip-version-check", "--quiet", str(wheel)]
    )  # fmt: skip


def _clean_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["HPCOURSE_CACHE"] = str(tmp_path / "cache")
    return env


LOCATE = (
    "import hpcourse, hpcourse.quiz.bank as b; "
    "print(hpcourse.__file__); print(b.BANK_DIR); print(len(b.load_bank()))"
)


def test_a_wheel_carries_the_bank_and_the_terminal_quiz_runs_from_it(tmp_path):
    source = _copy_sources(tmp_path / "src")
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--quiet", "--wheel-dir", str(tmp_path / "dist"),
         str(source)]
    )  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("hpcourse-*.whl")
    python = _fresh_venv(tmp_path / "venv")
    _install(python, wheel)
    shutil.rmtree(source)  # nothing may fall back to a source tree

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _clean_env(tmp_path)
    where = _run([str(python), "-c", LOCATE], cwd=elsewhere, env=env).stdout.split("\n")
    venv = str(tmp_path / "venv")
    assert where[0].startswith(venv), where  # the installed package, not this checkout
    assert where[1].startswith(venv) and where[1].endswith("hpcourse/_bank"), where
    assert int(where[2]) == len(bank_module.load_bank())

    quiz = _run(
        [str(python), "-m", "hpcourse.quiz", "--level", "easy", "--n", "1", "--seed", "0"],
        input="q\n",
        cwd=elsewhere,
        env=env,
    )
    assert "hpcourse quiz: 1 question(s)" in quiz.stdout
    assert "[1/1] easy" in quiz.stdout and "Your answer" in quiz.stdout
    assert "Stopping early." in quiz.stdout


def test_an_editable_install_maps_the_bank_folder(tmp_path):
    """A fresh editable install finds the bank through the data package, in place."""
    source = _copy_sources(tmp_path / "src")
    build = (
        "import sys; from setuptools import build_meta as b; "
        f"print(b.build_editable({str(tmp_path / 'dist')!r}))"
    )
    _run([sys.executable, "-c", build], cwd=source)
    (wheel,) = (tmp_path / "dist").glob("hpcourse-*.whl")
    python = _fresh_venv(tmp_path / "venv")
    _install(python, wheel)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    locate = "import importlib.resources as r; print(r.files('hpcourse._bank')); " + LOCATE
    where = _run([str(python), "-c", locate], cwd=elsewhere, env=_clean_env(tmp_path)).stdout
    lines = where.split("\n")
    assert lines[0] == str(source / "interview_questions")
    assert lines[1] == str(source / "hpcourse" / "__init__.py")
    assert lines[2] == str(source / "interview_questions")
