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


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[_name(name)] = version
    return pins


def test_constraints_satisfy_pyproject_and_environment_yml():
    """One environment described three times: the exact pins must lie inside the ranges
    that pyproject.toml (pip) and environment.yml (conda) allow."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    pins = _pins()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            wanted += [r for r in dep["pip"] if not r.startswith("-e")]
        elif _name(dep) not in ("python", "pip"):
            name = _name(dep)
            wanted.append(CONDA_TO_PYPI.get(name, name) + dep[len(name) :])
    for text in wanted:
        requirement = Requirement(text)
        name = _name(requirement.name)
        assert name in pins, f"constraints.txt does not pin {name}"
        assert Version(pins[name]) in requirement.specifier, (text, pins[name])


def test_torch_and_torchvision_are_a_matching_pair():
    """torchvision 0.N is built for torch 2.(N - 15): 0.29 for 2.14, 0.24 for 2.9."""
    from packaging.version import Version

    pins = _pins()
    torch, vision = Version(pins["torch"]), Version(pins["torchvision"])
    assert (torch.major, torch.minor) == (2, vision.minor - 15), (torch, vision)


def test_the_installed_environment_is_the_pinned_one():
    from importlib import metadata

    for name, version in _pins().items():
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue  # platform-specific pins (e.g. CUDA wheels) may be absent
        pinned = installed.split("+")[0] == version
        assert pinned, f"{name}: installed {installed}, pinned {version}"


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


def test_syllabus_times_are_the_notebooks_own_estimates():
    """The README's time column repeats each notebook's **Time** line, so the two agree."""
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        first = "".join(json.loads(path.read_text())["cells"][0]["source"])
        stated = re.search(r"\*\*Time\*?\*?:?\*?\*?\s*about (\d+) minutes", first)
        assert stated, f"{path.name}: its first cell states no time ('**Time:** about N minutes')"
        row = re.search(rf"^\| \[{re.escape(path.name)}\].*\| (\d+) min[^|]*\|$", readme, re.M)
        assert row, f"README's syllabus has no row with a time for {path.name}"
        assert row.group(1) == stated.group(1), (
            f"{path.name}: README says {row.group(1)} min, the notebook says {stated.group(1)}"
        )


def test_top_level_names_match_their_modules():
    import hpcourse

    assert sorted(hpcourse.__all__) == sorted(hpcourse._EXPORTS)
    for name in hpcourse.__all__:
        assert getattr(hpcourse, name).__module__.startswith("hpcourse.")
