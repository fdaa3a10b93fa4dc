"""Progress bars show while a loop runs and leave nothing behind in a saved notebook."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from hpcourse.progress import in_notebook, progress


def test_outside_a_notebook_it_is_a_plain_iteration(capsys):
    assert not in_notebook()
    assert list(progress(range(4), desc="x")) == [0, 1, 2, 3]
    assert list(progress(range(2), enabled=False)) == [0, 1]


def test_an_executed_notebook_keeps_no_finished_bar():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "import hpcourse as hp\n"
            "data = hp.load_dataset('digits')\n"
            "runs = hp.train_many([{'epochs': 1, 'lr': lr} for lr in (0.1, 0.2)], data)\n"
            "h = hp.train({'epochs': 2}, data, progress=True)\n"
            "print('done', len(runs))"
        )
    ]
    client = NotebookClient(nb, timeout=300, kernel_name="python3")
    try:
        client.execute()
    except RuntimeError as err:  # pragma: no cover - kernel missing on an odd machine
        pytest.skip(f"no kernel: {err}")
    outputs = nb.cells[0].outputs
    text = json.dumps(outputs)
    assert "done 2" in text
    shown = [o for o in outputs if o.get("output_type") in ("display_data", "update_display_data")]
    assert shown, "the bars should have been displayed while the loops ran"
    for output in shown:  # each bar's display was replaced by an empty output
        assert output["data"] == {"text/plain": ""}, output
    assert "it/s" not in text and "0%|" not in text
