"""The question bank as package data.

This folder is the only copy of ``bank.yaml`` and ``schema.json`` in the repository.
A build installs it as the package ``hpcourse._bank`` (``[tool.setuptools]`` in
``pyproject.toml``), so ``importlib.resources.files("hpcourse._bank")`` finds the bank
in a wheel as well as in an editable install. There is no code here.
"""
