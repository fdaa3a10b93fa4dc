"""Check that the bank's demo links point at real notebooks and real tagged cells.

A question may say "notebook 02, cell ``lr-sweep`` demonstrates this". Notebooks
are edited by other people, so these checks read the notebooks as they are on disk
(plain JSON, no Jupyter needed) and report every broken link in words. They take the
notebooks directory as an argument so tests can run them on small throwaway
notebooks as well as on the real ``notebooks/`` folder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from hpcourse.quiz.bank import Question

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"


def notebook_names(notebooks_dir: Path) -> list[str]:
    """Names (without ``.ipynb``) of the numbered course notebooks in ``notebooks_dir``."""
    return sorted(
        path.stem
        for path in Path(notebooks_dir).glob("*.ipynb")
        if path.stem[:2].isdigit() and not path.name.startswith(".")
    )


def cell_tags(notebook_path: Path) -> set[str]:
    """Every tag found in the ``metadata.tags`` of the notebook's cells."""
    with Path(notebook_path).open(encoding="utf-8") as handle:
        notebook = json.load(handle)
    tags: set[str] = set()
    for cell in notebook.get("cells", []):
        tags.update(cell.get("metadata", {}).get("tags", []))
    return tags


def broken_links(questions: Sequence[Question], notebooks_dir: Path) -> list[str]:
    """One message per question whose notebook is missing or whose cell tag is absent."""
    problems: list[str] = []
    tags_cache: dict[str, set[str] | None] = {}
    for question in questions:
        if question.notebook is None:
            continue
        if question.notebook not in tags_cache:
            path = Path(notebooks_dir) / f"{question.notebook}.ipynb"
            tags_cache[question.notebook] = cell_tags(path) if path.exists() else None
        tags = tags_cache[question.notebook]
        if tags is None:
            problems.append(
                f"{question.id}: notebook {question.notebook}.ipynb does not exist "
                f"in {notebooks_dir}"
            )
        elif question.cell not in tags:
            problems.append(
                f"{question.id}: no cell tagged {question.cell!r} in {question.notebook}.ipynb"
            )
    return problems


def unlinked_notebooks(questions: Sequence[Question], notebooks_dir: Path) -> list[str]:
    """Course notebooks in ``notebooks_dir`` that no question links to."""
    linked = {q.notebook for q in questions}
    return [name for name in notebook_names(notebooks_dir) if name not in linked]
