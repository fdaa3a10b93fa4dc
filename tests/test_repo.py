"""Repository hygiene: notebooks without outputs, one environment described twice alike,
and the README's two commands wired to the Makefile and CI."""

import json
import re
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))

# conda-forge names that differ from PyPI names
CONDA_TO_PYPI = {"pytorch": "torch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebooks_are_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    for i, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs"), f"{path.name} cell {i} has stored outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {i} has a count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebooks_are_numbered_and_seed_once(path):
    assert re.fullmatch(r"\d\d_[a-z0-9_]+\.ipynb", path.name)
    sources = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]
    code = [
        s
        for s, c in zip(sources, json.loads(path.read_text())["cells"], strict=True)
        if c["cell_type"] == "code"
    ]
    assert sum("hp.setup(" in s for s in code) == 1, "seed once, in the setup cell"
    assert not any("torch.manual_seed(" in s or "np.random.seed(" in s for s in code)


def test_environment_yml_and_pyproject_name_the_same_packages():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pip_names = {_name(r) for r in project["dependencies"]}
    pip_names |= {_name(r) for r in project["optional-dependencies"]["dev"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            conda_names |= {_name(r) for r in dep["pip"] if not r.startswith("-e")}
        elif _name(dep) not in ("python", "pip"):
            conda_names.add(CONDA_TO_PYPI.get(_name(dep), _name(dep)))
    assert conda_names == pip_names


def test_constraints_pin_every_dependency_and_the_torch_pair():
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_name(name)] = version
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    assert {_name(r) for r in wanted} <= set(pins)
    assert pins["torch"] == "2.14.1" and pins["torchvision"] == "0.29.1"


def test_readme_commands_exist_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text()
    makefile = (ROOT / "Makefile").read_text()
    assert "make lab" in readme and "make test" in readme
    for target in ("lab", "test", "bench", "questions"):
        assert re.search(rf"^{target}:", makefile, re.M), f"Makefile lacks the {target} target"
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)
    for path in NOTEBOOKS:  # the syllabus lists every notebook
        assert path.stem[:2] in readme and path.name in readme, f"README misses {path.name}"


def test_top_level_names_match_their_modules():
    import hpcourse

    assert sorted(hpcourse.__all__) == sorted(hpcourse._EXPORTS)
    for name in hpcourse.__all__:
        assert getattr(hpcourse, name).__module__.startswith("hpcourse.")
