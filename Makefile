# Two commands a learner needs:  make lab   (set up, open the course)
#                                make test  (set up, run every test)
# Everything installs into .venv inside this folder, with the exact versions in
# constraints.txt, so the course never touches your system Python.

PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python
STAMP   = $(VENV)/.hpcourse-installed
PORT   ?= 8888
LINTED  = hpcourse tests benchmarks tools notebooks
# Jupyter refuses to run as root unless told; containers and CI machines often are root.
LAB_ARGS = $(if $(NO_BROWSER),--no-browser --ServerApp.port=$(PORT),) \
           $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: setup lab test claims lint format bench questions clean workshop-server slides book cheatsheet

$(STAMP): pyproject.toml constraints.txt tools/jupyterlab-overrides.json
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "hpcourse needs Python 3.11 or newer; run make PYTHON=python3.11 ..."'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# PYTHONWARNINGS: setuptools warns about every editable install whose package data
	@# lives outside the package folder (the question bank, interview_questions/); harmless.
	PYTHONWARNINGS=ignore $(PY) -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name hpcourse --display-name "Python (hpcourse)"
	@# no "get notified about Jupyter news?" pop-up over a learner's first notebook
	mkdir -p $(VENV)/share/jupyter/lab/settings
	cp tools/jupyterlab-overrides.json $(VENV)/share/jupyter/lab/settings/overrides.json
	touch $(STAMP)

setup: $(STAMP)  ## create .venv and install the course

lab: setup  ## open the course in JupyterLab (NO_BROWSER=1 for a headless server)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

test: setup  ## unit tests, every notebook through nbval, question-bank checks, lint, types
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)
	$(VENV)/bin/mypy
	$(PY) -m pytest

claims: setup  ## every claim check on seeds 1-3 and under each fault it names; writes docs/claims.md
	$(PY) tools/claims.py

lint: setup
	$(VENV)/bin/ruff check $(LINTED)

format: setup  ## apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff check --fix $(LINTED)
	$(VENV)/bin/ruff format $(LINTED)

bench: setup  ## time hpcourse's trainer and a 64-run sweep four ways (ratios, not unit tests)
	$(PY) benchmarks/bench_trainer.py
	$(PY) benchmarks/bench_sweep.py

questions: setup  ## re-render interview_questions/*.md from bank.yaml
	$(PY) -m hpcourse.quiz.render

workshop-server: setup  ## capstone workshop: PostgreSQL + optuna-dashboard; prints the participants' URL (Ctrl-C stops both)
	$(PY) -m hpcourse.workshop $(WORKSHOP_ARGS)

slides: setup  ## build/slides/: reveal.js slides per notebook (text + figures tagged 'slide'), offline
	$(PY) tools/kit.py slides

book: cheatsheet  ## build/book/: every notebook executed, as HTML pages with an index, offline
	$(PY) tools/kit.py book

cheatsheet: setup  ## docs/cheatsheet.md and a printable build/book/cheatsheet.html, from hpcourse/cheatsheet.py
	$(PY) -m hpcourse.cheatsheet --markdown docs/cheatsheet.md --html build/book/cheatsheet.html

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
