"""docs/claims.md is the record of the last `make claims`: it must list every claim check of
every notebook as it stands now, with the faults it names, all caught and all seeds held.
Editing a claim without re-running `make claims` fails here."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import claims  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DOC = ROOT / "docs" / "claims.md"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_claim_cells_follow_the_format(path):
    notebook = claims.parse_notebook(path)
    assert notebook.problems == []
    assert notebook.claims, f"{path.name} makes no claim check"


def _rows() -> dict[tuple[str, int], list[str]]:
    rows = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 6 and cells[1].isdigit():
            rows[(cells[0], int(cells[1]))] = cells
    return rows


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_the_claims_table_is_up_to_date_and_green(path):
    rows = _rows()
    for claim in claims.parse_notebook(path).claims:
        row = rows.get((claim.notebook, claim.code_cell))
        assert row is not None, f"{claim.key} is missing from docs/claims.md: run make claims"
        text = claim.text.replace("|", "\\|")
        assert row[2] == text, f"{claim.key} changed since make claims ran: {row[2]!r}"
        caught = [f.strip() for f in row[3].split(",")]
        assert caught == claim.catches, f"{claim.key}: caught {row[3]!r}, names {claim.catches}"
        held = row[5]
        assert "NOT" not in held, f"{claim.key}: seeds held {held!r}"
        assert {"1", "2", "3"} <= set(held.split(", ")), f"{claim.key}: seeds held {held!r}"
